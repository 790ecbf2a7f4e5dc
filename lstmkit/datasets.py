"""The course's data: seeded synthetic tasks, and real datasets loaded the real way.

Synthetic (`make_*`, NumPy, deterministic under `seed`):
    make_sine            a sine wave, optionally noisy                  (length,)
    make_adding_problem  Hochreiter & Schmidhuber's adding problem      x (n, length, 2), y (n, 1)
    make_tagging_task    per-step tags that need the next step          x (n, length), y (n, length)
    make_dates           human-written dates and their ISO form         two lists of n strings

Real (`load_*`): each file is downloaded once from its official origin with
`keras.utils.get_file` and a pinned SHA-256 into the Keras cache
(`$KERAS_HOME/datasets`, default `~/.keras/datasets`). `seed_cache` copies files
from a local folder into that cache, for machines without internet.
    load_airline_passengers, load_daily_min_temperatures, load_monthly_sunspots   Series
    load_sentence_polarity   {"train"|"validation"|"test": (texts, labels)}
    load_spa_eng             {"train"|"validation"|"test": (english, spanish)}
    load_imdb                keras.datasets.imdb (needs the network the first time)

Helpers: `chronological_split`, `Scaler`, `make_windows`, `prepare_series` for time
series; `CharVocabulary` for the dates; `make_text_vectorizer` for sentences.
"""

import csv
import dataclasses
import datetime
import hashlib
import os
import shutil

import keras
import numpy as np

SPLITS = ("train", "validation", "test")


# ----------------------------------------------------------------------------
# Argument checks
# ----------------------------------------------------------------------------


def _positive_int(name, value, minimum=1):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"Argument `{name}` must be an integer >= {minimum}, received {value!r}.")
    return int(value)


def _fraction(name, value):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"Argument `{name}` must be a fraction in [0, 1), received {value!r}.")
    return float(value)


def _split_fractions(validation_fraction, test_fraction):
    validation_fraction = _fraction("validation_fraction", validation_fraction)
    test_fraction = _fraction("test_fraction", test_fraction)
    if validation_fraction + test_fraction >= 1:
        raise ValueError(
            "`validation_fraction + test_fraction` must leave data to train on, received "
            f"{validation_fraction} + {test_fraction}."
        )
    return validation_fraction, test_fraction


# ----------------------------------------------------------------------------
# Synthetic tasks
# ----------------------------------------------------------------------------


def make_sine(length=1000, period=50.0, amplitude=1.0, noise_std=0.0, seed=0):
    """A sine wave `amplitude * sin(2 pi t / period)` plus Gaussian noise.

    Returns:
        float32 array `(length,)`.
    """
    length = _positive_int("length", length, minimum=2)
    if not period > 0:
        raise ValueError(f"Argument `period` must be positive, received {period!r}.")
    if noise_std < 0:
        raise ValueError(f"Argument `noise_std` must be >= 0, received {noise_std!r}.")
    t = np.arange(length)
    wave = amplitude * np.sin(2 * np.pi * t / period)
    noise = np.random.default_rng(seed).normal(0.0, noise_std, size=length) if noise_std else 0.0
    return (wave + noise).astype("float32")


def make_adding_problem(num_samples, length=100, seed=0):
    """The adding problem (Hochreiter & Schmidhuber, 1997).

    Each step holds a pair (value, marker): values are uniform in [0, 1], and
    exactly two markers are 1, one in each half of the sequence. The target is
    the sum of the two marked values. Always answering the mean (1.0) scores an
    MSE of Var(U1 + U2) = 1/6 = 0.167; to do better, a model must carry the first
    marked value across at least half the sequence.

    Returns:
        x: float32 `(num_samples, length, 2)`; y: float32 `(num_samples, 1)`.
    """
    num_samples = _positive_int("num_samples", num_samples)
    length = _positive_int("length", length, minimum=2)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(num_samples, length))  # (n, length)
    half = length // 2
    first = rng.integers(0, half, size=num_samples)  # (n,)
    second = rng.integers(half, length, size=num_samples)  # (n,)
    markers = np.zeros((num_samples, length))
    rows = np.arange(num_samples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1).astype("float32")  # (n, length, 2)
    y = (values[rows, first] + values[rows, second])[:, None].astype("float32")  # (n, 1)
    return x, y


def make_tagging_task(num_samples, length=20, num_classes=4, min_length=None, seed=0):
    """Tag each token with the sum of its two neighbours, modulo `num_classes`.

    Tokens are 1..num_classes (0 is padding). The tag of step t is
    `(v[t-1] + v[t+1]) % num_classes`, where `v = token - 1` and a missing
    neighbour (before the start or after the end) counts as 0. The next token
    is drawn independently of everything before it, so a model that reads left
    to right cannot know `v[t+1]` and scores `1 / num_classes` at best; one that
    also reads right to left can score 100%.

    Args:
        num_samples: Number of sequences.
        length: Padded length of every sequence.
        num_classes: Number of token values and of tags.
        min_length: If given, each sequence's real length is drawn from
            `[min_length, length]` and the rest is padded with 0 on the right
            (tags of padded steps are 0 and should be masked).
        seed: Seed.

    Returns:
        x: int32 `(num_samples, length)`; y: int32 `(num_samples, length)`;
        lengths: int32 `(num_samples,)`.
    """
    num_samples = _positive_int("num_samples", num_samples)
    length = _positive_int("length", length, minimum=2)
    num_classes = _positive_int("num_classes", num_classes, minimum=2)
    if min_length is None:
        min_length = length
    min_length = _positive_int("min_length", min_length, minimum=2)
    if min_length > length:
        raise ValueError(f"`min_length` ({min_length}) must be <= `length` ({length}).")
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_length, length + 1, size=num_samples)  # (n,)
    values = rng.integers(0, num_classes, size=(num_samples, length))  # (n, length)
    steps = np.arange(length)
    real = steps[None, :] < lengths[:, None]  # (n, length) True on real tokens
    values = np.where(real, values, 0)
    previous = np.pad(values, ((0, 0), (1, 0)))[:, :-1]  # v[t-1], 0 before the start
    following = np.pad(values, ((0, 0), (0, 1)))[:, 1:]  # v[t+1], 0 after the end
    following = np.where(steps[None, :] + 1 < lengths[:, None], following, 0)
    tags = np.where(real, (previous + following) % num_classes, 0)
    tokens = np.where(real, values + 1, 0)
    return tokens.astype("int32"), tags.astype("int32"), lengths.astype("int32")


_DATE_FORMATS = (
    "{d} {B} {Y}",  # 3 March 2021
    "{d} {b} {Y}",  # 3 Mar 2021
    "{B} {d}, {Y}",  # March 3, 2021
    "{b} {d} {Y}",  # Mar 3 2021
    "{a}, {b} {d} {Y}",  # Wed, Mar 3 2021
    "{A} {d} {B} {Y}",  # Wednesday 3 March 2021
    "{dd}/{mm}/{yy}",  # 03/03/21
    "{dd}/{mm}/{Y}",  # 03/03/2021
    "{dd}.{mm}.{Y}",  # 03.03.2021
    "{Y}/{mm}/{dd}",  # 2021/03/03
    "{d}-{b}-{Y}",  # 3-Mar-2021
    "{dd}{b}{Y}",  # 03Mar2021 (no spaces)
    "{b_lower} {d} {Y}",  # mar 3 2021
    "{B_upper} {d}, {Y}",  # MARCH 3, 2021
)


def make_dates(
    num_samples, seed=0, start=datetime.date(1950, 1, 1), end=datetime.date(2049, 12, 31)
):
    """Dates written in many human formats, and the same dates as ISO `YYYY-MM-DD`.

    Formats include "3 March 2021", "Mar 3 2021", "Wed, Mar 3 2021", "03/03/21"
    (day first), "2021/03/03" and "03Mar2021". Two-digit years are read as
    1950-2049, so every input names exactly one date in [start, end].

    Returns:
        inputs: list of `num_samples` human-written dates;
        targets: list of the same dates as ISO strings.
    """
    num_samples = _positive_int("num_samples", num_samples)
    if not start < end:
        raise ValueError(f"`start` ({start}) must be before `end` ({end}).")
    rng = np.random.default_rng(seed)
    span = (end - start).days + 1
    offsets = rng.integers(0, span, size=num_samples)
    formats = rng.integers(0, len(_DATE_FORMATS), size=num_samples)
    inputs, targets = [], []
    for offset, fmt in zip(offsets, formats):
        date = start + datetime.timedelta(days=int(offset))
        month, weekday = date.strftime("%B"), date.strftime("%A")
        fields = {
            "d": str(date.day),
            "dd": f"{date.day:02d}",
            "mm": f"{date.month:02d}",
            "Y": str(date.year),
            "yy": f"{date.year % 100:02d}",
            "B": month,
            "b": month[:3],
            "b_lower": month[:3].lower(),
            "B_upper": month.upper(),
            "A": weekday,
            "a": weekday[:3],
        }
        inputs.append(_DATE_FORMATS[fmt].format(**fields))
        targets.append(date.isoformat())
    return inputs, targets


class CharVocabulary:
    """Characters to integer ids and back, with padding, start and end tokens.

    Id 0 is padding, 1 the start token, 2 the end token, 3 an unknown character;
    the characters follow in the order given.

    Args:
        characters: The characters the vocabulary knows (a string or iterable).
    """

    PAD, START, END, UNKNOWN = 0, 1, 2, 3

    def __init__(self, characters):
        characters = list(dict.fromkeys(characters))  # unique, order kept
        if not characters:
            raise ValueError("Argument `characters` must not be empty.")
        self.characters = characters
        self.index = {c: i + 4 for i, c in enumerate(characters)}

    def __len__(self):
        return len(self.characters) + 4

    def encode(self, texts, length, start=False, end=False):
        """int32 `(len(texts), length)`: ids, then padding; too-long texts are cut."""
        length = _positive_int("length", length)
        ids = np.zeros((len(texts), length), dtype="int32")
        for row, text in enumerate(texts):
            seq = ([self.START] if start else []) + [self.index.get(c, self.UNKNOWN) for c in text]
            seq += [self.END] if end else []
            seq = seq[:length]
            ids[row, : len(seq)] = seq
        return ids

    def decode(self, ids):
        """Strings from ids `(batch, length)`: stops at the end token, skips padding and start."""
        texts = []
        for row in np.asarray(ids):
            chars = []
            for i in row:
                i = int(i)
                if i == self.END:
                    break
                if i in (self.PAD, self.START):
                    continue
                chars.append("?" if i == self.UNKNOWN else self.characters[i - 4])
            texts.append("".join(chars))
        return texts


def date_vocabularies():
    """(input vocabulary, target vocabulary) for `make_dates`."""
    import string

    source = string.ascii_letters + string.digits + " ,./-"
    return CharVocabulary(source), CharVocabulary("0123456789-")


# ----------------------------------------------------------------------------
# Real datasets: where they come from, and the Keras cache
# ----------------------------------------------------------------------------


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
    # Keras's own IMDB word index, with the md5 that keras.datasets.imdb pins.
    "imdb_word_index": RemoteFile(
        "imdb_word_index.json",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json",
        "bfafd718b763782e994055a2d397834f",
        hash_algorithm="md5",
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
        ValueError: the cached copy's hash is not the pinned one.
        DatasetUnavailableError: no cached copy and the download failed.
    """
    if key not in REMOTE_FILES:
        raise ValueError(f"Unknown dataset {key!r}; expected one of {sorted(REMOTE_FILES)}.")
    remote = REMOTE_FILES[key]
    cached = os.path.join(cache_dir(), remote.fname)
    if os.path.exists(cached):
        actual = _file_digest(cached, remote.hash_algorithm)
        if actual != remote.file_hash:
            raise ValueError(
                f"The cached file {cached} has {remote.hash_algorithm} {actual}, expected "
                f"{remote.file_hash}: it is damaged or not the genuine file. Delete it to "
                f"download again from {remote.origin}, or put a genuine copy there."
            )
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
        raise DatasetUnavailableError(
            f"Could not download {remote.fname} from {remote.origin} ({error}). Without "
            f"internet, put a genuine copy of {remote.fname} into {cache_dir()} "
            "(see data/README.md, or `python3 run.py seed-cache FOLDER`)."
        ) from None


def seed_cache(source, destination=None):
    """Copies the course's dataset files found under `source` into the Keras cache.

    Files are matched by name and must have the pinned hash; others are ignored.

    Args:
        source: A folder searched recursively (e.g. a copy of `shared/data`).
        destination: The cache folder; default `cache_dir()`.

    Returns:
        The list of copied file names.
    """
    destination = destination or cache_dir()
    wanted = {remote.fname: remote for remote in REMOTE_FILES.values()}
    os.makedirs(destination, exist_ok=True)
    copied = []
    for folder, _, files in os.walk(source):
        for name in sorted(files):
            remote = wanted.get(name)
            path = os.path.join(folder, name)
            if remote and _file_digest(path, remote.hash_algorithm) == remote.file_hash:
                shutil.copyfile(path, os.path.join(destination, name))
                copied.append(name)
    return sorted(set(copied))


# ----------------------------------------------------------------------------
# Real datasets: time series
# ----------------------------------------------------------------------------


@dataclasses.dataclass
class Series:
    """A univariate time series: `dates` (datetime64[D], (n,)) and `values` (float32, (n,))."""

    name: str
    dates: np.ndarray
    values: np.ndarray
    unit: str
    period: int  # the seasonal period in steps (12 for monthly data, 365 for daily)

    def __len__(self):
        return len(self.values)


def _read_csv_series(key, name, unit, period, month=False):
    path = fetch(key)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]  # skip the header
    dates = np.array([r[0] + ("-01" if month else "") for r in rows], dtype="datetime64[D]")
    values = np.array([float(r[1]) for r in rows], dtype="float32")
    return Series(name, dates, values, unit, period)


def load_airline_passengers():
    """Monthly international airline passengers, 1949-01 to 1960-12 (Box & Jenkins, 1976).

    Returns:
        `Series` of 144 months, in thousands of passengers, period 12.
    """
    return _read_csv_series("airline_passengers", "airline passengers", "thousands", 12, month=True)


def load_daily_min_temperatures():
    """Daily minimum temperature in Melbourne, 1981-01-01 to 1990-12-31.

    Returns:
        `Series` of 3,650 days (1984-12-31 and 1988-12-31 are missing in the
        source), in degrees Celsius, period 365.
    """
    return _read_csv_series("daily_min_temperatures", "Melbourne daily minimum", "°C", 365)


def load_monthly_sunspots():
    """Monthly mean sunspot number (Zurich), 1749-01 to 1983-12.

    Returns:
        `Series` of 2,820 months, period 132 (the ~11-year solar cycle).
    """
    return _read_csv_series("monthly_sunspots", "monthly sunspots", "sunspots", 132, month=True)


# ----------------------------------------------------------------------------
# Real datasets: text
# ----------------------------------------------------------------------------


def _shuffled_splits(columns, validation_fraction, test_fraction, seed):
    """Shuffles aligned columns with `seed` and cuts them into train/validation/test."""
    validation_fraction, test_fraction = _split_fractions(validation_fraction, test_fraction)
    n = len(columns[0])
    order = np.random.default_rng(seed).permutation(n)
    n_test, n_validation = int(round(n * test_fraction)), int(round(n * validation_fraction))
    parts = {
        "test": order[:n_test],
        "validation": order[n_test : n_test + n_validation],
        "train": order[n_test + n_validation :],
    }
    return {
        split: tuple(np.asarray(column)[index] for column in columns)
        for split, index in parts.items()
    }


def load_sentence_polarity(validation_fraction=0.1, test_fraction=0.1, seed=0):
    """Sentence polarity dataset v1.0 (Pang & Lee, 2005): movie-review snippets.

    5,331 positive and 5,331 negative sentences, lower-cased and tokenised by the
    authors. The files are Windows-1252 text, decoded as such.

    Args:
        validation_fraction, test_fraction: Shares of the 10,662 sentences.
        seed: Seed of the shuffle before the split (the split is deterministic).

    Returns:
        `{"train": (texts, labels), "validation": ..., "test": ...}`: texts an
        array of str, labels int32 (1 positive, 0 negative).
    """
    folder = os.path.join(fetch("sentence_polarity"), "rt-polaritydata")
    texts, labels = [], []
    for label, fname in ((1, "rt-polarity.pos"), (0, "rt-polarity.neg")):
        with open(os.path.join(folder, fname), "rb") as f:
            # Split on bytes: 0x85 decodes to U+2026 in cp1252, but str.splitlines
            # would break on it under latin-1.
            lines = [line.decode("cp1252").strip() for line in f.read().split(b"\n")]
        lines = [line for line in lines if line]
        texts += lines
        labels += [label] * len(lines)
    return _shuffled_splits(
        [np.array(texts, dtype=object), np.array(labels, dtype="int32")],
        validation_fraction,
        test_fraction,
        seed,
    )


def load_spa_eng(validation_fraction=0.1, test_fraction=0.1, seed=0, max_pairs=None):
    """English-Spanish sentence pairs (Tatoeba via manythings.org/anki; CC-BY 2.0).

    118,964 tab-separated pairs, from the TensorFlow snapshot `spa-eng.zip`.

    Args:
        validation_fraction, test_fraction: Shares of the pairs.
        seed: Seed of the shuffle before the split.
        max_pairs: If given, keep only this many pairs (after shuffling).

    Returns:
        `{"train": (english, spanish), "validation": ..., "test": ...}` arrays of str.
    """
    folder = fetch("spa_eng")
    with open(os.path.join(folder, "spa-eng", "spa.txt"), encoding="utf-8") as f:
        pairs = [line.split("\t") for line in f.read().split("\n") if line]
    english = np.array([p[0] for p in pairs], dtype=object)
    spanish = np.array([p[1] for p in pairs], dtype=object)
    if max_pairs is not None:
        max_pairs = _positive_int("max_pairs", max_pairs)
        keep = np.random.default_rng(seed + 1).permutation(len(english))[:max_pairs]
        english, spanish = english[keep], spanish[keep]
    return _shuffled_splits([english, spanish], validation_fraction, test_fraction, seed)


def load_imdb(num_words=20000, maxlen=None):
    """IMDB reviews as word ids, through `keras.datasets.imdb` (needs internet once).

    Returns:
        `((x_train, y_train), (x_test, y_test))` as `keras.datasets.imdb.load_data`.
    """
    num_words = _positive_int("num_words", num_words)
    try:
        return keras.datasets.imdb.load_data(num_words=num_words, maxlen=maxlen)
    except Exception as error:
        raise DatasetUnavailableError(
            "keras.datasets.imdb could not load imdb.npz "
            "(https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz): "
            f"{error}. Without internet, put a genuine copy into {cache_dir()}."
        ) from None


def make_text_vectorizer(texts, max_tokens=20000, sequence_length=48):
    """A `keras.layers.TextVectorization` adapted on `texts` (the training texts only).

    Id 0 is padding and 1 out-of-vocabulary, so `Embedding(mask_zero=True)` masks
    the padding.
    """
    max_tokens = _positive_int("max_tokens", max_tokens, minimum=3)
    sequence_length = _positive_int("sequence_length", sequence_length)
    vectorizer = keras.layers.TextVectorization(
        max_tokens=max_tokens, output_sequence_length=sequence_length, standardize="lower"
    )
    vectorizer.adapt(list(texts))
    return vectorizer


# ----------------------------------------------------------------------------
# Time-series helpers
# ----------------------------------------------------------------------------


def chronological_split(values, validation_fraction=0.15, test_fraction=0.15):
    """Cuts a series into train, validation and test parts, in time order.

    Returns:
        `(train, validation, test)`, contiguous and in that order.
    """
    validation_fraction, test_fraction = _split_fractions(validation_fraction, test_fraction)
    values = np.asarray(values)
    n = len(values)
    n_test, n_validation = int(round(n * test_fraction)), int(round(n * validation_fraction))
    n_train = n - n_test - n_validation
    return (
        values[:n_train],
        values[n_train : n_train + n_validation],
        values[n_train + n_validation :],
    )


class Scaler:
    """Standardises with the mean and standard deviation of the data it was fit on.

    Args:
        method: `"standard"` (zero mean, unit variance) or `"minmax"` (to [0, 1]).
    """

    def __init__(self, method="standard"):
        if method not in ("standard", "minmax"):
            raise ValueError(
                f"Argument `method` must be 'standard' or 'minmax', received {method!r}."
            )
        self.method = method
        self.offset = self.scale = None

    def fit(self, values):
        values = np.asarray(values, dtype="float64")
        if self.method == "standard":
            self.offset, self.scale = values.mean(), values.std()
        else:
            self.offset, self.scale = values.min(), values.max() - values.min()
        self.scale = self.scale or 1.0
        return self

    def transform(self, values):
        if self.offset is None:
            raise ValueError("This Scaler is not fitted yet; call fit(train_values) first.")
        return ((np.asarray(values) - self.offset) / self.scale).astype("float32")

    def inverse_transform(self, values):
        if self.offset is None:
            raise ValueError("This Scaler is not fitted yet; call fit(train_values) first.")
        return (np.asarray(values) * self.scale + self.offset).astype("float32")


def make_windows(values, window, horizon=1):
    """Inputs of `window` steps and the `horizon` steps that follow each.

    The NumPy twin of `keras.utils.timeseries_dataset_from_array` (same windows,
    checked in the tests), returning arrays rather than a `tf.data.Dataset` so
    every backend can `fit` on them.

    Returns:
        x: float32 `(n, window, 1)`; y: float32 `(n, horizon)`, with
        `n = len(values) - window - horizon + 1`.
    """
    window = _positive_int("window", window)
    horizon = _positive_int("horizon", horizon)
    values = np.asarray(values, dtype="float32")
    n = len(values) - window - horizon + 1
    if n < 1:
        raise ValueError(
            f"A series of {len(values)} steps is too short for window={window} + horizon={horizon}."
        )
    frames = np.lib.stride_tricks.sliding_window_view(values, window + horizon)[:n]  # (n, w + h)
    return frames[:, :window, None].copy(), frames[:, window:].copy()


@dataclasses.dataclass
class PreparedSeries:
    """Windows of a series split in time order, scaled with the training part's statistics."""

    scaler: Scaler
    train: tuple
    validation: tuple
    test: tuple
    boundaries: tuple  # index in the series where validation and test targets start


def prepare_series(
    values, window, horizon=1, validation_fraction=0.15, test_fraction=0.15, method="standard"
):
    """Splits in time order, fits the scaler on the training part only, then windows.

    Each later part's windows start `window` steps before it, so its first target
    is its first value and no target is used twice; the inputs that reach back
    into the earlier part are past values, known at forecast time.

    Returns:
        `PreparedSeries` whose `train`, `validation` and `test` are `(x, y)` in
        scaled units (use `scaler.inverse_transform` for the original ones).
    """
    values = np.asarray(values, dtype="float32")
    train, validation, test = chronological_split(values, validation_fraction, test_fraction)
    scaler = Scaler(method).fit(train)  # the training part only: no leakage
    scaled = scaler.transform(values)
    start_validation, start_test = len(train), len(train) + len(validation)
    parts = {}
    for name, lo, hi in (
        ("train", 0, start_validation),
        ("validation", start_validation - window, start_test),
        ("test", start_test - window, len(values)),
    ):
        parts[name] = make_windows(scaled[max(lo, 0) : hi], window, horizon)
    return PreparedSeries(
        scaler, parts["train"], parts["validation"], parts["test"], (start_validation, start_test)
    )
