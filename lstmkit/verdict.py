"""Which of two models is better, decided by the run with its uncertainty, as a sentence.

A lesson never writes "A beats B" or "they tie" in fixed prose when the answer can change
with the backend, the seed or an exercise's edit. It prints the verdict these functions
compute from the run's own scores:

    from lstmkit.verdict import paired_bootstrap, spread

    verdict = paired_bootstrap(
        correct_lstm, correct_baseline,            # (n_test,) per-example scores, paired
        names=("the LSTM", "bag-of-words"), metric="test accuracy", unit="test sentences",
    )
    print(verdict)       # the LSTM beats bag-of-words on test accuracy: 0.781 vs 0.752, ...
    verdict.word         # "beats", "ties" or "loses to"
    assert verdict.word != "loses to", verdict

- `paired_bootstrap` resamples paired units (test examples, timing rounds) with replacement
  and reads a percentile interval of the difference (or ratio) of a statistic; the
  statistic is the mean by default, or any function of the resampled rows (the median of
  timing rounds, corpus BLEU from per-sentence counts).
- `spread` is for a handful of paired units (seeds): the interval is the range the
  per-unit differences (or ratios) cover, so "beats" means every unit agrees.
- `signed_rank` is for a few more runs (5 or more): the exact signed-rank (Wilcoxon)
  interval of the per-run difference, so one run that goes the other way by a little does
  not undo a clear gain; `signed_rank_chance` says how often it says "beats" by luck.

The verdict is "beats" when the whole interval favours the first model by more than
`margin`, "loses to" when it favours the second, and "ties" otherwise: no difference this
run can tell apart from its own noise, not a proof that the two are equal.
"""

import dataclasses
import fractions
import itertools
import numbers

import numpy as np

WORDS = ("beats", "ties", "loses to")


@dataclasses.dataclass(frozen=True)
class Verdict:
    """A comparison of model A with model B, with its interval.

    Attributes:
        word: `"beats"`, `"ties"` or `"loses to"`: how A stands against B.
        names: The two models' names, `(a, b)`.
        metric: What was compared, e.g. `"test accuracy"`.
        value_a, value_b: The statistic of each on all units.
        estimate: `value_a - value_b`, or `value_a / value_b` when `relative`.
        low, high: The interval of the estimate.
        relative: Whether the estimate is a ratio (compared with 1) or a difference (with 0).
        higher_is_better: Whether a larger metric is better.
        method: How the interval was made, e.g. `"95 % paired-bootstrap interval"`.
        count: How many paired units were compared, and `unit` what they are.
        percent: Whether values are shown as percentages (differences in points).
        digits: Decimals shown.
        values_are: What `value_a` and `value_b` are when not the statistic on all units
            (`"medians"` for `spread`), shown in the sentence.
    """

    word: str
    names: tuple
    metric: str
    value_a: float
    value_b: float
    estimate: float
    low: float
    high: float
    relative: bool
    higher_is_better: bool
    method: str
    count: int
    unit: str
    percent: bool = False
    digits: int = 3
    values_are: str = ""

    def _value(self, value):
        return (
            f"{value * 100:.{max(self.digits - 2, 1)}f} %"
            if self.percent
            else (f"{value:.{self.digits}f}")
        )

    def _change(self, value, suffix=True):
        if self.relative:
            return f"{value:.{self.digits - 1}f}×"
        if self.percent:
            points = " points" if suffix else ""
            return f"{value * 100:+.{max(self.digits - 2, 1)}f}{points}"
        return f"{value:+.{self.digits}f}"

    @property
    def sentence(self):
        """One printable sentence: the verdict, both values, the estimate and its interval."""
        a, b = self.names
        kind = "ratio" if self.relative else "difference"
        values_are = f" ({self.values_are})" if self.values_are else ""
        return (
            f"{a} {self.word} {b} on {self.metric}: {self._value(self.value_a)} vs "
            f"{self._value(self.value_b)}{values_are}, {kind} {self._change(self.estimate)} "
            f"({self.method} {self._change(self.low, suffix=False)} to "
            f"{self._change(self.high)}, {self.count:,} {self.unit})."
        )

    def __str__(self):
        return self.sentence


def _judge(low, high, relative, higher_is_better, margin):
    """`"beats"`, `"ties"` or `"loses to"` from an interval of A against B."""
    centre = 1.0 if relative else 0.0
    sign = 1.0 if higher_is_better else -1.0
    low_gain, high_gain = sorted(((low - centre) * sign, (high - centre) * sign))
    if low_gain > margin:
        return "beats"
    if high_gain < -margin:
        return "loses to"
    return "ties"


def _paired_arrays(scores_a, scores_b, minimum):
    a = np.asarray(scores_a, dtype="float64")
    b = np.asarray(scores_b, dtype="float64")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("The scores must be arrays with one entry (or row) per paired unit.")
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"The scores must be paired: received {a.shape[0]} units for the first model "
            f"and {b.shape[0]} for the second."
        )
    if a.shape[0] < minimum:
        raise ValueError(f"At least {minimum} paired units are needed, received {a.shape[0]}.")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("The scores hold NaN or infinity.")
    return a, b


def _check_common(names, confidence, margin):
    if len(names) != 2 or not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"Argument `names` must be two non-empty strings, received {names!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"Argument `confidence` must be in (0, 1), received {confidence}.")
    if not margin >= 0:
        raise ValueError(f"Argument `margin` must be >= 0, received {margin}.")


def _check_ratio(values_a, values_b):
    """A ratio reads "A is x times B" only for statistics >= 0 (times, errors, counts): with
    negative ones (log-likelihoods) a better A gives a ratio on the wrong side of 1."""
    if np.any(np.asarray(values_b) == 0):
        raise ValueError("A ratio needs the second model's statistic to be non-zero.")
    if np.any(np.asarray(values_a) < 0) or np.any(np.asarray(values_b) < 0):
        raise ValueError(
            "A ratio (relative=True) compares statistics >= 0, such as times or errors; "
            "with negative ones it reads the wrong way round. Compare the difference "
            "(relative=False)."
        )


def _compare(value_a, value_b, relative):
    if relative:
        _check_ratio(value_a, value_b)
        return value_a / value_b
    return value_a - value_b


def paired_bootstrap(
    scores_a,
    scores_b,
    *,
    names=("A", "B"),
    metric="score",
    unit="examples",
    statistic=None,
    relative=False,
    higher_is_better=True,
    confidence=0.95,
    margin=0.0,
    resamples=5000,
    seed=0,
    percent=False,
    digits=3,
):
    """Compares two models on the same units by a paired bootstrap.

    Each resample draws the units (test examples, timing rounds) with replacement, the same
    draw for both models, and computes the statistic of each; the interval is the central
    `confidence` share of the resampled differences (or ratios).

    Args:
        scores_a, scores_b: Arrays with one entry (or one row) per unit, paired: entry `i`
            of both belongs to the same test example or round. At least 2 units.
        names: The two models' names, as they should read in the sentence.
        metric: What the statistic measures, e.g. `"test accuracy"`.
        unit: What the units are, e.g. `"test sentences"`, `"rounds"`.
        statistic: A function from a (resampled) array of rows to a number; default the
            mean over axis 0. E.g. `np.median`, or corpus BLEU from per-sentence counts.
        relative: Compare the ratio A / B with 1 instead of the difference with 0 (for
            statistics >= 0, such as times or errors).
        higher_is_better: Whether a larger statistic is better (accuracy: yes; loss, bits
            per character, seconds per step: no).
        confidence: The interval's coverage.
        margin: How far past 0 (or 1) the whole interval must lie for "beats" or "loses to".
        resamples: How many bootstrap resamples.
        seed: Seed of the resampling (NumPy), so the verdict is the same on every backend.
        percent: Show values as percentages and differences in percentage points.
        digits: Decimals shown.

    Returns:
        A `Verdict`; `str(verdict)` is the sentence to print.
    """
    _check_common(names, confidence, margin)
    a, b = _paired_arrays(scores_a, scores_b, minimum=2)
    if (
        not isinstance(resamples, numbers.Integral)
        or isinstance(resamples, bool)
        or resamples < 100
    ):
        raise ValueError(f"Argument `resamples` must be an int >= 100, received {resamples!r}.")
    rng = np.random.default_rng(seed)
    count = a.shape[0]
    draws = rng.integers(0, count, size=(resamples, count))  # (resamples, count) unit indices
    if statistic is None:
        if a.ndim != 1 or b.ndim != 1:
            raise ValueError("With the default mean, the scores must be 1-D; pass `statistic`.")
        value_a, value_b = float(a.mean()), float(b.mean())
        resampled_a = a[draws].mean(axis=1)  # (resamples,)
        resampled_b = b[draws].mean(axis=1)
    else:
        value_a, value_b = float(statistic(a)), float(statistic(b))
        resampled_a = np.array([float(statistic(a[draw])) for draw in draws])
        resampled_b = np.array([float(statistic(b[draw])) for draw in draws])
    if relative:
        _check_ratio(resampled_a, resampled_b)  # the point values: in _compare below
        changes = resampled_a / resampled_b
    else:
        changes = resampled_a - resampled_b
    tail = (1 - confidence) / 2
    low, high = (float(q) for q in np.quantile(changes, [tail, 1 - tail]))
    return Verdict(
        word=_judge(low, high, relative, higher_is_better, margin),
        names=tuple(names),
        metric=metric,
        value_a=value_a,
        value_b=value_b,
        estimate=float(_compare(value_a, value_b, relative)),
        low=low,
        high=high,
        relative=relative,
        higher_is_better=higher_is_better,
        method=f"{confidence * 100:g} % paired-bootstrap interval",
        count=count,
        unit=unit,
        percent=percent,
        digits=digits,
    )


def spread(
    values_a,
    values_b,
    *,
    names=("A", "B"),
    metric="score",
    unit="seeds",
    relative=False,
    higher_is_better=True,
    margin=0.0,
    percent=False,
    digits=3,
):
    """Compares two models over a few paired runs (seeds), by the range of their gaps.

    Entry `i` of both arrays comes from the same seed (or round). The estimate is the median
    of the per-run differences (or ratios); the interval is their whole range, so "beats"
    means A was better in every run, by more than `margin`.

    Args:
        values_a, values_b: One number per run for each model, paired; at least 2 runs.
        names, metric, unit, relative, higher_is_better, margin, percent, digits: As for
            `paired_bootstrap`.

    Returns:
        A `Verdict`; its values are the medians over the runs.
    """
    _check_common(names, 0.5, margin)
    a, b = _runs(values_a, values_b, relative, "spread")
    changes = a / b if relative else a - b  # (runs,)
    return _verdict_over_runs(
        a,
        b,
        (float(np.median(changes)), float(changes.min()), float(changes.max())),
        f"range over the {unit}",
        names=names,
        metric=metric,
        unit=unit,
        relative=relative,
        higher_is_better=higher_is_better,
        margin=margin,
        percent=percent,
        digits=digits,
    )


def _runs(values_a, values_b, relative, function):
    """The paired per-run values as two 1-D float arrays of at least 2 runs, each finite;
    for a ratio, also checked by `_check_ratio`."""
    a, b = _paired_arrays(values_a, values_b, minimum=2)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"`{function}` takes one number per run: 1-D arrays.")
    if relative:
        _check_ratio(a, b)
    return a, b


def _verdict_over_runs(
    a, b, estimate_low_high, method, *, names, relative, higher_is_better, margin, **sentence
):
    """The `Verdict` over paired runs: its values are the medians of `a` and `b`."""
    estimate, low, high = (float(value) for value in estimate_low_high)
    return Verdict(
        word=_judge(low, high, relative, higher_is_better, margin),
        names=tuple(names),
        value_a=float(np.median(a)),
        value_b=float(np.median(b)),
        estimate=estimate,
        low=low,
        high=high,
        relative=relative,
        higher_is_better=higher_is_better,
        method=method,
        count=a.shape[0],
        values_are="medians",
        **sentence,
    )


def _signed_rank_counts(runs):
    """How many of the 2^runs sign patterns give each positive-rank sum, cumulated.

    Under "no difference" each of the `runs` ranks is positive or negative with chance 1/2,
    independently; the patterns whose positive ranks sum to `s` are counted one rank at a
    time. Returns `counts[s]`: the patterns whose sum is at most `s`, for s = 0 .. the
    largest sum runs (runs + 1) / 2.
    """
    largest = runs * (runs + 1) // 2
    patterns = [1] + [0] * largest  # patterns[s]: sign patterns whose positive ranks sum to s
    for rank in range(1, runs + 1):
        patterns = [
            count + (patterns[s - rank] if s >= rank else 0) for s, count in enumerate(patterns)
        ]
    return list(itertools.accumulate(patterns))


def _signed_rank_cut(runs, confidence):
    """`(outside, chance)` for a signed-rank interval over `runs` runs: how many pair
    averages it leaves out at each end (`k - 1`), and the chance of a positive-rank sum of
    at most `outside - 1`, the interval's one-sided level, as a `fractions.Fraction`."""
    if not isinstance(runs, numbers.Integral) or isinstance(runs, bool) or runs < 2:
        raise ValueError(f"Argument `runs` must be an int >= 2, received {runs!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"Argument `confidence` must be in (0, 1), received {confidence}.")
    chances = [fractions.Fraction(count, 2**runs) for count in _signed_rank_counts(runs)]
    outside = sum(chance <= (1 - confidence) / 2 for chance in chances)  # chances rise
    if outside == 0:
        raise ValueError(
            f"{runs} runs are too few for a {confidence * 100:g} % signed-rank interval: "
            f"every run agreeing has chance 1/{2**runs} on its own; use more runs or `spread`."
        )
    return outside, chances[outside - 1]


def signed_rank_chance(runs, confidence=0.9):
    """The chance that `signed_rank` over `runs` runs says "beats" for two procedures whose
    runs are exchangeable (a given one of the two, judged better by luck alone), as a
    `fractions.Fraction`: 3/64 for 6 runs at `confidence=0.9`; `(1 - coverage) / 2`.

    Raises `ValueError` when `runs` are too few for `confidence`: when even every run
    agreeing is more likely than `(1 - confidence) / 2`.
    """
    return _signed_rank_cut(runs, confidence)[1]


def signed_rank(
    values_a,
    values_b,
    *,
    names=("A", "B"),
    metric="score",
    unit="seeds",
    relative=False,
    higher_is_better=True,
    confidence=0.9,
    margin=0.0,
    percent=False,
    digits=3,
):
    """Compares two models over paired runs (seeds) by the signed-rank (Wilcoxon) interval.

    Entry `i` of both arrays comes from the same seed. The estimate is the Hodges-Lehmann
    estimate of the per-run difference: the median of the averages of every pair of
    per-run differences (each with itself included). The interval runs from the `k`-th
    smallest to the `k`-th largest of those averages, with `k` the largest for which the
    exact signed-rank test keeps the interval's coverage at least `confidence`. Unlike
    `spread`, one run that goes the other way by a little does not undo a clear gain; unlike
    a t interval, it assumes no bell curve, only that a difference of zero is as likely to
    come out positive as negative.

    "Beats" at this interval is the one-sided signed-rank test at level
    `(1 - coverage) / 2`: for two procedures whose runs are exchangeable, a given one is
    judged better by chance that often (`signed_rank_chance`: 3/64 for 6 runs at 0.9,
    where the coverage is 90.6 %).

    Args:
        values_a, values_b: One number per run for each model, paired.
        confidence: The least coverage wanted; the interval's coverage is the smallest the
            exact test offers at or above it. Too few runs for it raise `ValueError` (at
            0.9, fewer than 5).
        names, metric, unit, relative, higher_is_better, margin, percent, digits: As for
            `paired_bootstrap`. With `relative=True` the per-run differences are those of
            the logarithms, and the estimate and interval are ratios.

    Returns:
        A `Verdict`; its values are the medians over the runs.
    """
    _check_common(names, confidence, margin)
    a, b = _runs(values_a, values_b, relative, "signed_rank")
    if relative:
        if np.any(a == 0):
            raise ValueError("A ratio over runs needs every first value to be non-zero.")
        changes = np.log(a) - np.log(b)  # (runs,)
    else:
        changes = a - b  # (runs,)
    runs = changes.shape[0]
    # Leave out the k - 1 smallest and the k - 1 largest pair averages, where a positive-rank
    # sum of at most k - 1 has chance `chance`.
    outside, chance = _signed_rank_cut(runs, confidence)
    first, second = np.triu_indices(runs)
    pair_averages = np.sort((changes[first] + changes[second]) / 2)  # (runs (runs + 1) / 2,)
    low, high = pair_averages[outside - 1], pair_averages[-outside]
    estimate = float(np.median(pair_averages))
    if relative:
        low, high, estimate = np.exp(low), np.exp(high), np.exp(estimate)
    return _verdict_over_runs(
        a,
        b,
        (estimate, low, high),
        f"{float(1 - 2 * chance) * 100:.1f} % signed-rank interval over the {unit}",
        names=names,
        metric=metric,
        unit=unit,
        relative=relative,
        higher_is_better=higher_is_better,
        margin=margin,
        percent=percent,
        digits=digits,
    )
