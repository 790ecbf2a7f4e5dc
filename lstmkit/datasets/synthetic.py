"""Seeded synthetic tasks (NumPy, deterministic under `seed`).

make_sine            a sine wave, optionally noisy                  (length,)
make_adding_problem  the adding problem (Arjovsky et al.'s form)     x (n, length, 2), y (n, 1)
make_latch           set/reset pulses; target: the last one         x, y (n, length, 1)
steps_since_pulse    steps since the last pulse, at every step      (n, length)
make_tagging_task    per-step tags that need a later step           x (n, length), y (n, length)
make_dates           human-written dates and their ISO form         two lists of n strings
date_vocabularies    `CharVocabulary`s for the dates' inputs and targets
make_date_splits     lesson 07's training dates, and test dates whose inputs it has not seen
encode_dates         dates as ids: source, decoder input, decoder target
"""

import datetime

import numpy as np

from lstmkit.datasets._checks import positive_int
from lstmkit.datasets.text import CharVocabulary


def make_sine(length=1000, period=50.0, amplitude=1.0, noise_std=0.0, seed=0):
    """A sine wave `amplitude * sin(2 pi t / period)` plus Gaussian noise.

    Returns:
        float32 array `(length,)`.
    """
    length = positive_int("length", length, minimum=2)
    if not period > 0:
        raise ValueError(f"Argument `period` must be positive, received {period!r}.")
    if noise_std < 0:
        raise ValueError(f"Argument `noise_std` must be >= 0, received {noise_std!r}.")
    t = np.arange(length)
    wave = amplitude * np.sin(2 * np.pi * t / period)
    noise = np.random.default_rng(seed).normal(0.0, noise_std, size=length) if noise_std else 0.0
    return (wave + noise).astype("float32")


def make_adding_problem(num_samples, length=100, seed=0):
    """The adding problem, in the form of Le, Jaitly & Hinton (2015) and Arjovsky et al. (2016).

    Each step holds a pair (value, marker): values are uniform in [0, 1], and
    exactly two markers are 1, one in each half of the sequence. The target is
    the plain sum of the two marked values. Always answering the mean (1.0) scores
    an MSE of Var(U1 + U2) = 1/6 = 0.167; to do better, a model must carry the first
    marked value across at least half the sequence.

    This is a later variant of Hochreiter & Schmidhuber's (1997) Experiment 4, which
    drew values from [-1, 1], put the first marker within the first 10 steps, and set
    the target to 0.5 + (X1 + X2) / 4; the variant here is the one later papers
    benchmark, with the baseline 0.167.

    Returns:
        x: float32 `(num_samples, length, 2)`; y: float32 `(num_samples, 1)`.
    """
    num_samples = positive_int("num_samples", num_samples)
    length = positive_int("length", length, minimum=2)
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


def make_latch(num_samples, length=30, pulse_probability=0.2, seed=0):
    """A latch: mostly silence (0), with occasional set (+1) and reset (-1) pulses.

    At every step the target is 1 if the last pulse so far was a set, and 0 if it was a
    reset or there has been no pulse yet (the latch starts reset). Sets and resets are
    equally likely, each with probability `pulse_probability / 2` at every step. A model
    must write at a pulse and hold the value through the silence after it: at a step k
    steps after the last pulse, only a memory of at least k steps can know the answer.

    Returns:
        x: float32 `(num_samples, length, 1)`, the pulses; y: float32
        `(num_samples, length, 1)`, 0 or 1.
    """
    num_samples = positive_int("num_samples", num_samples)
    length = positive_int("length", length)
    if not 0 < pulse_probability <= 1:
        raise ValueError(
            f"Argument `pulse_probability` must be in (0, 1], received {pulse_probability!r}."
        )
    rng = np.random.default_rng(seed)
    half = pulse_probability / 2
    pulses = rng.choice(
        [-1.0, 0.0, 1.0], p=[half, 1 - pulse_probability, half], size=(num_samples, length)
    )
    state = np.zeros(num_samples)  # (n,) the latch, reset at the start
    targets = np.zeros((num_samples, length))
    for t in range(length):
        state = np.where(pulses[:, t] != 0, pulses[:, t] > 0, state)
        targets[:, t] = state
    return pulses[..., None].astype("float32"), targets[..., None].astype("float32")


def steps_since_pulse(pulses):
    """Steps since the last non-zero input at every step: 0 at a pulse, -1 before the first.

    Args:
        pulses: `(num_samples, length)` (or `(num_samples, length, 1)`) inputs, as
            `make_latch`'s x.

    Returns:
        int64 `(num_samples, length)`.
    """
    pulses = np.asarray(pulses)
    if pulses.ndim == 3 and pulses.shape[-1] == 1:
        pulses = pulses[..., 0]
    if pulses.ndim != 2:
        raise ValueError(f"`pulses` must be (num_samples, length), received shape {pulses.shape}.")
    since = np.full(pulses.shape, -1)
    last = np.full(pulses.shape[0], -1)  # (n,) the step of the last pulse so far
    for t in range(pulses.shape[1]):
        last = np.where(pulses[:, t] != 0, t, last)
        since[:, t] = np.where(last >= 0, t - last, -1)
    return since


def make_tagging_task(num_samples, length=20, num_classes=4, min_length=None, seed=0, reach=1):
    """Tag each token with the sum of its two neighbours, modulo `num_classes`.

    Tokens are 1..num_classes (0 is padding). The tag of step t is
    `(v[t-1] + v[t+1]) % num_classes`, where `v = token - 1` and a missing
    neighbour (before the start or after the end) counts as 0. The next token
    is drawn independently of everything before it, so at every step that has a
    next token a model that reads left to right cannot know `v[t+1]` and scores
    `1 / num_classes` at best there. At the last step of a sequence the tag is
    `v[t-1]` alone — knowable, if the reader can tell that the step is the last
    (it can when every sequence has the same length). A model that also reads
    right to left can score 100% everywhere.

    With `reach=r` the tag needs the token r steps ahead instead: `(v[t-1] + v[t+r])
    % num_classes`; a left-to-right reader then knows it only at the last r steps.

    Args:
        num_samples: Number of sequences.
        length: Padded length of every sequence.
        num_classes: Number of token values and of tags.
        min_length: If given, each sequence's real length is drawn from
            `[min_length, length]` and the rest is padded with 0 on the right
            (tags of padded steps are 0 and should be masked).
        seed: Seed.
        reach: How far ahead the right neighbour is (1: the next token).

    Returns:
        x: int32 `(num_samples, length)`; y: int32 `(num_samples, length)`;
        lengths: int32 `(num_samples,)`.
    """
    num_samples = positive_int("num_samples", num_samples)
    length = positive_int("length", length, minimum=2)
    num_classes = positive_int("num_classes", num_classes, minimum=2)
    if min_length is None:
        min_length = length
    min_length = positive_int("min_length", min_length, minimum=2)
    if min_length > length:
        raise ValueError(f"`min_length` ({min_length}) must be <= `length` ({length}).")
    reach = positive_int("reach", reach)
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_length, length + 1, size=num_samples)  # (n,)
    values = rng.integers(0, num_classes, size=(num_samples, length))  # (n, length)
    steps = np.arange(length)
    real = steps[None, :] < lengths[:, None]  # (n, length) True on real tokens
    values = np.where(real, values, 0)
    previous = np.pad(values, ((0, 0), (1, 0)))[:, :-1]  # v[t-1], 0 before the start
    following = np.pad(values, ((0, 0), (0, reach)))[:, reach:]  # v[t+reach], 0 after the end
    following = np.where(steps[None, :] + reach < lengths[:, None], following, 0)
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


_TWO_DIGIT_YEARS = (1950, 2049)  # the years a two-digit year is read as


def make_dates(
    num_samples, seed=0, start=datetime.date(1950, 1, 1), end=datetime.date(2049, 12, 31)
):
    """Dates written in many human formats, and the same dates as ISO `YYYY-MM-DD`.

    Formats include "3 March 2021", "Mar 3 2021", "Wed, Mar 3 2021", "03/03/21"
    (day first), "2021/03/03" and "03Mar2021". Two-digit years are read as
    1950-2049, so a date outside those years (with another `start` or `end`) is
    written with all four digits in that format ("03/03/1921"): every input names
    exactly one date.

    Returns:
        inputs: list of `num_samples` human-written dates;
        targets: list of the same dates as ISO strings.
    """
    num_samples = positive_int("num_samples", num_samples)
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
        written = _DATE_FORMATS[fmt]
        if not _TWO_DIGIT_YEARS[0] <= date.year <= _TWO_DIGIT_YEARS[1]:
            written = written.replace("{yy}", "{Y}")  # "21" would read as 2021
        inputs.append(written.format(**fields))
        targets.append(date.isoformat())
    return inputs, targets


def date_vocabularies():
    """(input vocabulary, target vocabulary) for `make_dates`."""
    import string

    source = string.ascii_letters + string.digits + " ,./-"
    return CharVocabulary(source), CharVocabulary("0123456789-")


def make_date_splits(train_size, test_size, seed=0):
    """Lesson 07's dates: a training set, and a test set without any input seen in training.

    The training dates are `make_dates(train_size, seed=2 * seed)`, the test dates
    `make_dates(test_size, seed=2 * seed + 1)` less those whose input also occurs in training,
    so every test score is on inputs the model has never read.

    Returns:
        `((train_inputs, train_targets), (test_inputs, test_targets))`, lists of strings.
    """
    train_inputs, train_targets = make_dates(train_size, seed=2 * seed)
    test_inputs, test_targets = make_dates(test_size, seed=2 * seed + 1)
    seen = set(train_inputs)
    unseen = [i for i, text in enumerate(test_inputs) if text not in seen]
    test_inputs = [test_inputs[i] for i in unseen]
    test_targets = [test_targets[i] for i in unseen]
    return (train_inputs, train_targets), (test_inputs, test_targets)


def encode_dates(inputs, targets, source_length=27, target_length=12):
    """Encodes dates for an encoder-decoder, with `date_vocabularies()`.

    Args:
        inputs, targets: Lists of human-written dates and their ISO forms (`make_dates`).
        source_length: Padded length of the input ids (27 holds the longest format).
        target_length: `<start>` + `YYYY-MM-DD` + `<end>`.

    Returns:
        `(source, decoder_input, decoder_target)`: int arrays `(n, source_length)`, and
        `(n, target_length - 1)` twice: the target with `<start>` and `<end>`, shifted right
        (what the decoder reads) and left (what it must write).
    """
    source_vocabulary, target_vocabulary = date_vocabularies()
    source = source_vocabulary.encode(inputs, source_length)  # (n, source_length)
    target = target_vocabulary.encode(targets, target_length, start=True, end=True)
    return source, target[:, :-1], target[:, 1:]
