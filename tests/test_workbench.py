"""lstmkit.workbench, the models and measurements of lesson 10, on the active backend."""

import warnings

import keras
import numpy as np
import pytest
from keras import ops

from lstmkit import workbench
from lstmkit.datasets import make_adding_problem
from lstmkit.gradients import global_norm, weight_gradients


@pytest.fixture
def float32_policy():
    yield
    keras.config.set_dtype_policy("float32")


def test_adding_model_layers_and_float32_head(float32_policy):
    model = workbench.adding_model(8, layers=2, length=5, head_dropout=0.5)
    names = [layer.name for layer in model.layers]
    assert names[1:] == ["lstm_0", "lstm_1", "head_dropout", "head"]
    expected = 4 * (2 * 8 + 8 * 8 + 8) + 4 * (8 * 8 + 8 * 8 + 8) + 8 + 1
    assert model.count_params() == expected
    keras.config.set_dtype_policy("mixed_float16")
    mixed = workbench.adding_model(8, length=5)
    keras.config.set_dtype_policy("float32")
    output = mixed(np.zeros((2, 5, 2), "float32"))
    assert mixed.get_layer("lstm_0").compute_dtype == "float16"
    assert "float32" in str(output.dtype)


def test_recurrent_model_kernel_has_the_spectral_radius():
    keras.utils.set_random_seed(0)
    model = workbench.recurrent_model(2.0, units=6)
    kernel = ops.convert_to_numpy(model.get_layer("recurrent").cell.recurrent_kernel)  # (6, 6)
    np.testing.assert_allclose(np.linalg.svd(kernel, compute_uv=False), 2.0, rtol=1e-5)
    lstm = workbench.recurrent_model(0.5, kind="LSTM", units=4)
    kernel = ops.convert_to_numpy(lstm.get_layer("recurrent").cell.recurrent_kernel)  # (4, 16)
    np.testing.assert_allclose(kernel @ kernel.T, 0.25 * np.eye(4), atol=1e-5)
    with pytest.raises(ValueError, match="kind"):
        workbench.recurrent_model(1.0, kind="GRU")


def test_gradient_norms_split_the_global_norm():
    keras.utils.set_random_seed(0)
    model = workbench.recurrent_model(1.0, units=4)
    x, y = make_adding_problem(8, length=5, seed=0)
    norms = workbench.gradient_norms(model, x, y)
    target = ops.convert_to_tensor(y)
    _, grads = weight_gradients(
        lambda: ops.mean(ops.square(model(x) - target)), model.trainable_variables
    )
    assert norms["all"] == pytest.approx(global_norm(grads), rel=1e-5)
    assert norms["all"] ** 2 == pytest.approx(
        norms["recurrent"] ** 2 + norms["head"] ** 2, rel=1e-4
    )


def test_global_norm_of_an_exploding_float32_gradient_is_finite():
    # Squared in float32, an entry of 3e19 overflowed to inf (with a RuntimeWarning).
    grads = [np.full((3, 4), 3e19, "float32"), np.ones(4, "float32")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        norm = global_norm(grads)
    assert norm == pytest.approx(np.sqrt(12 * 9e38 + 4), rel=1e-6)


def test_recurrent_kernel_steps_read_the_applied_gradient():
    keras.utils.set_random_seed(0)
    model = workbench.recurrent_model(1.0, units=4)
    x, y = make_adding_problem(16, length=5, seed=1)
    target = ops.convert_to_tensor(y)
    kernel = model.get_layer("recurrent").cell.recurrent_kernel
    _, (grad,) = weight_gradients(lambda: ops.mean(ops.square(model(x) - target)), [kernel])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    steps = workbench.RecurrentKernelSteps("recurrent")
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, callbacks=[steps])
    assert len(steps.kernels) == 2
    (applied,) = steps.applied_norms(0.1)
    assert applied == pytest.approx(float(np.linalg.norm(grad)), rel=1e-3)


def test_noisy_adding_splits_are_seeded_and_clean_where_held_out():
    splits = workbench.noisy_adding_splits(32, 6, 0.5, seed=3)
    again = workbench.noisy_adding_splits(32, 6, 0.5, seed=3)
    for name in ("train", "validation", "test"):
        np.testing.assert_array_equal(splits[name][1], again[name][1])
    x_train, y_train = splits["train"]
    assert x_train.shape == (32, 6, 2) and y_train.shape == (32, 1)
    clean = (x_train[..., 0] * x_train[..., 1]).sum(axis=1, keepdims=True)
    assert 0.2 < np.std(y_train - clean) < 0.9  # the noise, std 0.5
    for name, size in (("validation", 256), ("test", 512)):
        x, y = splits[name]
        assert x.shape == (size, 6, 2)
        np.testing.assert_allclose(y, (x[..., 0] * x[..., 1]).sum(axis=1, keepdims=True), atol=1e-6)


def test_fit_and_score_returns_per_example_test_errors():
    keras.utils.set_random_seed(0)
    splits = workbench.noisy_adding_splits(16, 4, 0.1, seed=0, validation_size=8, test_size=10)
    model = workbench.adding_model(4, length=4)
    run = workbench.fit_and_score(
        model, keras.optimizers.Adam(1e-2), splits, epochs=2, batch_size=8, label="test"
    )
    assert set(run) == {"history", "test_errors", "test", "model"}
    assert len(run["history"]["val_loss"]) == 2
    assert run["test_errors"].shape == (10,)
    x_test, y_test = splits["test"]
    evaluated = float(model.evaluate(x_test, y_test, batch_size=10, verbose=0))
    assert run["test"] == pytest.approx(evaluated, rel=1e-4)


def test_squared_errors_score_other_weights_and_keep_the_model_s_own():
    keras.utils.set_random_seed(0)
    x, y = make_adding_problem(6, length=4, seed=0)
    model = workbench.adding_model(4, length=4)
    own = model.get_weights()
    other = [w + 0.1 for w in own]
    with_own = workbench.squared_errors(model, x, y)
    with_other = workbench.squared_errors(model, x, y, weights=other)
    assert with_own.shape == (6,) and with_own.dtype == np.float64
    assert not np.allclose(with_own, with_other)
    for kept, before in zip(model.get_weights(), own):
        np.testing.assert_array_equal(kept, before)
    model.set_weights(other)
    np.testing.assert_allclose(workbench.squared_errors(model, x, y), with_other, rtol=1e-6)


def test_zero_gradient_fraction_sees_float16_underflow_and_loss_scaling(float32_policy):
    keras.utils.set_random_seed(0)
    x, y = make_adding_problem(16, length=6, seed=0)
    full = workbench.adding_model(8, length=6)
    keras.config.set_dtype_policy("mixed_float16")
    mixed = workbench.adding_model(8, length=6)
    keras.config.set_dtype_policy("float32")
    mixed.set_weights(full.get_weights())
    in_float32, grads = workbench.zero_gradient_fraction(full, x, y, "lstm_0", loss_weight=1e-5)
    assert in_float32 == 0.0 and all(g.dtype == np.float32 for g in grads)
    without, _ = workbench.zero_gradient_fraction(mixed, x, y, "lstm_0", loss_weight=1e-5)
    scaled, scaled_grads = workbench.zero_gradient_fraction(
        mixed, x, y, "lstm_0", loss_weight=1e-5, loss_scale=2.0**15
    )
    assert without > 0.5 and scaled < 0.05
    # The scaled float16 gradient, divided back, is the float32 one to float16's precision.
    for a, b in zip(scaled_grads, grads):
        np.testing.assert_allclose(a, b, rtol=0.05, atol=1e-3 * np.abs(b).max())
