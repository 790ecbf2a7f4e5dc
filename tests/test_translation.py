"""lstmkit.translation: tokens, pairs, the two baselines, and BLEU from per-sentence counts."""

import warnings

import numpy as np
import pytest
import sacrebleu

from lstmkit import translation
from lstmkit.verdict import paired_bootstrap

PAIRS = [
    ("i love dogs .".split(), "me encantan los perros .".split()),
    ("i love cats .".split(), "me encantan los gatos .".split()),
    ("dogs run .".split(), "los perros corren .".split()),
    ("cats sleep .".split(), "los gatos duermen .".split()),
    ("where is tom ?".split(), "¿ dónde está tom ?".split()),
]


def test_tokenize_splits_words_and_punctuation_and_lowers():
    assert translation.tokenize("¿Dónde está?") == ["¿", "dónde", "está", "?"]
    assert translation.tokenize("I'm hungry.") == ["i", "'", "m", "hungry", "."]
    assert translation.is_word("dónde") and not translation.is_word("¿")


def test_short_pairs_filters_both_sides():
    english = ["Go.", "I love you very much.", "Tom left."]
    spanish = ["Ve.", "Te quiero.", "Tom se fue de aquí muy pronto hoy."]
    assert translation.short_pairs(english, spanish, 4) == [(["go", "."], ["ve", "."])]


def test_prepare_pairs_keeps_every_reference_of_a_short_test_sentence():
    splits = {
        "train": (["Go.", "Run!"], ["Ve.", "¡Corre!"]),
        "validation": (["Hi."], ["Hola."]),
        "test": (
            ["I'm hungry.", "I'm hungry.", "This sentence is far too long for us."],
            ["Tengo hambre.", "Estoy hambriento y quiero comer algo ya mismo.", "Larga."],
        ),
    }
    data = translation.prepare_pairs(splits, 5, train_pairs=10, test_sentences=10, seed=0)
    assert data.train == [(["go", "."], ["ve", "."]), (["run", "!"], ["¡", "corre", "!"])]
    assert data.validation == [(["hi", "."], ["hola", "."])]
    assert data.test == ["i ' m hungry ."]
    # The references keep their full length: only the English side is filtered.
    assert data.references["i ' m hungry ."] == [
        "tengo hambre .",
        "estoy hambriento y quiero comer algo ya mismo .",
    ]


def test_dice_maps_words_to_words_and_punctuation_to_punctuation():
    dictionary = translation.DiceDictionary(PAIRS)
    assert dictionary.english_count["dogs"] == 2 and dictionary.both_count[("dogs", "perros")] == 2
    assert dictionary.dice("dogs", "perros") == 1.0
    assert dictionary.table["dogs"][1] == "perros"
    assert dictionary.table["."] == (1.0, ".")
    assert dictionary.translate("dogs sleep .") == "perros duermen ."
    assert dictionary.translate("unseen words") == "unseen words"
    assert dictionary.partners("tom") == {"¿": 1, "dónde": 1, "está": 1, "tom": 1, "?": 1}


def test_translation_memory_returns_the_most_similar_training_sentence():
    memory = translation.TranslationMemory(PAIRS)
    assert memory.translate("i love dogs") == "me encantan los perros ."
    assert memory.translate("where is mary ?") == "¿ dónde está tom ?"
    assert memory.translate("nothing shared") == " ".join(PAIRS[0][1])


def test_translation_memory_passes_over_a_sentence_of_words_in_every_pair():
    # "hi ." is in every pair: idf 0 on both words, norm 0; 0 / 0 would be nan, and argmax
    # would return that pair for every query.
    pairs = [
        (["hi", "."], ["hola", "."]),
        (["hi", "tom", "."], ["hola", "tom", "."]),
        (["hi", "mary", "."], ["hola", "mary", "."]),
    ]
    memory = translation.TranslationMemory(pairs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert memory.translate("hi tom .") == "hola tom ."
        assert memory.translate("hi mary .") == "hola mary ."


def test_corpus_bleu_from_counts_equals_sacrebleu():
    rng = np.random.default_rng(0)
    words = "a b c d e f g h".split()
    hypotheses, references = [], []
    for _ in range(60):
        hypotheses.append(" ".join(rng.choice(words, rng.integers(1, 9))))
        references.append(
            [" ".join(rng.choice(words, rng.integers(1, 9))) for _ in range(rng.integers(1, 4))]
        )
    counts = translation.bleu_counts(hypotheses, references)
    assert counts.shape == (60, len(translation.BLEU_COLUMNS))
    slots = max(len(r) for r in references)
    streams = [[(r + [None] * slots)[k] for r in references] for k in range(slots)]
    bleu = sacrebleu.metrics.BLEU(tokenize="none", smooth_method="none", force=True)
    expected = bleu.corpus_score(hypotheses, streams)
    assert translation.corpus_bleu(counts) == pytest.approx(expected.score, abs=1e-9)
    # Any subset of sentences: the sum of its rows gives its corpus BLEU.
    subset = slice(0, 17)
    expected = bleu.corpus_score(hypotheses[subset], [s[subset] for s in streams])
    assert translation.corpus_bleu(counts[subset]) == pytest.approx(expected.score, abs=1e-9)
    stacked = translation.corpus_bleu(np.stack([counts, counts[::-1]]))
    np.testing.assert_allclose(stacked, translation.corpus_bleu(counts))


def test_corpus_bleu_is_zero_when_a_precision_is_zero_and_100_for_a_match():
    counts = translation.bleu_counts(["a b c"], [["x y z"]])
    assert translation.corpus_bleu(counts) == 0.0
    counts = translation.bleu_counts(["a b c d e"], [["a b c d e", "a b"]])
    assert translation.corpus_bleu(counts) == pytest.approx(100.0)


def test_bleu_as_a_bootstrap_statistic():
    references = [["a b c d e"]] * 30
    good = translation.bleu_counts(["a b c d e"] * 30, references)
    bad = translation.bleu_counts(["a b c x y"] * 30, references)
    verdict = paired_bootstrap(
        good, bad, statistic=translation.corpus_bleu, names=("good", "bad"), resamples=200
    )
    assert verdict.word == "beats"
    same = paired_bootstrap(bad, bad, statistic=translation.corpus_bleu, resamples=200)
    assert same.word == "ties"


def test_ids_to_text_stops_at_end_and_drops_padding():
    vocabulary = ["", "[UNK]", "[end]", "hola", "tom"]
    ids = np.array([[3, 4, 2, 3], [3, 0, 4, 0], [2, 3, 3, 3]])
    assert translation.ids_to_text(ids, vocabulary, 2) == ["hola tom", "hola tom", ""]
