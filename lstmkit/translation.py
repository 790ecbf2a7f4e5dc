"""English -> Spanish for lesson 08: tokens, short pairs, ids, two baselines, BLEU counts.

Lesson 08 and its worked solutions share this code: the data it trains on, the two
baselines that learn from the same pairs, and corpus BLEU from per-sentence counts (so a
paired bootstrap can resample sentences and recompute corpus BLEU).

    data = prepare_pairs(datasets.load_spa_eng(seed=0), max_words=6, train_pairs=12_000,
                         test_sentences=1_000, seed=0)
    dictionary = DiceDictionary(data.train)            # word by word, Dice over the pairs
    memory = TranslationMemory(data.train)             # the most similar training sentence
    counts = bleu_counts(hypotheses, [data.references[e] for e in data.test])  # (n, 10)
    corpus_bleu(counts)                                # == sacrebleu's corpus BLEU

A token is a lower-cased word or a punctuation mark: `"¿Dónde está?"` -> `¿ dónde está ?`.
"""

import collections
import dataclasses
import re

import numpy as np
from keras import ops

_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"\w+")


def tokenize(text):
    """Lower-cased words and punctuation: `"¿Dónde está?"` -> `['¿', 'dónde', 'está', '?']`."""
    return _TOKEN.findall(str(text).lower())


def is_word(token):
    """Whether a token is a word (letters, digits, underscore), not a punctuation mark."""
    return _WORD.fullmatch(token) is not None


@dataclasses.dataclass
class TranslationData:
    """The pairs lesson 08 uses.

    Attributes:
        train: Training pairs `(english tokens, spanish tokens)`, both at most `max_words`.
        validation: Validation pairs, the same filter.
        references: English test sentence (tokens joined by spaces) -> all its Spanish
            translations (tokens joined by spaces), at any length.
        test: The English test sentences used (at most `max_words` tokens), in a seeded order.
    """

    train: list
    validation: list
    references: dict
    test: list


def short_pairs(english, spanish, max_words):
    """The pairs whose two sides both have at most `max_words` tokens, tokenised."""
    pairs = []
    for e, s in zip(english, spanish):
        if len(e.split()) > max_words:  # a word is at least one token: skip before tokenising
            continue
        e_tokens, s_tokens = tokenize(e), tokenize(s)
        if len(e_tokens) <= max_words and len(s_tokens) <= max_words:
            pairs.append((e_tokens, s_tokens))
    return pairs


def prepare_pairs(splits, max_words, train_pairs, test_sentences, seed, validation_pairs=1_000):
    """Short training and validation pairs; short English test sentences with every reference.

    Training and validation pairs are kept when both sides have at most `max_words`
    tokens. Test sentences are filtered on the English side only, and each keeps all its
    Spanish translations at their full length: the references.

    Args:
        splits: `lstmkit.datasets.load_spa_eng(...)`'s dict (split by English sentence).
        max_words: Tokens per sentence (words and punctuation marks).
        train_pairs: How many short training pairs to keep (the first ones).
        test_sentences: How many English test sentences to draw (seeded).
        seed: Seed of the test draw.
        validation_pairs: How many short validation pairs to keep.

    Returns:
        A `TranslationData`.
    """
    train = short_pairs(*splits["train"], max_words)[:train_pairs]
    validation = short_pairs(*splits["validation"], max_words)[:validation_pairs]
    references = collections.defaultdict(list)
    for english, spanish in zip(*splits["test"]):
        english_tokens = tokenize(english)
        if len(english_tokens) <= max_words:
            references[" ".join(english_tokens)].append(" ".join(tokenize(spanish)))
    english_sentences = sorted(references)
    order = np.random.default_rng(seed).permutation(len(english_sentences))[:test_sentences]
    test = [english_sentences[i] for i in order]
    return TranslationData(train, validation, dict(references), test)


def with_markers(pairs):
    """The Spanish sides as `"[start] ... [end]"` strings, for the target vectorizer."""
    return ["[start] " + " ".join(s) + " [end]" for _, s in pairs]


def encode_pairs(pairs, english_vectorizer, spanish_vectorizer, end_id):
    """Ids for teacher forcing: source, decoder input (the target shifted right), target.

    The decoder input has padding where the shifted sentence would read `[end]`: nothing
    comes after `[end]`, so the decoder input's mask marks exactly the steps whose target
    is a word or `[end]`.

    Returns:
        int32 arrays `(n, source steps)`, `(n, target steps)`, `(n, target steps)`.
    """
    english = ops.convert_to_numpy(english_vectorizer([" ".join(e) for e, _ in pairs]))
    spanish = ops.convert_to_numpy(spanish_vectorizer(with_markers(pairs)))
    decoder_input = np.where(spanish[:, :-1] == end_id, 0, spanish[:, :-1])
    return english.astype("int32"), decoder_input.astype("int32"), spanish[:, 1:].astype("int32")


def ids_to_text(ids, vocabulary, end_id):
    """Each row of output ids as a sentence: the tokens before `[end]`, padding left out."""
    sentences = []
    for row in np.asarray(ids):
        row = list(row) + [end_id]
        sentences.append(" ".join(vocabulary[i] for i in row[: row.index(end_id)] if i > 0))
    return sentences


class DiceDictionary:
    """A word-by-word dictionary: each English word -> its best Spanish word by Dice.

    Over the training pairs, `C(e)` counts the pairs whose English side contains `e`,
    `C(s)` those whose Spanish side contains `s`, `C(e, s)` those with both;
    `Dice(e, s) = 2 C(e, s) / (C(e) + C(s))`. A word maps to the Spanish *word* with the
    highest Dice, a punctuation mark to a punctuation mark; unknown words are kept.

    Attributes:
        english_count, spanish_count, both_count: The counts `C(e)`, `C(s)`, `C(e, s)`.
        table: English token -> `(Dice, Spanish token)`, the dictionary.
    """

    def __init__(self, pairs):
        self.english_count = collections.Counter()
        self.spanish_count = collections.Counter()
        self.both_count = collections.Counter()
        for english, spanish in pairs:
            english, spanish = set(english), set(spanish)
            self.english_count.update(english)
            self.spanish_count.update(spanish)
            self.both_count.update((e, s) for e in english for s in spanish)
        self.table = {}
        for e, s in self.both_count:
            if is_word(e) == is_word(s):  # words to words, punctuation to punctuation
                self.table[e] = max(self.table.get(e, (0.0, "")), (self.dice(e, s), s))

    def dice(self, e, s):
        """`Dice(e, s)`, in [0, 1]."""
        return 2 * self.both_count[(e, s)] / (self.english_count[e] + self.spanish_count[s])

    def partners(self, e):
        """Every Spanish token that shares a pair with `e`, with its count `C(e, s)`."""
        return {s: n for (word, s), n in self.both_count.items() if word == e}

    def translate(self, sentence):
        """Word by word: `sentence` is tokens joined by spaces; unknown tokens are kept."""
        return " ".join(self.table[w][1] if w in self.table else w for w in sentence.split())


class TranslationMemory:
    """Returns the Spanish side of the training pair whose English side is most similar.

    Each English sentence is a set of words weighted by `idf(w) = log(N / C(w))` over the
    `N` training pairs; the similarity is the cosine of those weighted sets.
    """

    def __init__(self, pairs):
        self.pairs = pairs
        english_count = collections.Counter(w for english, _ in pairs for w in set(english))
        self.vocabulary = {w: i for i, w in enumerate(english_count)}
        self.idf = np.log(len(pairs) / np.array([english_count[w] for w in self.vocabulary]))
        self.pairs_of_word = collections.defaultdict(list)  # word id -> pairs that contain it
        for n, (english, _) in enumerate(pairs):
            for w in set(english):
                self.pairs_of_word[self.vocabulary[w]].append(n)
        self.norms = np.array(
            [np.sqrt(np.sum(self.idf[[self.vocabulary[w] for w in set(e)]] ** 2)) for e, _ in pairs]
        )

    def translate(self, sentence):
        """The Spanish of the most similar training sentence (the first pair's, if no word is
        shared)."""
        query = [self.vocabulary[w] for w in set(sentence.split()) if w in self.vocabulary]
        if not query:
            return " ".join(self.pairs[0][1])
        found = np.concatenate([self.pairs_of_word[w] for w in query])
        weights = np.concatenate(
            [np.full(len(self.pairs_of_word[w]), self.idf[w] ** 2) for w in query]
        )
        shared = np.bincount(found, weights, minlength=len(self.pairs))  # (pairs,)
        # A sentence whose words all occur in every pair has idf 0 on each, norm 0: it shares
        # nothing that counts (0, not 0 / 0 = nan, which argmax would pick).
        similarity = np.divide(shared, self.norms, out=np.zeros_like(shared), where=self.norms > 0)
        return " ".join(self.pairs[int(similarity.argmax())][1])


# Columns of `bleu_counts`: matched n-grams (n = 1..4), output n-grams (n = 1..4), output
# length c, closest reference length r.
BLEU_COLUMNS = ("m1", "m2", "m3", "m4", "n1", "n2", "n3", "n4", "c", "r")


def _ngrams(tokens, n):
    return collections.Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def bleu_counts(hypotheses, references):
    """BLEU's sufficient statistics, one row per sentence: `(sentences, 10)` floats.

    Columns (`BLEU_COLUMNS`): for n = 1..4 the output's n-grams that occur in a reference,
    each clipped to its largest count in any one reference; then the output's n-grams
    for n = 1..4; the output length; the reference length closest to it (the shorter
    one on a tie). Summing rows over any set of sentences and applying `corpus_bleu`
    gives that set's corpus BLEU, as `sacrebleu` computes it with `tokenize="none"` and
    `smooth_method="none"`.

    Args:
        hypotheses: Outputs, tokens joined by spaces, one per sentence.
        references: For each sentence, the list of its references (tokens joined by spaces).
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} lists of references.")
    rows = []
    for hypothesis, sentence_references in zip(hypotheses, references):
        if not sentence_references:
            raise ValueError("Every sentence needs at least one reference.")
        output = hypothesis.split()
        reference_tokens = [r.split() for r in sentence_references]
        row = []
        for n in range(1, 5):
            counts = _ngrams(output, n)
            largest = collections.Counter()
            for tokens in reference_tokens:
                largest |= _ngrams(tokens, n)  # the largest count in any one reference
            row.append(sum(min(k, largest[g]) for g, k in counts.items()))
        row += [max(len(output) - n + 1, 0) for n in range(1, 5)]
        lengths = sorted(len(t) for t in reference_tokens)
        closest = min(lengths, key=lambda length: (abs(length - len(output)), length))
        rows.append(row + [len(output), closest])
    return np.array(rows, dtype="float64").reshape(len(rows), len(BLEU_COLUMNS))


def corpus_bleu(counts):
    """Corpus BLEU (0-100) from `bleu_counts` rows, summed over the sentences (axis -2).

    `BP * exp(mean_n log p_n) * 100` with `p_n` the clipped n-gram precision and
    `BP = min(1, exp(1 - r / c))`; 0 when some `p_n` is 0. Takes `(sentences, 10)` and
    returns a float, or `(..., sentences, 10)` and returns an array.
    """
    counts = np.asarray(counts, dtype="float64")
    total = counts.sum(axis=-2)  # (..., 10)
    matched, produced = total[..., :4], total[..., 4:8]
    output_length, reference_length = total[..., 8], total[..., 9]
    with np.errstate(divide="ignore", invalid="ignore"):
        brevity = np.minimum(1.0, np.exp(1 - reference_length / output_length))
        log_precision = np.where(matched > 0, np.log(matched / np.maximum(produced, 1)), -np.inf)
        bleu = 100 * brevity * np.exp(log_precision.mean(axis=-1))
    bleu = np.where(output_length > 0, bleu, 0.0)
    return float(bleu) if bleu.ndim == 0 else bleu
