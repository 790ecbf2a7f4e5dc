"""lstmkit.ngram: interpolated Kneser-Ney and Witten-Bell n-gram models over id streams."""

import numpy as np
import pytest

from lstmkit.ngram import NGramModel

RNG = np.random.default_rng(0)
# A stream with structure at several orders: words of a small language, and noise.
WORDS = [[0, 1, 2], [3, 1], [4, 5, 6, 1], [2, 2, 7]]
STREAM = np.concatenate([WORDS[i] for i in RNG.integers(0, 4, 3000)] + [RNG.integers(0, 9, 50)])
VOCABULARY = 10  # id 9 never occurs in STREAM's first part


@pytest.mark.parametrize("smoothing", ["kneser_ney", "witten_bell"])
@pytest.mark.parametrize("order", [1, 2, 4])
def test_each_prediction_is_a_distribution(smoothing, order):
    model = NGramModel(order, VOCABULARY, smoothing).fit(STREAM[:2000])
    for context in ([], [1], [0, 1], [4, 5, 6], [9, 9, 9]):
        texts = [np.array([*context, w]) for w in range(VOCABULARY)]
        total = sum(model.probabilities(t)[-1] for t in texts)
        assert total == pytest.approx(1.0, abs=1e-9)
        assert all(model.probabilities(t)[-1] > 0 for t in texts)  # unseen ids too


def test_witten_bell_unigram_by_hand():
    ids = np.array([0, 0, 0, 1, 2, 2])
    model = NGramModel(1, 4, "witten_bell").fit(ids)
    # (c(w) + T / V) / (N + T): N = 6 ids, T = 3 distinct, V = 4.
    expected = [(3 + 0.75) / 9, (1 + 0.75) / 9, (2 + 0.75) / 9, 0.75 / 9]
    np.testing.assert_allclose(model.probabilities(np.arange(4)), expected)


def test_kneser_ney_counts_continuations_below_the_top():
    # "1" follows only 0; "2" follows 0, 1 and 3: as a continuation "2" is the likelier.
    ids = np.array([0, 1] * 20 + [0, 2, 1, 2, 3, 2])
    model = NGramModel(2, 5, "kneser_ney").fit(ids)
    p_after_unseen_context = model.probabilities(np.array([4, 1, 4, 2]))[[1, 3]]
    assert p_after_unseen_context[1] > p_after_unseen_context[0]
    # A unigram model reads the raw counts, where "1" is far more frequent.
    unigram = model.probabilities(np.array([1, 2]), order=1)
    assert unigram[0] > unigram[1]


def test_a_deterministic_pattern_is_learned_by_the_right_order():
    ids = np.tile([0, 1, 2, 1], 500)  # after 1 comes 2 or 0: a bigram cannot tell which
    model = NGramModel(3, 3).fit(ids)
    bits = model.bits_by_order(ids[:400])
    assert bits[1] == pytest.approx(1.5, abs=0.01)  # p = (1/4, 1/2, 1/4)
    assert bits[2] == pytest.approx(0.5, abs=0.02)  # half the ids certain, half a coin
    assert bits[3] < 0.05


@pytest.mark.parametrize("smoothing", ["kneser_ney", "witten_bell"])
def test_bits_by_order_equals_each_order(smoothing):
    model = NGramModel(5, VOCABULARY, smoothing).fit(STREAM[:2500])
    held_out = STREAM[2500:]
    by_order = model.bits_by_order(held_out)
    for order in range(1, 6):
        assert by_order[order] == pytest.approx(model.bits_per_token(held_out, order=order))
    assert by_order[3] < by_order[2] < by_order[1]  # the words need context


def test_high_orders_fit_a_large_vocabulary():
    # Context ids are dense, so no order overflows: 90 ** 16 would not fit in an int64.
    rng = np.random.default_rng(1)
    words = [rng.integers(0, 90, rng.integers(3, 12)) for _ in range(40)]
    ids = np.concatenate([words[i] for i in rng.integers(0, 40, 2000)])
    model = NGramModel(16, 90).fit(ids[:-3000])
    bits = model.bits_by_order(ids[-3000:])
    assert bits[16] < bits[2] / 2  # the long contexts are used
    context = ids[-40:]
    total = sum(model.probabilities(np.r_[context, w])[-1] for w in range(90))
    assert total == pytest.approx(1.0, abs=1e-9)


def test_lower_order_of_a_higher_model_is_the_lower_model():
    high = NGramModel(4, VOCABULARY, "witten_bell").fit(STREAM[:2000])
    low = NGramModel(2, VOCABULARY, "witten_bell").fit(STREAM[:2000])
    np.testing.assert_allclose(
        high.probabilities(STREAM[2000:], order=2), low.probabilities(STREAM[2000:])
    )


@pytest.mark.parametrize(
    "args",
    [
        dict(order=0, vocabulary_size=5),
        dict(order=2.0, vocabulary_size=5),
        dict(order=2, vocabulary_size=0),
        dict(order=2, vocabulary_size=5, smoothing="laplace"),
    ],
)
def test_bad_construction_raises(args):
    with pytest.raises(ValueError):
        NGramModel(**args)


@pytest.mark.parametrize(
    "ids", [np.array([[0, 1], [1, 0]]), np.array([0.0, 1.0, 2.0]), np.array([0, 1, 5]), [0, 1]]
)
def test_bad_ids_raise(ids):
    with pytest.raises(ValueError):
        NGramModel(3, 5).fit(ids)


def test_bad_use_raises():
    model = NGramModel(3, 5)
    with pytest.raises(ValueError, match="fit"):
        model.probabilities(np.array([0, 1]))
    model.fit(np.array([0, 1, 2, 3, 4]))
    for order in (0, 4, 2.5):
        with pytest.raises(ValueError):
            model.probabilities(np.array([0, 1]), order=order)
    with pytest.raises(ValueError):
        model.probabilities(np.array([0, 7]))


def test_empty_ids_are_refused_not_scored_nan():
    """The mean over no ids is no score: before, nan and NumPy RuntimeWarnings."""
    model = NGramModel(3, 5).fit(np.array([0, 1, 2, 3, 4, 0, 1, 2]))
    empty = np.array([], dtype="int64")
    assert model.probabilities(empty).shape == (0,)  # no ids, no probabilities: fine
    with pytest.raises(ValueError, match="No ids to score"):
        model.bits_per_token(empty)
    with pytest.raises(ValueError, match="No ids to score"):
        model.bits_by_order(empty)


def test_numpy_integers_are_accepted_and_bools_refused():
    model = NGramModel(np.int32(3), np.int64(5)).fit(np.array([0, 1, 2, 3, 4, 0, 1, 2]))
    ids = np.array([0, 1, 2])
    expected = model.probabilities(ids, order=2)
    np.testing.assert_allclose(model.probabilities(ids, order=np.int8(2)), expected)
    with pytest.raises(ValueError, match="`order` must be in 1..3, received True"):
        model.probabilities(ids, order=True)  # before: read silently as order 1
