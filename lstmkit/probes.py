"""Probes for a sentiment classifier: what do word order, negation and contrast do to it?

A probe family is a pair of templates, e.g. `("{p} , not {n}", "{n} , not {p}")`, filled
with every (positive word, negative word) pair. A model's score on a family is the share
of pairs in which it rates the *first* sentence more positive (a tie counts one half).
Lesson 09 and its worked solutions use these:

    texts = probe_texts()                               # every sentence, in a fixed order
    probabilities = as_families(predict(texts))         # (family, 2, pairs) P(positive)
    first_wins(probabilities)                           # {family: share of pairs}
    gaps(probabilities)                                 # (family, pairs) P(first) - P(second)

Each same-words family has a **control** with the same words in the same places and
without the word under test (`CONTROLS`): "P , not N" against "P , N", "N but P" against
"N and P". A model that only weighs positions scores a family as it scores its control;
the gap between the two is what the word itself does.
"""

import itertools

import numpy as np

POSITIVE = [
    "moving",
    "smart",
    "charming",
    "beautiful",
    "enjoyable",
    "wonderful",
    "touching",
    "brilliant",
]
NEGATIVE = ["bad", "dull", "boring", "stupid", "tedious", "flat", "lame", "bland"]
PROBES = {  # family: (first sentence, second sentence)
    "words": ("it is {p}", "it is {n}"),
    "negation": ("not {n}", "not {p}"),
    "negation, same words": ("{p} , not {n}", "{n} , not {p}"),
    "  control: no 'not'": ("{p} , {n}", "{n} , {p}"),
    "contrast, same words": ("{n} but {p}", "{p} but {n}"),
    "  control: 'and'": ("{n} and {p}", "{p} and {n}"),
}
# Each same-words family and its control: the same words in the same places, without
# the word under test.
CONTROLS = {
    "negation, same words": "  control: no 'not'",
    "contrast, same words": "  control: 'and'",
}


def probe_words(probes=PROBES, positive=POSITIVE, negative=NEGATIVE):
    """Every word the probes use (templates' words and the adjectives), each once."""
    words = dict.fromkeys(positive + negative)
    for template in itertools.chain.from_iterable(probes.values()):
        words.update(dict.fromkeys(template.format(p="", n="").split()))
    return list(words)


def probe_texts(probes=PROBES, positive=POSITIVE, negative=NEGATIVE):
    """The probe sentences, family by family, first sentences then second, pair by pair."""
    pairs = list(itertools.product(positive, negative))
    return [
        template.format(p=p, n=n)
        for family in probes.values()
        for template in family
        for p, n in pairs
    ]


def as_families(probabilities, probes=PROBES):
    """`(family, 2, pairs)` from the flat P(positive) of `probe_texts`' sentences."""
    probabilities = np.asarray(probabilities, dtype="float64").reshape(-1)
    return probabilities.reshape(len(probes), 2, -1)


def first_wins(probabilities, probes=PROBES, tie=1e-4):
    """Share of pairs in which the first sentence scores higher, per family (a tie: 1/2)."""
    first, second = probabilities[:, 0], probabilities[:, 1]  # (family, pairs)
    wins = np.where(np.abs(first - second) < tie, 0.5, first > second)
    return dict(zip(probes, wins.mean(axis=1)))


def gaps(probabilities, probes=PROBES):
    """`{family: P(first) - P(second)}` per pair, each `(pairs,)`."""
    return dict(zip(probes, probabilities[:, 0] - probabilities[:, 1]))
