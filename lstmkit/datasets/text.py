"""Text: the real sentence datasets, and vocabularies.

load_sentence_polarity   {"train"|"validation"|"test": (texts, labels)}
load_spa_eng             {"train"|"validation"|"test": (english, spanish)}
load_imdb                keras.datasets.imdb (needs the network the first time)
CharVocabulary           characters <-> ids, with padding, start, end and unknown ids
make_text_vectorizer     a `TextVectorization` adapted on the training texts
"""

import os

import keras
import numpy as np

from lstmkit.datasets._checks import positive_int, split_fractions
from lstmkit.datasets.cache import fetch


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
        if isinstance(texts, str):  # one row per character, silently, otherwise
            raise ValueError(
                f"Argument `texts` must be a list of strings, received one string {texts!r:.40}; "
                "pass [text] to encode one."
            )
        length = positive_int("length", length)
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


def _shuffled_splits(columns, validation_fraction, test_fraction, seed, groups=None):
    """Shuffles aligned columns with `seed` and cuts them into train/validation/test.

    With `groups` (one key per row), rows that share a key land in the same split:
    whole groups are dealt out in a seeded order, the group that crosses a boundary
    stays in the earlier split, and the rows of each split keep a seeded shuffle.
    """
    validation_fraction, test_fraction = split_fractions(validation_fraction, test_fraction)
    n = len(columns[0])
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_test, n_validation = int(round(n * test_fraction)), int(round(n * validation_fraction))
    if groups is None:
        parts = {
            "test": order[:n_test],
            "validation": order[n_test : n_test + n_validation],
            "train": order[n_test + n_validation :],
        }
    else:
        _, group_of_row = np.unique(np.asarray(groups), return_inverse=True)  # (n,)
        group_sizes = np.bincount(group_of_row)  # (groups,)
        group_order = rng.permutation(len(group_sizes))
        starts = np.empty(len(group_sizes), dtype="int64")  # rows dealt before each group
        starts[group_order] = np.cumsum(group_sizes[group_order]) - group_sizes[group_order]
        row_starts = starts[group_of_row][order]  # (n,) in the shuffled row order
        parts = {
            "test": order[row_starts < n_test],
            "validation": order[(row_starts >= n_test) & (row_starts < n_test + n_validation)],
            "train": order[row_starts >= n_test + n_validation],
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
    texts, labels = read_sentence_polarity()
    return _shuffled_splits([texts, labels], validation_fraction, test_fraction, seed)


def read_sentence_polarity():
    """All 10,662 sentences in file order: texts (object array of str), labels (int32)."""
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
    return np.array(texts, dtype=object), np.array(labels, dtype="int32")


def load_spa_eng(
    validation_fraction=0.1, test_fraction=0.1, seed=0, max_pairs=None, group_by_english=True
):
    """English-Spanish sentence pairs (Tatoeba via manythings.org/anki; CC-BY 2.0).

    118,964 tab-separated pairs, from the TensorFlow snapshot `spa-eng.zip`. Tatoeba
    often has several Spanish translations of one English sentence (102,904 distinct
    English sentences), so a split of the pairs at random puts the English side of
    about 20 % of validation and test pairs in the training split too. By default the
    pairs are split by English sentence instead: every pair of one English sentence
    lands in the same split, and no validation or test English sentence is ever seen
    in training.

    Args:
        validation_fraction, test_fraction: Shares of the pairs (with `group_by_english`,
            met to within one English sentence's pairs).
        seed: Seed of the shuffle before the split.
        max_pairs: If given, keep only this many pairs (a seeded sample, before the split).
        group_by_english: `True` (default) splits by English sentence, as above;
            `False` splits the pairs at random (English sentences then leak).

    Returns:
        `{"train": (english, spanish), "validation": ..., "test": ...}` arrays of str,
        each split in a seeded random order.
    """
    if not isinstance(group_by_english, bool):
        raise ValueError(
            f"Argument `group_by_english` must be True or False, received {group_by_english!r}."
        )
    english, spanish = read_spa_eng()
    if max_pairs is not None:
        max_pairs = positive_int("max_pairs", max_pairs)
        keep = np.random.default_rng(seed + 1).permutation(len(english))[:max_pairs]
        english, spanish = english[keep], spanish[keep]
    return _shuffled_splits(
        [english, spanish],
        validation_fraction,
        test_fraction,
        seed,
        groups=english if group_by_english else None,
    )


def read_spa_eng():
    """All 118,964 pairs in file order: english, spanish (object arrays of str)."""
    folder = fetch("spa_eng")
    with open(os.path.join(folder, "spa-eng", "spa.txt"), encoding="utf-8") as f:
        pairs = [line.split("\t") for line in f.read().split("\n") if line]
    english = np.array([p[0] for p in pairs], dtype=object)
    spanish = np.array([p[1] for p in pairs], dtype=object)
    return english, spanish


def load_imdb(num_words=20000, maxlen=None):
    """IMDB reviews as word ids, through `keras.datasets.imdb` (needs internet once).

    `imdb.npz` is fetched like the other files (pinned hash, `seed_cache` finds it),
    then read by Keras's loader.

    Returns:
        `((x_train, y_train), (x_test, y_test))` as `keras.datasets.imdb.load_data`.
    """
    num_words = positive_int("num_words", num_words)
    path = fetch("imdb")  # the pinned file, from the cache or downloaded once
    return keras.datasets.imdb.load_data(path=path, num_words=num_words, maxlen=maxlen)


def make_text_vectorizer(texts, max_tokens=20000, sequence_length=48):
    """A `keras.layers.TextVectorization` adapted on `texts` (the training texts only).

    Id 0 is padding and 1 out-of-vocabulary, so `Embedding(mask_zero=True)` masks
    the padding.
    """
    max_tokens = positive_int("max_tokens", max_tokens, minimum=3)
    sequence_length = positive_int("sequence_length", sequence_length)
    vectorizer = keras.layers.TextVectorization(
        max_tokens=max_tokens, output_sequence_length=sequence_length, standardize="lower"
    )
    vectorizer.adapt(list(texts))
    return vectorizer
