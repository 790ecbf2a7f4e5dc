"""Where the real datasets come from, and the Keras cache they are kept in.

RemoteFile, REMOTE_FILES   each file's cache name, official origin and pinned hash
fetch(key)                 a file's local path; downloaded once with `keras.utils.get_file`
seed_cache(source)         copies genuine files from a local folder, for machines offline
keras_home, cache_dir      `$KERAS_HOME` (default `~/.keras`) and its `datasets/` folder
DatasetUnavailableError    no cached copy and no download
"""

import contextlib
import dataclasses
import hashlib
import os
import shutil
import warnings

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

import keras


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One file the course downloads: its cache name, origin and pinned hash."""

    fname: str
    origin: str
    file_hash: str
    hash_algorithm: str = "sha256"
    extract: bool = False


REMOTE_FILES = {
    "airline_passengers": RemoteFile(
        "airline-passengers.csv",
        "https://raw.githubusercontent.com/jbrownlee/Datasets/master/airline-passengers.csv",
        "8cb51be753a718d9be5d76d7e238cc224792754676adc21faa59e954b0201621",
    ),
    "daily_min_temperatures": RemoteFile(
        "daily-min-temperatures.csv",
        "https://raw.githubusercontent.com/jbrownlee/Datasets/master/daily-min-temperatures.csv",
        "8b9de63ed6789492bf497625e7f9beb96a63d367b4b0a21754006f749fa5e5da",
    ),
    "monthly_sunspots": RemoteFile(
        "monthly-sunspots.csv",
        "https://raw.githubusercontent.com/jbrownlee/Datasets/master/monthly-sunspots.csv",
        "c4ec8cc57d9f6fb6ecdb3e1f37f25b6f4badd5124c55931052b0cd2fc3bc71f3",
    ),
    "sentence_polarity": RemoteFile(
        "rt-polaritydata.tar.gz",
        "http://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz",
        "a05befe52aafda71d458d188a1c54506a998b1308613ba76bbda2e5029409ce9",
        extract=True,
    ),
    "spa_eng": RemoteFile(
        "spa-eng.zip",
        "http://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip",
        "0c4fd7825d3d872488d38c157f784e035edab4f2ff0df25a2a208790ecb5b58f",
        extract=True,
    ),
    # Keras's own IMDB arrays, with the sha256 that keras.datasets.imdb pins.
    "imdb": RemoteFile(
        "imdb.npz",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz",
        "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
    ),
}


class DatasetUnavailableError(OSError):
    """A dataset is neither in the Keras cache nor downloadable right now."""


def keras_home():
    """`$KERAS_HOME`, else `~/.keras`, read now (Keras reads it once, at import)."""
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def cache_dir():
    """The folder the loaders cache datasets in: `$KERAS_HOME/datasets`."""
    return os.path.join(keras_home(), "datasets")


def _file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(key):
    """Downloads (or finds in the cache) one of `REMOTE_FILES`; returns its local path.

    For archives, the path of the extracted folder.

    Raises:
        ValueError: the cached copy's hash, or the downloaded file's, is not the pinned
            one (the message names both hashes).
        DatasetUnavailableError: no cached copy and the download failed.
    """
    if key not in REMOTE_FILES:
        raise ValueError(f"Unknown dataset {key!r}; expected one of {sorted(REMOTE_FILES)}.")
    remote = REMOTE_FILES[key]
    cached = os.path.join(cache_dir(), remote.fname)
    was_cached = os.path.exists(cached)
    if was_cached:
        actual = _file_digest(cached, remote.hash_algorithm)
        if actual != remote.file_hash:
            raise ValueError(
                f"The cached file {cached} has {remote.hash_algorithm} {actual}, expected "
                f"{remote.file_hash}: it is damaged or not the genuine file. Delete it to "
                f"download again from {remote.origin}, or put a genuine copy there."
            )
    if not remote.extract:
        return _get_file(remote, cached, was_cached)
    # Keras extracts an archive again on every call, over the files already there, so a
    # notebook running beside this one could read a half-written file. The archive is
    # extracted once, under a lock, and from then on a marker names the folder.
    os.makedirs(cache_dir(), exist_ok=True)
    marker = os.path.join(cache_dir(), f".{remote.fname}.extracted")
    with _locked(marker + ".lock"):
        folder = _extracted_folder(marker, remote.file_hash)
        if folder is None:
            folder = _get_file(remote, cached, was_cached)
            with open(marker, "w", encoding="utf-8") as f:
                f.write(f"{remote.file_hash}\n{folder}\n")
    return folder


def _extracted_folder(marker, file_hash):
    """The folder `marker` names, if it was extracted from the archive with `file_hash`."""
    try:
        with open(marker, encoding="utf-8") as f:
            written_hash, folder = f.read().splitlines()[:2]
    except (OSError, ValueError):
        return None
    return folder if written_hash == file_hash and os.path.isdir(folder) else None


@contextlib.contextmanager
def _locked(path):
    """Holds an exclusive lock on `path` (POSIX; elsewhere no lock)."""
    with open(path, "a", encoding="utf-8") as f:
        if fcntl is not None:
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(f, fcntl.LOCK_UN)


def _get_file(remote, cached, was_cached):
    """`keras.utils.get_file` for `remote`, with the errors `fetch` documents."""
    try:
        return keras.utils.get_file(
            fname=remote.fname,
            origin=remote.origin,
            file_hash=remote.file_hash,
            hash_algorithm=remote.hash_algorithm,
            extract=remote.extract,
            cache_dir=keras_home(),  # the folder cache_dir() names, whenever KERAS_HOME was set
            cache_subdir="datasets",
        )
    except Exception as error:
        if not was_cached and os.path.exists(cached):
            # The download arrived, so this is not a network problem: Keras found the
            # bytes differ from the pinned hash (and left them in the cache).
            actual = _file_digest(cached, remote.hash_algorithm)
            if actual != remote.file_hash:
                os.remove(cached)
                raise ValueError(
                    f"Downloaded {remote.fname} from {remote.origin}, but its "
                    f"{remote.hash_algorithm} is {actual}, expected {remote.file_hash}: the "
                    "origin no longer serves the genuine file, or the download was altered. "
                    f"It was not kept. {_offline_advice(remote)}"
                ) from None
        raise DatasetUnavailableError(
            f"Could not download {remote.fname} from {remote.origin} ({error}). "
            + _offline_advice(remote)
        ) from None


def _offline_advice(remote):
    return (
        f"Without internet, seed the cache from a folder that holds a genuine copy of "
        f"{remote.fname} (e.g. the course's shared data): `python3 run.py seed-cache DIR` "
        f"copies it into {cache_dir()}, and `python3 run.py course --data DIR` does the same "
        "before it runs the course. data/README.md lists every file and its hash."
    )


def seed_cache(source, destination=None):
    """Copies the course's dataset files found under `source` into the Keras cache.

    Files are matched by name and must have the pinned hash; a file with a known
    name and another hash is not copied, with a warning naming it.

    Args:
        source: A folder searched recursively (e.g. a copy of `shared/data`).
        destination: The cache folder; default `cache_dir()`.

    Returns:
        The list of copied file names.

    Raises:
        FileNotFoundError: `source` is not a folder.
    """
    if not os.path.isdir(source):
        raise FileNotFoundError(f"No folder {source} to seed the dataset cache from.")
    destination = destination or cache_dir()
    wanted = {remote.fname: remote for remote in REMOTE_FILES.values()}
    os.makedirs(destination, exist_ok=True)
    copied, damaged = [], []
    for folder, _, files in os.walk(source):
        for name in sorted(files):
            remote = wanted.get(name)
            if remote is None:
                continue
            path = os.path.join(folder, name)
            if _file_digest(path, remote.hash_algorithm) == remote.file_hash:
                shutil.copyfile(path, os.path.join(destination, name))
                copied.append(name)
            else:
                damaged.append(path)
    if damaged:
        warnings.warn(
            f"Not copied, the hash is not the pinned one (damaged or not the genuine "
            f"file): {', '.join(damaged)}.",
            stacklevel=2,
        )
    return sorted(set(copied))
