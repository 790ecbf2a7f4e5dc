"""lstmkit.verdict: the verdict word follows the interval, the sentence shows the numbers."""

import fractions
import itertools

import numpy as np
import pytest

from lstmkit import verdict as verdict_module
from lstmkit.verdict import Verdict, paired_bootstrap, spread


def _scores(rate, count=2000, seed=0):
    return np.random.default_rng(seed).random(count) < rate  # (count,) correct or not


def test_a_clear_gain_beats_and_its_mirror_loses():
    better, worse = _scores(0.85), _scores(0.70, seed=1)
    verdict = paired_bootstrap(better, worse, names=("A", "B"), metric="accuracy")
    assert verdict.word == "beats"
    assert verdict.low > 0 and verdict.high > verdict.low
    assert verdict.estimate == pytest.approx(better.mean() - worse.mean())
    assert paired_bootstrap(worse, better).word == "loses to"


def test_equal_models_tie_and_a_small_gap_on_few_examples_ties():
    same = _scores(0.8)
    assert paired_bootstrap(same, same).word == "ties"
    a, b = _scores(0.80, count=100, seed=2), _scores(0.78, count=100, seed=3)
    verdict = paired_bootstrap(a, b)
    assert verdict.word == "ties" and verdict.low < 0 < verdict.high


def test_lower_is_better_flips_the_word():
    low_loss, high_loss = np.full(50, 0.1), np.full(50, 0.3)
    low_loss = low_loss + np.random.default_rng(0).normal(0, 0.01, 50)
    assert paired_bootstrap(low_loss, high_loss, higher_is_better=False).word == "beats"
    assert paired_bootstrap(low_loss, high_loss, higher_is_better=True).word == "loses to"


def test_margin_turns_a_small_real_gain_into_a_tie():
    a = np.linspace(0.50, 0.52, 200)
    b = a - 0.01  # A better by exactly 0.01 on every unit
    assert paired_bootstrap(a, b).word == "beats"
    assert paired_bootstrap(a, b, margin=0.02).word == "ties"


def test_relative_median_of_timing_rounds():
    rng = np.random.default_rng(0)
    fast, slow = rng.normal(9.0, 0.3, 20), rng.normal(10.0, 0.3, 20)  # (rounds,) ms
    verdict = paired_bootstrap(
        fast, slow, statistic=np.median, relative=True, higher_is_better=False, unit="rounds"
    )
    assert verdict.word == "beats"
    assert verdict.estimate == pytest.approx(np.median(fast) / np.median(slow))
    assert verdict.low < verdict.estimate < verdict.high < 1
    assert "ratio 0.9" in verdict.sentence and "20 rounds" in verdict.sentence


def test_statistic_over_rows_is_a_corpus_level_score():
    # Rows (hits, total) per sentence; the statistic is the pooled rate, not a mean of rates.
    rng = np.random.default_rng(0)
    totals = rng.integers(1, 20, 300)
    a = np.stack([rng.binomial(totals, 0.6), totals], axis=1)  # (sentences, 2)
    b = np.stack([rng.binomial(totals, 0.4), totals], axis=1)

    def pooled(rows):
        return rows[:, 0].sum() / rows[:, 1].sum()

    verdict = paired_bootstrap(a, b, statistic=pooled)
    assert verdict.value_a == pytest.approx(pooled(a))
    assert verdict.word == "beats"


def test_the_same_seed_gives_the_same_interval():
    a, b = _scores(0.8, count=300), _scores(0.77, count=300, seed=5)
    first, again = paired_bootstrap(a, b, seed=3), paired_bootstrap(a, b, seed=3)
    assert (first.low, first.high) == (again.low, again.high)


def test_spread_needs_every_seed_to_agree():
    agree = spread([0.80, 0.82, 0.79], [0.70, 0.75, 0.72], unit="seeds")
    assert agree.word == "beats"
    assert agree.low == pytest.approx(0.07) and agree.high == pytest.approx(0.10)
    split = spread([0.80, 0.70, 0.79], [0.75, 0.75, 0.72])
    assert split.word == "ties"
    assert spread([1.0, 1.1], [2.0, 2.0], relative=True, higher_is_better=False).word == "beats"
    assert "(medians)" in split.sentence and "3 seeds" in split.sentence


def test_the_sentence_shows_names_values_and_interval():
    verdict = paired_bootstrap(
        _scores(0.85),
        _scores(0.70, seed=1),
        names=("the LSTM", "bag-of-words"),
        metric="test accuracy",
        unit="test sentences",
        percent=True,
    )
    text = str(verdict)
    assert text.startswith("the LSTM beats bag-of-words on test accuracy: ")
    assert f"{verdict.value_a * 100:.1f} %" in text and "points" in text
    assert "95 % paired-bootstrap interval" in text and "2,000 test sentences" in text
    assert isinstance(verdict, Verdict)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: paired_bootstrap([1, 2, 3], [1, 2]), "paired"),
        (lambda: paired_bootstrap([1.0], [2.0]), "At least 2"),
        (lambda: paired_bootstrap([1, np.nan], [1, 2]), "NaN"),
        (lambda: paired_bootstrap([1, 2], [1, 2], confidence=1.5), "confidence"),
        (lambda: paired_bootstrap([1, 2], [1, 2], names=("a",)), "names"),
        (lambda: paired_bootstrap([1, 2], [1, 2], margin=-1), "margin"),
        (lambda: paired_bootstrap([1, 2], [1, 2], resamples=10), "resamples"),
        (lambda: paired_bootstrap([1, 2], [0, 0], relative=True), "non-zero"),
        (lambda: paired_bootstrap(np.ones((4, 2)), np.ones((4, 2))), "statistic"),
        (lambda: spread([1, 2], [0, 1], relative=True), "non-zero"),
        # A better (higher) log-likelihood A over B gave a ratio below 1: "loses to".
        (lambda: paired_bootstrap([-1.0, -1.5], [-2.0, -2.5], relative=True), ">= 0"),
        (lambda: spread([-1.0, -1.5], [-2.0, -2.5], relative=True), ">= 0"),
        (lambda: spread(np.ones((3, 2)), np.ones((3, 2))), "1-D"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_numpy_integers_are_accepted_for_resamples():
    a, b = _scores(0.8, count=300), _scores(0.7, count=300, seed=5)
    expected = paired_bootstrap(a, b, resamples=1000)
    assert paired_bootstrap(a, b, resamples=np.int64(1000)) == expected
    with pytest.raises(ValueError, match="resamples"):
        paired_bootstrap(a, b, resamples=True)


def test_signed_rank_counts_match_every_sign_pattern():
    # The exact null distribution, against brute force over all 2^runs sign patterns.
    for runs in range(2, 9):
        sums = [
            sum(rank for rank, positive in zip(range(1, runs + 1), signs) if positive)
            for signs in itertools.product([False, True], repeat=runs)
        ]
        counts = verdict_module._signed_rank_counts(runs)
        assert counts == [sum(s <= bound for s in sums) for bound in range(len(counts))]


def test_signed_rank_beats_exactly_when_the_one_sided_wilcoxon_test_rejects():
    # The reference: scipy's exact signed-rank test, at the interval's own level.
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    chance = float(verdict_module.signed_rank_chance(6))
    for _ in range(300):
        changes = rng.normal(rng.normal(0, 1), 1, size=6)
        result = verdict_module.signed_rank(changes, np.zeros(6))
        p_value = stats.wilcoxon(changes, alternative="greater", method="exact").pvalue
        assert (result.word == "beats") == (p_value <= chance + 1e-12), (changes, p_value)


def test_signed_rank_survives_one_small_reversal_that_spread_does_not():
    changes = np.array([0.003, -0.01, -0.02, -0.05, -0.1, -0.129])  # lower is better
    zeros = np.zeros(6)
    assert verdict_module.spread(changes, zeros, higher_is_better=False).word == "ties"
    result = verdict_module.signed_rank(changes, zeros, higher_is_better=False)
    assert result.word == "beats", result
    assert result.method == "90.6 % signed-rank interval over the seeds"
    assert verdict_module.signed_rank_chance(6) == fractions.Fraction(3, 64)
    # Two reversals, or the same values on both sides, are not a gain.
    changes[1] = 0.01
    assert verdict_module.signed_rank(changes, zeros, higher_is_better=False).word == "ties"
    assert verdict_module.signed_rank(zeros, zeros).word == "ties"


def test_signed_rank_relative_reads_ratios_and_refuses_too_few_runs():
    result = verdict_module.signed_rank([2.0, 2.1, 1.9, 2.2, 2.05], [1.0] * 5, relative=True)
    assert result.word == "beats" and 1.9 <= result.low <= result.high <= 2.2, result
    with pytest.raises(ValueError, match="too few"):
        verdict_module.signed_rank([1, 2, 3, 4], [0, 0, 0, 0])
