"""lstmkit.stateful: Keras's SimpleRNN and GRU, trained with `stateful=True` on every backend.

The reference is truncated BPTT by definition (as in test_stateful.py): a stateless
layer handed the carried state through `initial_state`, batch after batch, the state
computed with the weights before each update.
"""

import keras
import numpy as np
import pytest
from keras import ops

from lstmkit.stateful import GRU, SimpleRNN

BATCH, TIME, FEATURES, UNITS, BATCHES, EPOCHS = 4, 6, 3, 5, 3, 2
LAYERS = {"SimpleRNN": SimpleRNN, "GRU": GRU}


def make_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCHES * BATCH, TIME, FEATURES)).astype("float32")
    y = rng.normal(size=(BATCHES * BATCH, TIME, 1)).astype("float32")
    return x, y


def build(layer_class, stateful, explicit_state=False):
    x_in = keras.Input((TIME, FEATURES), batch_size=BATCH)
    layer = layer_class(
        UNITS, stateful=stateful, return_sequences=True, return_state=explicit_state
    )
    h0 = keras.Input((UNITS,), batch_size=BATCH)
    if explicit_state:
        hidden, h_last = layer(x_in, initial_state=[h0])
    else:
        hidden = layer(x_in)
    outputs = keras.layers.Dense(1)(hidden)
    model = keras.Model([x_in, h0] if explicit_state else x_in, outputs)
    rng = np.random.default_rng(1)  # the same start on every backend
    model.set_weights(
        [rng.uniform(-0.5, 0.5, size=w.shape).astype("float32") for w in model.get_weights()]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    state_model = keras.Model([x_in, h0], h_last) if explicit_state else None
    return model, layer, state_model


def weights(model):
    return [np.asarray(w) for w in model.get_weights()]


@pytest.mark.parametrize("name", LAYERS)
def test_fit_equals_explicit_truncated_bptt(name):
    x, y = make_data()
    model, layer, _ = build(LAYERS[name], stateful=True)
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)

    reference, _, state_model = build(LAYERS[name], stateful=False, explicit_state=True)
    state = np.zeros((BATCH, UNITS), "float32")
    for _ in range(EPOCHS):
        for k in range(BATCHES):
            batch = slice(k * BATCH, (k + 1) * BATCH)
            carried = ops.convert_to_numpy(state_model([x[batch], state]))
            reference.train_on_batch([x[batch], state], y[batch])
            state = carried

    for a, b in zip(weights(model), weights(reference)):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
    carried_by_fit = ops.convert_to_numpy(layer.states[0].value)
    np.testing.assert_allclose(carried_by_fit, state, atol=1e-5, rtol=0)
    assert np.abs(carried_by_fit).max() > 1e-3  # a real state, not zeros

    stateless, _, _ = build(LAYERS[name], stateful=False)
    stateless.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    difference = max(np.abs(a - b).max() for a, b in zip(weights(model), weights(stateless)))
    assert difference > 1e-4  # the carried state changed the training

    layer.reset_states()
    assert np.abs(ops.convert_to_numpy(layer.states[0].value)).max() == 0.0


@pytest.mark.parametrize("name", LAYERS)
def test_stateless_is_keras_layer(name):
    x, _ = make_data()
    ours, _, _ = build(LAYERS[name], stateful=False)
    keras_class = getattr(keras.layers, name)
    theirs, _, _ = build(keras_class, stateful=False)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(
        ops.convert_to_numpy(ours(x[:BATCH])), ops.convert_to_numpy(theirs(x[:BATCH])), atol=1e-6
    )
    assert isinstance(ours.layers[1], keras_class)
    assert len(ours.get_weights()) == len(theirs.get_weights())  # the state is not a weight


@pytest.mark.parametrize("name", LAYERS)
def test_saved_and_loaded(name, tmp_path):
    model, _, _ = build(LAYERS[name], stateful=True)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[1]) is LAYERS[name]
    for a, b in zip(weights(model), weights(loaded)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", LAYERS)
def test_state_is_carried_under_mixed_precision(name):
    # torch's autocast would hand RNN.call a cast copy of the float32 state to
    # assign into; CarriedState keeps the state out of autocast.
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model, layer, _ = build(LAYERS[name], stateful=True)
    finally:
        keras.config.set_dtype_policy("float32")
    x, y = make_data()
    first = ops.convert_to_numpy(model(x[:BATCH])).astype("float32")
    assert np.abs(ops.convert_to_numpy(layer.states[0].value)).max() > 1e-2  # written
    second = ops.convert_to_numpy(model(x[:BATCH])).astype("float32")
    assert np.abs(first - second).max() > 1e-3  # and read back by the next batch
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert np.abs(ops.convert_to_numpy(layer.states[0].value).astype("float32")).max() > 1e-2


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("unroll", [False, True])
def test_masked_backwards_equals_keras(name, unroll):
    """Masked, read backwards, unrolled or not: the numbers of Keras's layer (unrolled
    nowhere). Guards against Keras 3.15's torch loop, which fails with `unroll=True,
    go_backwards=True` and a mask (`torch.flip` of a tuple); lstmkit's SimpleRNN and
    masked GRU loop in Python on torch."""
    x, _ = make_data()
    x = x[:BATCH]
    mask = np.ones((BATCH, TIME), bool)
    mask[0, 4:] = mask[2, :2] = False
    options = dict(go_backwards=True, return_sequences=True, return_state=True)
    theirs = getattr(keras.layers, name)(UNITS, **options)
    ours = LAYERS[name](UNITS, unroll=unroll, **options)
    theirs(x)
    ours(x)
    ours.set_weights(theirs.get_weights())
    for a, b in zip(ours(x, mask=mask), theirs(x, mask=mask)):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), atol=1e-6)


def numpy_step(name, x_t, h, kernel, recurrent_kernel, bias, reset_after=True):
    """One step of Keras's SimpleRNN or GRU in NumPy float64."""
    if name == "SimpleRNN":
        return np.tanh(x_t @ kernel + h @ recurrent_kernel + bias)
    input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, 0.0 * bias)
    x_z, x_r, x_h = np.split(x_t @ kernel + input_bias, 3, axis=-1)
    u_z, u_r, u_h = np.split(recurrent_kernel, 3, axis=-1)
    b_z, b_r, b_h = np.split(recurrent_bias, 3, axis=-1)
    z = 1.0 / (1.0 + np.exp(-(x_z + h @ u_z + b_z)))
    r = 1.0 / (1.0 + np.exp(-(x_r + h @ u_r + b_r)))
    recurrent_h = r * (h @ u_h + b_h) if reset_after else (r * h) @ u_h
    return z * h + (1.0 - z) * np.tanh(x_h + recurrent_h)


def float64_available():
    if keras.backend.backend() != "jax":
        return True
    import jax

    return bool(jax.config.jax_enable_x64)


@pytest.mark.skipif(not float64_available(), reason="JAX computes float64 only with x64 enabled")
@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("stateful", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_float64_layer_computes_in_float64(name, stateful, masked):
    """A float64 SimpleRNN or GRU is exact to float64 rounding on every backend, stateful
    or not, masked or not, as lstmkit.LSTM is.

    Guards against Keras 3.15's cells: torch's `ops.matmul` returns float32 for two float64
    tensors (about 1e-7 off a NumPy float64 reference), JAX's `ops.tanh` float32 for float64
    (and a float64 SimpleRNN without a mask fails there; the test needs JAX_ENABLE_X64=1).
    """
    x = np.random.default_rng(30).normal(size=(BATCH, TIME, FEATURES))  # float64
    mask = np.ones((BATCH, TIME), bool)
    mask[1, 4:] = mask[2, :2] = False  # right and left padding
    layer = LAYERS[name](UNITS, return_sequences=True, stateful=stateful, dtype="float64")
    layer.build(x.shape)
    rng = np.random.default_rng(31)
    weights = [rng.normal(size=w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    outputs = ops.convert_to_numpy(layer(x, mask=mask if masked else None))
    assert outputs.dtype == np.float64
    h, expected = np.zeros((BATCH, UNITS)), []
    for t in range(TIME):
        new = numpy_step(name, x[:, t], h, *weights)
        keep = mask[:, t : t + 1] if masked else np.ones((BATCH, 1), bool)
        h = np.where(keep, new, h)
        started = mask[:, : t + 1].any(axis=1, keepdims=True) if masked else keep
        expected.append(np.where(started, h, 0.0))  # 0 before a row's first real step
    np.testing.assert_allclose(outputs, np.stack(expected, axis=1), atol=1e-13, rtol=0)
    if stateful:
        np.testing.assert_allclose(
            ops.convert_to_numpy(layer.states[0].value), h, atol=1e-13, rtol=0
        )


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("recurrent_dropout", [0.0, 0.3])
def test_float64_dropout_equals_keras(name, recurrent_dropout):
    """The float64 step draws and applies the dropout masks as Keras's cell does (one per
    gate block with recurrent dropout): the same numbers in training, to float32 rounding
    (Keras's own cell computes a float64 layer in float32 on torch)."""
    if name == "SimpleRNN" and keras.backend.backend() == "jax" and float64_available():
        pytest.skip(
            "Keras 3.15's own SimpleRNN(dtype='float64') fails under JAX_ENABLE_X64 "
            "(`ops.tanh` returns float32, the scan's carry changes dtype): nothing to compare"
        )
    x = np.random.default_rng(32).normal(size=(BATCH, TIME, FEATURES))
    options = dict(dropout=0.4, recurrent_dropout=recurrent_dropout, seed=3, dtype="float64")
    ours = LAYERS[name](UNITS, return_sequences=True, **options)
    theirs = getattr(keras.layers, name)(UNITS, return_sequences=True, **options)
    ours.build(x.shape)
    theirs.build(x.shape)
    ours.set_weights(theirs.get_weights())
    trained = ops.convert_to_numpy(ours(x, training=True))
    np.testing.assert_allclose(
        trained, ops.convert_to_numpy(theirs(x, training=True)), atol=1e-6, rtol=0
    )
    assert np.abs(trained - ops.convert_to_numpy(ours(x))).max() > 0.1  # dropout applied


@pytest.mark.skipif(not float64_available(), reason="JAX computes float64 only with x64 enabled")
def test_float64_gru_with_the_reset_gate_before_computes_in_float64():
    """`reset_after=False` (the reset gate before the recurrent product, one bias row) in
    float64, as test_float64_layer_computes_in_float64 for the default GRU."""
    x = np.random.default_rng(33).normal(size=(BATCH, TIME, FEATURES))  # float64
    layer = GRU(UNITS, return_sequences=True, reset_after=False, dtype="float64")
    layer.build(x.shape)
    rng = np.random.default_rng(34)
    weights = [rng.normal(size=w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    h, expected = np.zeros((BATCH, UNITS)), []
    for t in range(TIME):
        h = numpy_step("GRU", x[:, t], h, *weights, reset_after=False)
        expected.append(h)
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(x)), np.stack(expected, axis=1), atol=1e-13, rtol=0
    )
