"""Time series: the real series, and splitting, scaling and windowing them.

load_airline_passengers, load_daily_min_temperatures, load_monthly_sunspots   `Series`
chronological_split   train, validation and test parts, in time order
Scaler                scales with the training part's statistics (standard or min-max)
make_windows          inputs of `window` steps and the `horizon` steps after each
prepare_series        all three, without leakage: `PreparedSeries`
"""

import csv
import dataclasses

import numpy as np

from lstmkit.datasets._checks import positive_int, split_fractions
from lstmkit.datasets.cache import fetch


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


def chronological_split(values, validation_fraction=0.15, test_fraction=0.15):
    """Cuts a series into train, validation and test parts, in time order.

    Returns:
        `(train, validation, test)`, contiguous and in that order.
    """
    validation_fraction, test_fraction = split_fractions(validation_fraction, test_fraction)
    values = np.asarray(values)
    n = len(values)
    n_test, n_validation = int(round(n * test_fraction)), int(round(n * validation_fraction))
    n_train = n - n_test - n_validation
    if n_train < 1:
        raise ValueError(
            f"A series of {n} steps split {validation_fraction} / {test_fraction} leaves "
            f"{n_validation} validation and {n_test} test steps and nothing to train on."
        )
    return (
        values[:n_train],
        values[n_train : n_train + n_validation],
        values[n_train + n_validation :],
    )


class Scaler:
    """Scales values with statistics of the data it was fit on (the training part).

    `transform(v) = (v - offset) / scale`, with `offset` and `scale` taken from the
    values given to `fit`: their mean and standard deviation (`"standard"`), or their
    minimum and range (`"minmax"`). A constant fit sample gets `scale = 1`.

    Args:
        method: `"standard"` (the fit data to zero mean, unit variance) or
            `"minmax"` (the fit data to [0, 1]; later values may fall outside).

    Attributes:
        offset, scale: The statistics, set by `fit`.
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
    window = positive_int("window", window)
    horizon = positive_int("horizon", horizon)
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
        part = scaled[max(lo, 0) : hi]
        if len(part) < window + horizon:  # name the part, not only its length
            raise ValueError(
                f"The {name} part of this {len(values)}-step series gives {len(part)} steps "
                f"of windows, too few for window={window} + horizon={horizon}; use a "
                "shorter window or larger split fractions."
            )
        parts[name] = make_windows(part, window, horizon)
    return PreparedSeries(
        scaler, parts["train"], parts["validation"], parts["test"], (start_validation, start_test)
    )
