"""lstmkit.adding: marks, the half-story baseline, the model, the stopping rule, the probes."""

import keras
import numpy as np
import pytest

import lstmkit
from lstmkit import adding
from lstmkit.callbacks import StopWhenBelow
from lstmkit.datasets import make_adding_problem


def test_marks_are_the_two_markers_in_time_order():
    x, y = make_adding_problem(300, length=20, seed=2)
    first, second = adding.marks(x)
    rows = np.arange(len(x))
    assert np.all(first < 10) and np.all(second >= 10)  # one in each half
    assert np.all(x[rows, first, 1] == 1) and np.all(x[rows, second, 1] == 1)
    np.testing.assert_allclose(x[rows, first, 0] + x[rows, second, 0], y[:, 0], rtol=1e-6)


def test_marks_refuses_sequences_without_two_markers():
    x, _ = make_adding_problem(4, length=10)
    x[0, :, 1] = 0
    with pytest.raises(ValueError, match="exactly two markers"):
        adding.marks(x)
    with pytest.raises(ValueError, match=r"\(batch, time, 2\)"):
        adding.marks(x[:, :, :1])


def test_second_value_only_mse_is_the_variance_of_the_first_value():
    x, y = make_adding_problem(20_000, length=12, seed=0)
    assert adding.second_value_only_mse(x, y) == pytest.approx(1 / 12, abs=0.004)
    # Knowing both values is exact; knowing neither (the mean) is twice as bad.
    assert np.mean((y - 1.0) ** 2) == pytest.approx(2 / 12, abs=0.006)


def test_first_value_r2_is_one_for_a_state_that_holds_it_and_near_zero_for_noise():
    x, _ = make_adding_problem(400, length=16, seed=1)
    first, _ = adding.marks(x)
    rows = np.arange(len(x))
    rng = np.random.default_rng(0)
    held = np.zeros((400, 16, 3))
    held[:, :, 0] = x[rows, first, 0][:, None]  # unit 0 holds the value at every step
    held[:, :, 1:] = rng.normal(size=(400, 16, 2))  # the rest is noise
    assert adding.first_value_r2(held, x) == pytest.approx(1.0, abs=1e-3)
    assert adding.first_value_r2(held[:, :, 0], x) == pytest.approx(1.0, abs=1e-3)
    noise = rng.normal(size=(400, 16, 8))
    assert abs(adding.first_value_r2(noise, x)) < 0.1
    # A nearly constant unit does not blow the read-out up (ridge on standardised units).
    nearly_constant = np.concatenate([noise, 1e-7 * rng.normal(size=(400, 16, 1))], axis=-1)
    assert abs(adding.first_value_r2(nearly_constant, x)) < 0.1


def test_first_value_r2_counts_an_offset_of_the_held_out_predictions():
    # R² is 1 - SS_res / SS_tot (sklearn's r2_score): a read-out that is off by a constant
    # on the held-out half is not exact. 1 - var(residual) / var(target) would give 1.
    x, _ = make_adding_problem(400, length=20, seed=0)
    first, second = adding.marks(x)
    rows, half = np.arange(len(x)), len(x) // 2
    value = x[rows, first, 0]
    states = np.zeros(x.shape[:2])
    states[rows, second - 1] = value  # the state holds the first value exactly ...
    states[half:] += 0.5  # ... but the held-out states are shifted: predictions off by 0.5
    held_out = value[half:]
    expected = 1 - np.sum(0.5**2 * np.ones(len(held_out))) / np.sum(
        (held_out - held_out.mean()) ** 2
    )
    assert adding.first_value_r2(states, x, ridge=0.0) == pytest.approx(expected, abs=1e-6)


def test_first_value_r2_checks_shapes():
    x, _ = make_adding_problem(20, length=8)
    with pytest.raises(ValueError, match="do not match"):
        adding.first_value_r2(np.zeros((20, 7, 3)), x)
    with pytest.raises(ValueError, match="At least 8"):
        adding.first_value_r2(np.zeros((4, 8, 3)), x[:4])


def test_value_sensitivity_of_a_linear_model_is_its_weights():
    length = 6
    inputs = keras.Input((length, 2))
    outputs = keras.layers.Dense(1, use_bias=False)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    weights = np.arange(2 * length, dtype="float32").reshape(2 * length, 1) - 5.0
    model.set_weights([weights])
    x, _ = make_adding_problem(3, length=length, seed=4)
    sensitivity = adding.value_sensitivity(model, x)  # (3, length)
    expected = np.abs(weights[0::2, 0])  # the value (feature 0) of each step
    np.testing.assert_allclose(sensitivity, np.tile(expected, (3, 1)), rtol=1e-6)


def test_build_and_fit_stop_once_solved():
    keras.utils.set_random_seed(0)
    x, y = make_adding_problem(256, length=5, seed=0)
    model = adding.build(lstmkit.LSTM(4), length=5, learning_rate=1e-2)
    assert model.output_shape == (None, 1)
    # A threshold every fit crosses at once: the fit stops after its first epoch.
    history = adding.fit(model, (x, y), (x[:64], y[:64]), 5, 64, solved_mse=10.0)
    assert len(history.history["val_loss"]) == 1
    history = adding.fit(model, (x, y), (x[:64], y[:64]), 2, 64, solved_mse=0.0)
    assert len(history.history["val_loss"]) == 2  # never solved: every epoch


def test_stop_when_below_needs_the_metric():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    stop = StopWhenBelow(1.0)
    with pytest.raises(KeyError, match="val_loss"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0, callbacks=[stop])
    stop = StopWhenBelow(1.0, monitor="loss")
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=3, verbose=0, callbacks=[stop])
    assert stop.stopped_epoch == 1
