"""The adding problem as a workbench: the model, its training rule, and what it remembers.

Lesson 03 and its worked solutions train recurrent layers on
`lstmkit.datasets.make_adding_problem` (feature 0 the values, feature 1 the markers)
the same way, and probe what a trained model holds:

    model = adding.build(lstmkit.LSTM(32), length=60, learning_rate=3e-2)
    history = adding.fit(model, (x, y), (x_val, y_val), epochs=30, batch_size=64,
                         solved_mse=0.01, callbacks=[ProgressLine("LSTM")])
    first, second = adding.marks(x_test)                   # (batch,) positions each
    adding.second_value_only_mse(x_test, y_test)           # about 1/12: the half-story baseline
    adding.value_sensitivity(model, x_test)                # |d y_hat / d value_t|, (batch, time)
    adding.first_value_r2(cell_states, x_test)             # linear read-out of the first value

`first_value_r2` asks whether a state *holds* the first marked value just before the
second arrives; `value_sensitivity` asks how much the prediction *moves* with each value,
which is also how strongly gradient descent can teach the model to use it.
"""

import keras
import numpy as np
from keras import ops

from lstmkit.callbacks import StopWhenBelow
from lstmkit.gradients import gradients


def _check_inputs(x):
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[-1] != 2:
        raise ValueError(
            f"Expected adding-problem inputs of shape (batch, time, 2), received {x.shape}."
        )
    if not np.all(x[:, :, 1].sum(axis=1) == 2):
        raise ValueError("Every sequence must have exactly two markers (feature 1 equal to 1).")
    return x


def marks(x):
    """The two marked positions of each sequence, in time order.

    Args:
        x: `(batch, time, 2)` from `make_adding_problem`.

    Returns:
        `(first, second)`: int arrays `(batch,)`, `first < second`.
    """
    x = _check_inputs(x)
    positions = np.sort(np.argsort(-x[:, :, 1], axis=1, kind="stable")[:, :2], axis=1)
    return positions[:, 0], positions[:, 1]


def second_value_only_mse(x, y):
    """MSE of the best answer that knows the second marked value and not the first.

    The first value is uniform in [0, 1] and independent of everything after it, so the
    best such answer is `second + 0.5`, and its MSE is `Var(first) = 1/12` in expectation:
    a model between this and the constant answer's 1/6 remembers part of the story.
    """
    x = _check_inputs(x)
    _, second = marks(x)
    rows = np.arange(len(x))
    answer = x[rows, second, 0] + 0.5  # (batch,)
    return float(np.mean((np.ravel(y) - answer) ** 2))


def build(recurrent_layer, length, learning_rate, clipnorm=1.0):
    """`recurrent_layer` and a `Dense(1)` head, compiled with Adam (clipped) and MSE.

    Args:
        recurrent_layer: A layer returning its last output, `(batch, units)`.
        length: Sequence length.
        learning_rate: Adam's learning rate.
        clipnorm: Each gradient's norm is clipped to this (notebook 10).

    Returns:
        A compiled `keras.Model` from `(batch, length, 2)` to `(batch, 1)`.
    """
    inputs = keras.Input((length, 2))
    hidden = recurrent_layer(inputs)  # (batch, units)
    outputs = keras.layers.Dense(1)(hidden)  # (batch, 1)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=clipnorm), loss="mse")
    return model


def fit(model, train, validation, epochs, batch_size, solved_mse, callbacks=()):
    """Trains for at most `epochs`, stopping once the validation MSE is below `solved_mse`.

    The same rule for every model: one that never solves the task gets every epoch.
    Pass `callbacks=[lstmkit.callbacks.ProgressLine(label)]` for one progress line.

    Returns:
        The `History`; `len(history.history["val_loss"])` is the number of epochs run.
    """
    x, y = train
    return model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=validation,
        validation_batch_size=len(validation[0]),
        verbose=0,
        callbacks=[StopWhenBelow(solved_mse), *callbacks],
    )


def value_sensitivity(model, x):
    """How much each prediction moves with each input value: `|d y_hat / d value_t|`.

    Each sequence's prediction depends on its own inputs only, so the gradient of the
    summed predictions with respect to the inputs holds every sequence's own derivatives.

    Args:
        model: From `(batch, time, 2)` to `(batch, 1)`.
        x: `(batch, time, 2)`.

    Returns:
        float array `(batch, time)`.
    """
    x = _check_inputs(x).astype("float32")
    _, (gradient,) = gradients(lambda inputs: ops.sum(model(inputs)), x)  # (batch, time, 2)
    return np.abs(gradient[:, :, 0])


def first_value_r2(states, x, ridge=1e-3):
    """R² of a linear read-out of the first marked value from the state before the second mark.

    Fitted (ridge regression on standardised units, so that a nearly constant unit cannot
    blow the fit up) on the first half of the sequences, scored on the second half:
    1 means the state holds the value exactly, 0 no better than its mean.

    Args:
        states: `(batch, time, units)`, e.g. the cell states from
            `lstmkit.LSTM.gate_activations`, or `(batch, time)` for one unit.
        x: The inputs they came from, `(batch, time, 2)`; at least 8 sequences.
        ridge: Penalty on the squared weights, per fitted sequence.

    Returns:
        A float.
    """
    x = _check_inputs(x)
    states = np.asarray(states, dtype="float64")
    if states.ndim == 2:
        states = states[:, :, None]
    if states.shape[:2] != x.shape[:2]:
        raise ValueError(f"States {states.shape} do not match the inputs {x.shape}.")
    if len(x) < 8:
        raise ValueError(f"At least 8 sequences are needed, received {len(x)}.")
    first, second = marks(x)
    rows = np.arange(len(x))
    features = states[rows, second - 1]  # (batch, units): just before the second mark
    target = x[rows, first, 0].astype("float64")  # (batch,)
    half = len(x) // 2
    mean, scale = features[:half].mean(axis=0), features[:half].std(axis=0) + 1e-6
    standard = (features - mean) / scale
    target_mean = target[:half].mean()
    fitted = standard[:half]
    weights = np.linalg.solve(
        fitted.T @ fitted + ridge * half * np.eye(fitted.shape[1]),
        fitted.T @ (target[:half] - target_mean),
    )  # (units,)
    held_out = target[half:]
    residual = held_out - (standard[half:] @ weights + target_mean)
    # Sums of squares, not variances: a read-out whose held-out predictions are off by a
    # constant is not exact, and residual.var() would not see the offset.
    return float(1 - np.sum(residual**2) / np.sum((held_out - held_out.mean()) ** 2))
