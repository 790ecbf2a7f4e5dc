"""lstmkit.forecasting: the AR baseline, the seasonal-skip forecaster, the recursion."""

import keras
import numpy as np
import pytest

from lstmkit import forecasting
from lstmkit.datasets import make_windows


def test_fit_linear_recovers_an_exact_recurrence():
    omega = 2 * np.pi / 25
    series = np.sin(omega * np.arange(300))  # s_{t+1} = 2 cos(omega) s_t - s_{t-1}
    x, y = make_windows(series, window=4, horizon=2)  # (n, 4, 1), (n, 2)
    linear = forecasting.fit_linear(x, y)
    np.testing.assert_allclose(linear(x), y, atol=1e-4)
    assert linear(x[:5]).shape == (5, 2)
    with pytest.raises(ValueError, match=r"\(n, window, 1\)"):
        forecasting.fit_linear(x[:, :, 0], y)


def test_forecast_recursive_feeds_its_predictions_back():
    windows = np.arange(2 * 3, dtype="float32").reshape(2, 3, 1)  # [[0, 1, 2], [3, 4, 5]]
    # "The next value is the oldest of the window" repeats the window: 0, 1, 2, 0, 1, ...
    paths = forecasting.forecast_recursive(lambda w: w[:, 0, 0], windows, steps=5)
    np.testing.assert_array_equal(paths, [[0, 1, 2, 0, 1], [3, 4, 5, 3, 4]])
    with pytest.raises(ValueError, match="one value per window"):
        forecasting.forecast_recursive(lambda w: w[:, :2, 0], windows, steps=1)


def test_untrained_seasonal_forecaster_is_the_seasonal_naive():
    keras.utils.set_random_seed(0)
    windows = np.random.default_rng(0).normal(size=(6, 12, 1)).astype("float32")
    one_step = forecasting.build_forecaster(1, window=12, season=12, units=4)
    np.testing.assert_allclose(one_step.predict(windows, verbose=0), windows[:, 0], atol=1e-6)
    direct = forecasting.build_forecaster(3, window=12, season=12, units=4)
    np.testing.assert_allclose(direct.predict(windows, verbose=0), windows[:, :3, 0], atol=1e-6)
    # season < window: the forecast is the window's steps one season before each target
    # (targets at steps 12, 13; one season of 4 before: steps 8, 9), not its first steps.
    shorter = forecasting.build_forecaster(2, window=12, season=4, units=4)
    np.testing.assert_allclose(shorter.predict(windows, verbose=0), windows[:, 8:10, 0], atol=1e-6)
    plain = forecasting.build_forecaster(2, window=12, units=4)
    assert plain.output_shape == (None, 2)
    with pytest.raises(ValueError, match="outputs <= season <= window"):
        forecasting.build_forecaster(13, window=12, season=12)


def test_stopping_callbacks():
    stop, reduce = forecasting.stopping_callbacks(10)
    assert isinstance(stop, keras.callbacks.EarlyStopping) and stop.patience == 10
    assert stop.restore_best_weights
    assert isinstance(reduce, keras.callbacks.ReduceLROnPlateau) and reduce.patience == 5
    assert stop.start_from_epoch == 0
    stop, _ = forecasting.stopping_callbacks(10, warm_up=10)
    assert stop.start_from_epoch == 10 and stop.patience == 10
