"""Forecasting on windows: the linear (AR) baseline, an LSTM that corrects the seasonal
naive forecast, and the recursive strategy for several steps ahead.

Lesson 04 writes each of these in its cells to teach them and checks them against these;
its worked solutions use these directly:

    linear = fit_linear(x_train, y_train)                # least squares, returns a forecaster
    model = build_forecaster(1, window=12, season=12)    # LSTM + a correction to seasonal naive
    model.fit(..., callbacks=stopping_callbacks(10))
    paths = forecast_recursive(model.predict, windows, steps=12)

Windows are `(n, window, 1)` in scaled units, as `lstmkit.datasets.prepare_series` makes them.
"""

import keras
import numpy as np

from lstmkit.layers import LSTM


def fit_linear(x, y):
    """Least squares of `y` on the windows `x` plus a constant: the AR model.

    Args:
        x: Windows `(n, window, 1)`.
        y: Targets `(n, k)`: `k = 1` for one step, `k` columns for `k` steps at once.

    Returns:
        A function from windows `(m, window, 1)` to forecasts `(m, k)`.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 3 or x.shape[-1] != 1:
        raise ValueError(f"Expected windows of shape (n, window, 1), received {x.shape}.")
    if len(y) != len(x):
        raise ValueError(f"{len(x)} windows but {len(y)} targets.")

    def design(windows):
        windows = np.asarray(windows)
        return np.concatenate([windows[:, :, 0], np.ones((len(windows), 1))], axis=1)  # (n, w + 1)

    theta, *_ = np.linalg.lstsq(design(x), y.reshape(len(y), -1), rcond=None)  # (w + 1, k)
    return lambda windows: design(windows) @ theta  # (m, k)


def build_forecaster(outputs, window, season=None, units=32, learning_rate=3e-3):
    """LSTM forecaster of the next `outputs` steps, compiled with Adam and MSE.

    With a `season`, the output is the seasonal-naive forecast (the window's values one
    season before each target) plus a correction `Dense(outputs)` of the LSTM's last
    state that starts at zero, so the untrained model *is* the seasonal naive. Without
    one, a plain `Dense(outputs)` head.

    Args:
        outputs: Steps forecast at once.
        window: Steps each window holds.
        season: Steps per season, `outputs <= season <= window`; or `None`.
        units: LSTM units.
        learning_rate: Adam's learning rate.

    Returns:
        A compiled `keras.Model` from `(batch, window, 1)` to `(batch, outputs)`.
    """
    if season is not None and not outputs <= season <= window:
        raise ValueError(
            f"A seasonal skip needs outputs <= season <= window, received outputs={outputs}, "
            f"season={season}, window={window}."
        )
    inputs = keras.Input((window, 1))
    hidden = LSTM(units)(inputs)  # (batch, units)
    if season is None:
        forecast = keras.layers.Dense(outputs)(hidden)  # (batch, outputs)
    else:
        correction = keras.layers.Dense(outputs, kernel_initializer="zeros")(hidden)
        start = window - season  # the window position one season before the first target
        last_season = keras.layers.Flatten()(inputs[:, start : start + outputs])  # (batch, outputs)
        forecast = keras.layers.Add()([last_season, correction])  # (batch, outputs)
    model = keras.Model(inputs, forecast)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


def stopping_callbacks(patience, warm_up=0):
    """`EarlyStopping(patience, restore_best_weights=True, start_from_epoch=warm_up)` and
    `ReduceLROnPlateau` (half the patience, factor 0.5), both on the validation loss.

    `warm_up` epochs pass before EarlyStopping keeps a best epoch: on a small validation
    set an early epoch, the model still near where it started, can be lowest by luck.
    """
    return [
        keras.callbacks.EarlyStopping(
            patience=patience, restore_best_weights=True, start_from_epoch=warm_up
        ),
        keras.callbacks.ReduceLROnPlateau(patience=patience // 2, factor=0.5),
    ]


def forecast_recursive(predict_one, windows, steps):
    """Feeds each one-step prediction back as the newest input, `steps` times.

    Args:
        predict_one: A function from windows `(n, window, 1)` to one value each.
        windows: `(n, window, 1)`.
        steps: How many steps ahead.

    Returns:
        float32 array `(n, steps)`, in the windows' (scaled) units.
    """
    windows = np.asarray(windows, dtype="float32")
    predictions = []
    for _ in range(steps):
        step = np.ravel(predict_one(windows)).astype("float32")  # (n,)
        if step.shape != (len(windows),):
            raise ValueError(f"predict_one must give one value per window, gave {step.shape}.")
        predictions.append(step)
        windows = np.concatenate([windows[:, 1:], step[:, None, None]], axis=1)  # slide by one
    return np.stack(predictions, axis=1)  # (n, steps)
