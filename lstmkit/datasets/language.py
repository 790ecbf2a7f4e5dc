"""Language-model data: token streams, their training windows, and the stateful batch order.

Vocabulary                    tokens <-> ids, no reserved ids, an optional unknown token
make_human_numbers()          fastai's Human Numbers, tokenised as fastbook ch. 12: `HumanNumbers`
load_char_corpus(source)      real sentences as one character stream, hashed split: `CharCorpus`
make_language_model_windows   non-overlapping windows x (n, length), y = x shifted by one
make_stream_batches           windows in stateful order: row j of batch k+1 continues row j of k
"""

import dataclasses
import hashlib

import numpy as np

from lstmkit.datasets._checks import SPLITS, is_real, positive_int, split_fractions
from lstmkit.datasets.text import read_sentence_polarity, read_spa_eng


class Vocabulary:
    """Tokens to integer ids and back, for a language model: id `i` is `tokens[i]`.

    Unlike `CharVocabulary`, which serves sequence-to-sequence models, it reserves no
    padding, start or end ids: a language model reads one unbroken stream, and an id
    that never occurs would still take probability from every smoothed n-gram baseline.

    Args:
        tokens: The tokens in id order, each once (a string is a sequence of characters).
        unknown: If given, the token (one of `tokens`) that stands for every token the
            vocabulary does not know; if `None`, encoding an unknown token is an error.
    """

    def __init__(self, tokens, unknown=None):
        tokens = list(tokens)
        if not tokens:
            raise ValueError("Argument `tokens` must not be empty.")
        if len(set(tokens)) != len(tokens):
            raise ValueError("Argument `tokens` must hold each token once.")
        self.tokens = tokens
        self.index = {token: i for i, token in enumerate(tokens)}
        if unknown is not None and unknown not in self.index:
            raise ValueError(f"Argument `unknown` ({unknown!r}) must be one of `tokens`.")
        self.unknown = unknown
        self.unknown_id = None if unknown is None else self.index[unknown]
        if all(isinstance(t, str) and len(t) == 1 for t in tokens):
            # A character vocabulary: strings are encoded through their code points,
            # vectorised, since a corpus holds millions of characters.
            codes = np.array([ord(t) for t in tokens], dtype="uint32")
            self._code_order = np.argsort(codes).astype("int32")
            self._sorted_codes = codes[self._code_order]
        else:
            self._sorted_codes = None

    def __len__(self):
        return len(self.tokens)

    def encode(self, tokens):
        """int32 `(len(tokens),)`: the id of each token (of each character, for a string)."""
        if isinstance(tokens, str) and self._sorted_codes is not None:
            return self._encode_characters(tokens)
        if self.unknown is None:
            missing = set(tokens) - self.index.keys()
            if missing:
                raise ValueError(
                    f"Tokens {sorted(missing)[:10]} are not in the vocabulary, and it has no "
                    "`unknown` token to stand for them."
                )
            return np.fromiter((self.index[t] for t in tokens), dtype="int32", count=len(tokens))
        get, unknown_id = self.index.get, self.unknown_id
        return np.fromiter((get(t, unknown_id) for t in tokens), dtype="int32", count=len(tokens))

    def _encode_characters(self, text):
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")  # (len(text),)
        where = np.minimum(np.searchsorted(self._sorted_codes, codes), len(self._sorted_codes) - 1)
        known = self._sorted_codes[where] == codes
        ids = self._code_order[where]
        if not known.all():
            if self.unknown is None:
                missing = sorted({chr(c) for c in codes[~known]})
                raise ValueError(
                    f"Tokens {missing[:10]} are not in the vocabulary, and it has no "
                    "`unknown` token to stand for them."
                )
            ids = np.where(known, ids, self.unknown_id)
        return ids.astype("int32")

    def decode(self, ids):
        """The list of tokens for `ids` (any shape, read in order); `"".join` it for characters."""
        return [self.tokens[i] for i in np.asarray(ids).reshape(-1).tolist()]


def make_language_model_windows(ids, sequence_length):
    """Non-overlapping windows of a token stream, and the same windows shifted by one.

    Window `i` starts at token `i * sequence_length`; its target holds the next token
    at every step. The starts are fastbook's, `range(0, len(ids) - sequence_length - 1,
    sequence_length)` (ch. 12), so the tail that does not fill a window is left out.

    Args:
        ids: int `(num_tokens,)`, the stream.
        sequence_length: Steps per window.

    Returns:
        x: `(n, sequence_length)`; y: `(n, sequence_length)` with `y[i, t] = x[i, t + 1]`
        and `y[i, -1] = x[i + 1, 0]` (the windows tile the stream).
    """
    sequence_length = positive_int("sequence_length", sequence_length)
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"Argument `ids` must be a 1-D array of integer ids, received {ids.dtype} {ids.shape}."
        )
    starts = np.arange(0, len(ids) - sequence_length - 1, sequence_length)  # (n,)
    if not len(starts):
        raise ValueError(
            f"A stream of {len(ids)} tokens gives no window of `sequence_length`="
            f"{sequence_length}: fastbook's starts, range(0, len(ids) - sequence_length - 1, "
            f"sequence_length), need at least sequence_length + 2 = {sequence_length + 2} tokens."
        )
    positions = starts[:, None] + np.arange(sequence_length)[None, :]  # (n, sequence_length)
    return ids[positions], ids[positions + 1]


def make_stream_batches(*arrays, batch_size):
    """Reorders windows so that consecutive batches continue each other row by row.

    The windows are cut into `batch_size` contiguous streams of `m = n // batch_size`
    windows each; batch `k` holds window `k` of every stream, so row `j` of batch `k + 1`
    is the window that follows row `j` of batch `k` in the text. A stateful model fed
    these batches in order (`fit(..., batch_size=batch_size, shuffle=False)`) carries
    its state from a window to the next. This is fastbook's `group_chunks` (ch. 12).

    The last `n % batch_size` windows fit no stream and are dropped, so every batch is
    full (a stateful layer needs a fixed batch size).

    Args:
        *arrays: Arrays with one window per row and the same number of rows, e.g. `x, y`.
        batch_size: Rows per batch, the number of streams.

    Returns:
        The arrays (one array if one was given), each with `m * batch_size` rows: row
        `k * batch_size + j` is window `k + m * j`.
    """
    batch_size = positive_int("batch_size", batch_size)
    if not arrays:
        raise ValueError(
            "Pass at least one array of windows, e.g. `make_stream_batches(x, y, ...)`."
        )
    arrays = [np.asarray(a) for a in arrays]
    num_windows = len(arrays[0])
    if any(len(a) != num_windows for a in arrays):
        raise ValueError(
            "The arrays must have one row per window, the same number each; received "
            f"{[len(a) for a in arrays]} rows."
        )
    windows_per_stream = num_windows // batch_size  # m: batches per epoch
    if windows_per_stream < 1:
        raise ValueError(
            f"Argument `batch_size` ({batch_size}) is larger than the {num_windows} windows: "
            "no full batch."
        )
    streams = np.arange(batch_size)[None, :] * windows_per_stream  # (1, batch) first window of each
    order = (np.arange(windows_per_stream)[:, None] + streams).reshape(-1)  # (m * batch,)
    reordered = tuple(a[order] for a in arrays)
    return reordered[0] if len(reordered) == 1 else reordered


# ----------------------------------------------------------------------------
# Human Numbers (fastai's HUMAN_NUMBERS, as fastbook chapter 12 reads it)
# ----------------------------------------------------------------------------

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "zero ten twenty thirty forty fifty sixty seventy eighty ninety".split()

# fastai's train.txt holds 1-7,999 and valid.txt 8,001-9,999: 8,000 is in neither.
HUMAN_NUMBERS_TRAIN = range(1, 8000)
HUMAN_NUMBERS_VALID = range(8001, 10000)


def number_in_words(number):
    """A number in 1..9,999 as Human Numbers writes it: "eight thousand one hundred twenty one".

    No "and", no hyphen, one space between words.
    """
    if (
        not isinstance(number, (int, np.integer))
        or isinstance(number, bool)
        or not 1 <= number <= 9999
    ):
        raise ValueError(f"Argument `number` must be an integer in 1..9999, received {number!r}.")
    thousands, rest = divmod(int(number), 1000)
    hundreds, rest = divmod(rest, 100)
    words = [_ONES[thousands], "thousand"] if thousands else []
    words += [_ONES[hundreds], "hundred"] if hundreds else []
    if rest >= 20:
        words.append(_TENS[rest // 10])
        rest %= 10
    words += [_ONES[rest]] if rest else []
    return " ".join(words)


@dataclasses.dataclass
class HumanNumbers:
    """Human Numbers as one token stream, numbered as fastbook numbers it.

    Attributes:
        numbers: int32 `(9998,)`, the numbers in stream order: train.txt's, then valid.txt's.
        tokens: The 63,095 tokens: each number's words, with "." between numbers.
        vocabulary: The 30 tokens in order of first appearance ("one", ".", "two", ...).
        ids: int32 `(63095,)`, `tokens` as ids.
    """

    numbers: np.ndarray
    tokens: list
    vocabulary: Vocabulary
    ids: np.ndarray

    def windows(self, sequence_length=16, train_fraction=0.8):
        """fastbook's split: non-overlapping windows, the first 80 % to train on.

        `make_language_model_windows(ids, sequence_length)`, cut at
        `int(num_windows * train_fraction)` as fastbook does, so the validation windows
        are the end of the stream, in order (at length 16: from the middle of 8,083 on).

        Returns:
            `{"train": (x, y), "validation": (x, y)}`, int32 `(n, sequence_length)` each.
        """
        if not is_real(train_fraction) or not 0 < train_fraction < 1:
            raise ValueError(
                "Argument `train_fraction` must be a fraction in (0, 1), received "
                f"{train_fraction!r}."
            )
        x, y = make_language_model_windows(self.ids, sequence_length)
        cut = int(len(x) * train_fraction)
        if not 0 < cut < len(x):
            raise ValueError(
                f"`train_fraction`={train_fraction} of {len(x)} windows leaves a split empty."
            )
        return {"train": (x[:cut], y[:cut]), "validation": (x[cut:], y[cut:])}


def make_human_numbers():
    """The Human Numbers data set, exactly as fastai ships it and fastbook ch. 12 reads it.

    fastai's `URLs.HUMAN_NUMBERS` holds train.txt (one to seven thousand nine hundred
    ninety nine) and valid.txt (eight thousand one to nine thousand nine hundred ninety
    nine), a number per line in English words (`number_in_words`). fastbook joins the
    9,998 lines of both files with " . " and splits the text on spaces: 63,095 tokens,
    a vocabulary of 30 in order of first appearance, "one" = 0 and "." = 1. Nothing is
    downloaded: the text is generated, and equal to fastai's files.

    Use `HumanNumbers.windows` for fastbook's training and validation windows, and
    `make_stream_batches` for its stateful batch order (`group_chunks`).

    Returns:
        `HumanNumbers`.
    """
    numbers = [*HUMAN_NUMBERS_TRAIN, *HUMAN_NUMBERS_VALID]
    tokens = " . ".join(number_in_words(n) for n in numbers).split(" ")
    vocabulary = Vocabulary(dict.fromkeys(tokens))  # order of first appearance
    return HumanNumbers(
        numbers=np.array(numbers, dtype="int32"),
        tokens=tokens,
        vocabulary=vocabulary,
        ids=vocabulary.encode(tokens),
    )


# ----------------------------------------------------------------------------
# A character corpus of real sentences
# ----------------------------------------------------------------------------

UNKNOWN_CHARACTER = "\N{REPLACEMENT CHARACTER}"  # "�", for characters training never showed


CHAR_CORPUS_SOURCES = {  # name -> the sentences, in file order
    "tatoeba_english": lambda: read_spa_eng()[0],
    "tatoeba_spanish": lambda: read_spa_eng()[1],
    "sentence_polarity": lambda: read_sentence_polarity()[0],
}


@dataclasses.dataclass
class CharCorpus:
    """Real sentences as character streams, one per split.

    Attributes:
        source: Which corpus (a key of `CHAR_CORPUS_SOURCES`).
        sentences: `{"train"|"validation"|"test": list of str}`, distinct sentences.
        text: The same splits as streams: each sentence followed by "\\n", which is
            therefore a character the model learns to predict (the end of a sentence).
        vocabulary: `UNKNOWN_CHARACTER` (id 0), then the training text's characters in
            code-point order; built on the training split only.
        ids: `{split: int32 (len(text[split]),)}`; characters that training never showed
            are `vocabulary.unknown_id`.
    """

    source: str
    sentences: dict
    text: dict
    vocabulary: Vocabulary
    ids: dict

    def windows(self, split, sequence_length):
        """`make_language_model_windows(self.ids[split], sequence_length)`: x, y."""
        if split not in SPLITS:
            raise ValueError(f"Argument `split` must be one of {SPLITS}, received {split!r}.")
        return make_language_model_windows(self.ids[split], sequence_length)


def _hash_fraction(sentence):
    """A number in [0, 1) fixed by the sentence's text alone (not by Python's hash seed)."""
    digest = hashlib.blake2b(sentence.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def load_char_corpus(source="tatoeba_english", validation_fraction=0.1, test_fraction=0.1):
    """Real sentences from the cache, split by a hash of their text, as character streams.

    Sources (the files `load_spa_eng` and `load_sentence_polarity` read):

    - `"tatoeba_english"` (default): the English side of the Tatoeba pairs, 102,904
      distinct sentences, 3.4 million characters. The default because it is clean
      everyday English as people write it (cased, punctuated as written, 90 distinct
      characters), and nearly three times the size of the polarity corpus, so the
      held-out splits (about 340,000 characters each) give steady figures.
    - `"tatoeba_spanish"`: the Spanish side, 113,322 distinct sentences (accents, ¿ ¡).
    - `"sentence_polarity"`: the 10,662 review snippets, 1.2 million characters, but
      lower-cased and tokenised by their authors ("it 's", " , "), so the text is not
      written English and its spacing is easy to predict.

    Each distinct sentence goes to a split by a hash of its text (blake2b): the same
    sentence always lands in the same split, whatever the file order or the Python
    run, and no sentence is in two splits. Within a split the sentences are in hash
    order, a fixed shuffle, so any prefix of a split is a fair sample of it.

    Args:
        source: A key of `CHAR_CORPUS_SOURCES`.
        validation_fraction, test_fraction: Expected shares of the sentences.

    Returns:
        `CharCorpus`.
    """
    if source not in CHAR_CORPUS_SOURCES:
        raise ValueError(
            f"Argument `source` must be one of {sorted(CHAR_CORPUS_SOURCES)}, received {source!r}."
        )
    validation_fraction, test_fraction = split_fractions(validation_fraction, test_fraction)
    sentences = list(dict.fromkeys(s for s in CHAR_CORPUS_SOURCES[source]() if s))  # distinct
    buckets = {split: [] for split in SPLITS}
    for fraction, sentence in sorted((_hash_fraction(s), s) for s in sentences):
        if fraction < test_fraction:
            buckets["test"].append(sentence)
        elif fraction < test_fraction + validation_fraction:
            buckets["validation"].append(sentence)
        else:
            buckets["train"].append(sentence)
    text = {split: "".join(s + "\n" for s in buckets[split]) for split in SPLITS}
    characters = sorted(set(text["train"]) - {UNKNOWN_CHARACTER})
    vocabulary = Vocabulary([UNKNOWN_CHARACTER, *characters], unknown=UNKNOWN_CHARACTER)
    return CharCorpus(
        source=source,
        sentences=buckets,
        text=text,
        vocabulary=vocabulary,
        ids={split: vocabulary.encode(text[split]) for split in SPLITS},
    )
