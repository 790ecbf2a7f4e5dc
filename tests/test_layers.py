"""lstmkit.layers.LSTM against keras.layers.LSTM: same weights, same numbers, every option."""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

import lstmkit
from lstmkit.layers import LSTM, LSTMCell

BATCH, TIME, FEATURES, UNITS = 3, 6, 4, 5
ATOL = 1e-5


def to_numpy(x):
    return (
        [ops.convert_to_numpy(v) for v in x]
        if isinstance(x, (list, tuple))
        else ops.convert_to_numpy(x)
    )


def assert_close(a, b, atol=ATOL):
    a, b = to_numpy(a), to_numpy(b)
    if isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, atol=atol, rtol=0)
    else:
        np.testing.assert_allclose(a, b, atol=atol, rtol=0)


def inputs(seed=0, batch=BATCH, time=TIME, features=FEATURES):
    return np.random.default_rng(seed).normal(size=(batch, time, features)).astype("float32")


def twin_layers(**options):
    """A Keras LSTM and an lstmkit LSTM with the same options and the same weights."""
    reference = keras.layers.LSTM(UNITS, **options)
    ours = LSTM(UNITS, **options)
    x = inputs()
    reference(x)
    ours(x)
    ours.set_weights(reference.get_weights())
    return reference, ours


OPTIONS = {
    "default": {},
    "sequences": {"return_sequences": True},
    "state": {"return_state": True},
    "sequences_state": {"return_sequences": True, "return_state": True},
    "backwards": {"go_backwards": True, "return_sequences": True, "return_state": True},
    "unroll": {"unroll": True, "return_sequences": True},
    "no_bias": {"use_bias": False, "return_sequences": True},
    "relu_hard_sigmoid": {"activation": "relu", "recurrent_activation": "hard_sigmoid"},
    "no_unit_forget_bias": {"unit_forget_bias": False, "bias_initializer": "ones"},
    "implementation_1": {"implementation": 1, "return_sequences": True},
    "dropout": {"dropout": 0.3, "seed": 7, "return_sequences": True},
    "recurrent_dropout": {"dropout": 0.2, "recurrent_dropout": 0.3, "seed": 7},
}


@pytest.mark.parametrize("name", sorted(OPTIONS))
@pytest.mark.parametrize("training", [False, True])
def test_outputs_equal_keras(name, training):
    reference, ours = twin_layers(**OPTIONS[name])
    x = inputs(1)
    assert_close(ours(x, training=training), reference(x, training=training))


@pytest.mark.parametrize("name", ["default", "backwards", "recurrent_dropout", "no_bias"])
def test_weights_equal_keras_after_sgd_steps(name):
    def model(layer):
        inp = keras.Input((TIME, FEATURES))
        out = layer(inp)
        out = out[0] if isinstance(out, (list, tuple)) else out
        out = keras.layers.Flatten()(out)
        m = keras.Model(inp, keras.layers.Dense(1, kernel_initializer="ones")(out))
        m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        return m

    reference, ours = twin_layers(**OPTIONS[name])
    start = to_numpy(ours.get_weights())
    models = [model(reference), model(ours)]
    x, y = inputs(2, batch=8), np.random.default_rng(3).normal(size=(8, 1)).astype("float32")
    for m in models:
        for _ in range(3):
            m.train_on_batch(x, y)
    assert_close(ours.get_weights(), reference.get_weights())
    # Every weight moved from where it started: the two layers were compared
    # after training, not as two untouched copies.
    for before, after in zip(start, to_numpy(ours.get_weights())):
        assert np.abs(after - before).max() > 1e-4


@pytest.mark.parametrize("padding", ["right", "left", "middle"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masks_equal_keras(padding, go_backwards):
    reference, ours = twin_layers(
        return_sequences=True, return_state=True, go_backwards=go_backwards
    )
    mask = np.ones((BATCH, TIME), dtype=bool)
    if padding == "right":
        mask[0, 4:] = mask[1, 2:] = False
    elif padding == "left":
        mask[0, :2] = mask[2, :5] = False
    else:
        mask[1, 2:4] = False
    x = inputs(4)
    assert_close(ours(x, mask=mask), reference(x, mask=mask))


def test_right_padding_does_not_change_final_state():
    layer = LSTM(UNITS, return_state=True)
    x = inputs(5)
    padded = np.concatenate([x, np.zeros((BATCH, 3, FEATURES), "float32")], axis=1)
    mask = np.concatenate([np.ones((BATCH, TIME), bool), np.zeros((BATCH, 3), bool)], axis=1)
    assert_close(layer(padded, mask=mask), layer(x))


def test_initial_state_equal_keras():
    reference, ours = twin_layers(return_sequences=True, return_state=True)
    rng = np.random.default_rng(6)
    state = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(2)]
    x = inputs(7)
    assert_close(ours(x, initial_state=state), reference(x, initial_state=state))
    assert not np.allclose(to_numpy(ours(x, initial_state=state)[1]), to_numpy(ours(x)[1]))


def test_stateful_equal_keras_across_batches():
    def model(layer_class):
        inp = keras.Input((TIME, FEATURES), batch_size=BATCH)
        layer = layer_class(UNITS, stateful=True, return_sequences=True)
        return keras.Model(inp, layer(inp)), layer

    ref_model, reference = model(keras.layers.LSTM)
    our_model, ours = model(LSTM)
    ours.set_weights(reference.get_weights())
    first, second = inputs(8), inputs(9)
    for x in (first, second):
        assert_close(our_model(x), ref_model(x))
    # The state carried over: the second batch differs from a fresh start.
    ours.reset_state()
    fresh = our_model(second)
    our_model(first)
    assert not np.allclose(to_numpy(our_model(second)), to_numpy(fresh))
    ours.reset_state()
    assert_close(our_model(second), fresh)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul", None])
def test_bidirectional_equal_keras(merge_mode):
    reference = keras.layers.Bidirectional(
        keras.layers.LSTM(UNITS, return_sequences=True), merge_mode=merge_mode
    )
    ours = keras.layers.Bidirectional(LSTM(UNITS, return_sequences=True), merge_mode=merge_mode)
    x = inputs(10)
    reference(x)
    ours(x)
    ours.set_weights(reference.get_weights())
    mask = np.ones((BATCH, TIME), bool)
    mask[0, 3:] = False
    assert_close(ours(x, mask=mask), reference(x, mask=mask))
    assert_close(ours(x), reference(x))


def test_sequential_functional_stacked_and_embedding_mask():
    tokens = np.array([[3, 5, 2, 0, 0], [1, 4, 4, 4, 2]], dtype="int32")

    def build(layer_class):
        keras.utils.set_random_seed(11)
        return keras.Sequential(
            [
                keras.Input((5,), dtype="int32"),
                keras.layers.Embedding(8, FEATURES, mask_zero=True),
                layer_class(UNITS, return_sequences=True),
                layer_class(UNITS),
                keras.layers.Dense(2),
            ]
        )

    reference, ours = build(keras.layers.LSTM), build(LSTM)
    ours.set_weights(reference.get_weights())
    assert_close(ours(tokens), reference(tokens))
    # Padding is irrelevant under the mask: more zeros give the same answer.
    longer = np.pad(tokens, ((0, 0), (0, 4)))
    inp = keras.Input((9,), dtype="int32")
    functional = keras.Model(
        inp, ours.layers[-1](ours.layers[-2](ours.layers[-3](ours.layers[0](inp))))
    )
    assert_close(functional(longer), ours(tokens))


def test_regularizer_losses_equal_keras():
    options = {
        "kernel_regularizer": "l2",
        "recurrent_regularizer": "l1",
        "bias_regularizer": "l2",
        "activity_regularizer": "l2",
    }
    reference, ours = twin_layers(**options)
    x = inputs(12)
    reference(x)
    ours(x)
    assert len(ours.losses) == len(reference.losses) == 4
    assert_close(sum(ours.losses), sum(reference.losses))


def test_constraints_apply_like_keras():
    options = {
        "kernel_constraint": keras.constraints.MaxNorm(0.1),
        "recurrent_constraint": keras.constraints.NonNeg(),
        "bias_constraint": keras.constraints.MinMaxNorm(0.0, 0.5, axis=0),
    }
    reference, ours = twin_layers(**options)
    x, y = inputs(15, batch=8), np.random.default_rng(16).normal(size=(8, 1)).astype("float32")
    for layer in (reference, ours):
        inp = keras.Input((TIME, FEATURES))
        model = keras.Model(inp, keras.layers.Dense(1, kernel_initializer="ones")(layer(inp)))
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
        model.train_on_batch(x, y)
    kernel, recurrent_kernel, bias = to_numpy(ours.get_weights())
    # The constraints were applied after the step, as Keras applies them.
    assert np.sqrt((kernel**2).sum(axis=0)).max() <= 0.1 + 1e-6
    assert recurrent_kernel.min() >= 0
    assert np.abs(bias).max() <= 0.5 + 1e-6
    assert_close(ours.get_weights(), reference.get_weights())


def test_pinned_numbers_with_constant_initializers():
    # One unit, one feature, x = 1 for two steps, every weight 0.1, zero bias.
    layer = LSTM(
        1,
        kernel_initializer=keras.initializers.Constant(0.1),
        recurrent_initializer=keras.initializers.Constant(0.1),
        unit_forget_bias=False,
        return_sequences=True,
        return_state=True,
    )
    outputs, h, c = layer(np.ones((1, 2, 1), "float32"))
    # Step 1: every gate sees 0.1: c1 = s(.1) tanh(.1), h1 = s(.1) tanh(c1).
    # Step 2: every gate sees 0.1 + 0.1 h1.
    # (Worked out with the math module: h = 0.0274438, 0.0426552; c2 = 0.0813243.)
    np.testing.assert_allclose(to_numpy(outputs)[0, :, 0], [0.0274438, 0.0426552], atol=1e-6)
    np.testing.assert_allclose(to_numpy(c)[0, 0], 0.0813243, atol=1e-6)
    np.testing.assert_allclose(to_numpy(h)[0, 0], 0.0426552, atol=1e-6)


def test_unit_forget_bias_initialises_forget_block_to_one():
    layer = LSTM(UNITS)
    layer(inputs())
    bias = to_numpy(layer.cell.bias)
    np.testing.assert_array_equal(bias[UNITS : 2 * UNITS], 1.0)
    np.testing.assert_array_equal(np.delete(bias, np.s_[UNITS : 2 * UNITS]), 0.0)


def test_weight_layout_is_keras_layout():
    reference, ours = twin_layers()
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in reference.weights]
    assert [tuple(w.shape) for w in ours.weights] == [
        (FEATURES, 4 * UNITS),
        (UNITS, 4 * UNITS),
        (4 * UNITS,),
    ]
    reference.set_weights(ours.get_weights())  # and back


def test_cell_in_keras_rnn_equals_layer():
    cell_rnn = keras.layers.RNN(LSTMCell(UNITS), return_sequences=True)
    ours = LSTM(UNITS, return_sequences=True)
    x = inputs(13)
    cell_rnn(x)
    ours(x)
    cell_rnn.set_weights(ours.get_weights())
    assert_close(cell_rnn(x), ours(x))


@pytest.mark.parametrize("layers", ["rnn", "stacked"])
def test_cell_dropout_inside_keras_rnn(layers):
    # The cell applies its own dropout wherever it runs, with the same masks as
    # Keras's cell under the same seed.
    options = {"dropout": 0.5, "recurrent_dropout": 0.3, "seed": 3}

    def wrap(cell_class):
        if layers == "rnn":
            return keras.layers.RNN(cell_class(UNITS, **options), return_sequences=True)
        cells = [cell_class(UNITS, **options), cell_class(UNITS, **options)]
        return keras.layers.RNN(keras.layers.StackedRNNCells(cells), return_sequences=True)

    ours, reference = wrap(LSTMCell), wrap(keras.layers.LSTMCell)
    x = inputs(17)
    ours(x)
    reference(x)
    ours.set_weights(reference.get_weights())
    assert_close(ours(x), reference(x))
    trained = to_numpy(ours(x, training=True))
    assert not np.allclose(trained, to_numpy(ours(x)), atol=1e-3)  # dropout acted
    assert_close(trained, reference(x, training=True))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_gate_activations_under_mixed_precision(policy):
    keras.config.set_dtype_policy(policy)
    try:
        layer = LSTM(UNITS, return_sequences=True)
        x = inputs(18)
        outputs = to_numpy(layer(x)).astype("float32")
        gates = layer.gate_activations(x)
    finally:
        keras.config.set_dtype_policy("float32")
    assert gates["hidden_state"].dtype == np.dtype(layer.compute_dtype)
    atol = 1e-2 if policy == "mixed_bfloat16" else 2e-3
    np.testing.assert_allclose(gates["hidden_state"].astype("float32"), outputs, atol=atol)


def test_gate_activations_reproduce_outputs():
    for go_backwards in (False, True):
        layer = LSTM(UNITS, return_sequences=True, return_state=True, go_backwards=go_backwards)
        x = inputs(14)
        mask = np.ones((BATCH, TIME), bool)
        mask[0, 4:] = False
        outputs, h, c = to_numpy(layer(x, mask=mask))
        gates = layer.gate_activations(x, mask=mask)
        assert set(gates) == {
            "input_gate",
            "forget_gate",
            "candidate",
            "output_gate",
            "cell_state",
            "hidden_state",
        }
        for value in gates.values():
            assert value.shape == (BATCH, TIME, UNITS)
        last = 0 if go_backwards else -1
        np.testing.assert_allclose(gates["hidden_state"][:, last], h, atol=ATOL)
        np.testing.assert_allclose(gates["cell_state"][:, last], c, atol=ATOL)
        if not go_backwards:
            np.testing.assert_allclose(gates["hidden_state"], outputs, atol=ATOL)
        for name in ("input_gate", "forget_gate", "output_gate"):
            assert 0 <= gates[name].min() and gates[name].max() <= 1


def test_public_names():
    assert lstmkit.LSTM is LSTM and lstmkit.layers.LSTMCell is LSTMCell


def numpy_lstm(x, kernel, recurrent_kernel, bias, mask=None):
    """The LSTM of the module docstring in NumPy float64: the reference for float64 layers.

    A masked step keeps the state; its output is the held `h`, or 0 before the row's
    first real step.
    """

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    mask = np.ones(x.shape[:2], bool) if mask is None else mask
    h = np.zeros((x.shape[0], recurrent_kernel.shape[0]))
    c = np.zeros_like(h)
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        keep = mask[:, t : t + 1]  # (batch, 1)
        c = np.where(keep, sigmoid(f) * c + sigmoid(i) * np.tanh(g), c)
        h = np.where(keep, sigmoid(o) * np.tanh(c), h)
        started = mask[:, : t + 1].any(axis=1, keepdims=True)
        outputs.append(np.where(started, h, 0.0))
    return np.stack(outputs, axis=1)  # (batch, time, units)


def float64_available():
    if keras.backend.backend() != "jax":
        return True
    import jax

    return bool(jax.config.jax_enable_x64)


@pytest.mark.skipif(not float64_available(), reason="JAX computes float64 only with x64 enabled")
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("use_fused", [True, False])
def test_float64_layer_computes_in_float64(masked, use_fused):
    """A float64 layer is exact to float64 rounding on every backend, fast path or
    reference loop, with a mask (right and left padding) or without.

    Guards against Keras 3.15's torch `ops.matmul`, which returns float32 for two float64
    tensors (lstmkit matched a float64 reference to 1e-8 there, not 1e-16), and its JAX
    `ops.tanh`, which returns float32 for float64 (on JAX the test needs
    JAX_ENABLE_X64=1). The mask masks steps, so that on torch the left-padded batch runs
    the reference loop (the fast path takes right padding only).
    """
    layer = LSTM(UNITS, return_sequences=True, dtype="float64", use_fused=use_fused)
    x = np.random.default_rng(20).normal(size=(BATCH, TIME, FEATURES))  # float64
    layer.build(x.shape)
    rng = np.random.default_rng(21)
    weights = [rng.normal(size=w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    mask = None
    if masked:
        mask = np.ones((BATCH, TIME), bool)
        mask[1, 4:] = mask[2, :2] = False  # right and left padding
    expected = numpy_lstm(x, *weights, mask=mask)
    outputs = to_numpy(layer(x, mask=mask))
    assert outputs.dtype == np.float64
    np.testing.assert_allclose(outputs, expected, atol=1e-13, rtol=0)
    gates = layer.gate_activations(x, mask=mask)  # the held h: 0 before the first real step
    np.testing.assert_allclose(gates["hidden_state"], expected, atol=1e-13, rtol=0)


@pytest.mark.parametrize("layer_name", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_masked_steps_before_the_first_real_step_give_zeros(
    layer_name, go_backwards, return_sequences
):
    """With a non-zero initial state, left padding and `zero_output_for_mask=False`, the
    outputs before a row's first real step are 0 on every backend and for both `unroll`.

    Guards against Keras 3.15's JAX loop with `unroll=False`, which repeats the initial
    `h` there (TensorFlow, PyTorch and JAX with `unroll=True` give 0).
    """
    ours_class, keras_class = getattr(lstmkit, layer_name), getattr(keras.layers, layer_name)
    options = dict(return_sequences=return_sequences, go_backwards=go_backwards)
    x = inputs(22)
    mask = np.ones((BATCH, TIME), bool)
    mask[0, :2] = False  # padding first in reading order: on the left, or the right going back
    mask[0, -2:] = False
    mask[1] = False  # a row with no real step at all
    num_states = 2 if layer_name == "LSTM" else 1
    rng = np.random.default_rng(23)
    state = [rng.uniform(0.5, 1.0, (BATCH, UNITS)).astype("float32") for _ in range(num_states)]
    reference = keras_class(UNITS, **options)
    reference(x)
    outputs = {}
    for unroll in (False, True):
        layer = ours_class(UNITS, unroll=unroll, **options)
        layer(x)
        layer.set_weights(reference.get_weights())
        outputs[unroll] = to_numpy(layer(x, mask=mask, initial_state=state))
    np.testing.assert_allclose(outputs[False], outputs[True], atol=ATOL)
    expected = to_numpy(reference(x, mask=mask, initial_state=state, training=False))
    real = mask[:, ::-1] if go_backwards else mask  # in reading order
    before = np.cumsum(real, axis=1) == 0  # True before the first real step
    if return_sequences:
        expected = np.where(before[..., None], 0.0, expected)
    else:
        expected = np.where(before.all(axis=1, keepdims=True), 0.0, expected)
    np.testing.assert_allclose(outputs[False], expected, atol=ATOL)
    assert np.abs(outputs[False]).max() > 0.1  # the real steps are not zeros


@pytest.mark.parametrize("layer_name", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_zero_output_for_mask_is_the_same_unrolled(layer_name, return_sequences):
    """`zero_output_for_mask=True` (which `Bidirectional` sets with `return_sequences`)
    gives 0 at every masked step and the held-output numbers elsewhere, read forwards or
    backwards, unrolled or not, on every backend.

    Guards against Keras 3.15's unrolled loops: TensorFlow's zeroes the outputs of a
    `go_backwards` layer at the mirrored steps, JAX's ignores `zero_output_for_mask`;
    `Bidirectional(lstmkit.LSTM(..., unroll=True))` with a mask then gave wrong outputs.
    """
    layer_class = getattr(lstmkit, layer_name)
    x = inputs(24)
    mask = np.ones((BATCH, TIME), bool)
    mask[0, 4:] = False  # right padding
    mask[1, :1] = mask[1, 3:4] = False  # a hole and left padding
    mask[2] = False  # no real step
    outputs = {}
    for go_backwards, unroll in itertools.product([False, True], [False, True]):
        layer = layer_class(
            UNITS, return_sequences=return_sequences, go_backwards=go_backwards, unroll=unroll
        )
        layer(x)
        if not outputs:
            weights = layer.get_weights()
        layer.set_weights(weights)
        held = to_numpy(layer(x, mask=mask))  # zero_output_for_mask=False
        layer.zero_output_for_mask = True
        zeroed = to_numpy(layer(x, mask=mask))
        real = mask[:, ::-1] if go_backwards else mask  # in reading order
        if return_sequences:
            expected = np.where(real[..., None], held, 0.0)
        else:
            expected = np.where(real[:, -1:], held, 0.0)  # the last step read
        np.testing.assert_allclose(zeroed, expected, atol=ATOL, rtol=0)
        outputs[go_backwards, unroll] = zeroed
    for go_backwards in (False, True):
        np.testing.assert_allclose(
            outputs[go_backwards, True], outputs[go_backwards, False], atol=ATOL, rtol=0
        )
    assert np.abs(outputs[True, False]).max() > 0.1  # not all zeros


@pytest.mark.parametrize("layer_name", ["LSTM", "GRU", "SimpleRNN"])
def test_bidirectional_with_mask_is_the_same_unrolled(layer_name):
    """`Bidirectional(..., return_sequences=True)` with a mask: the same numbers with
    `unroll=True` as without (Keras 3.15's unrolled TensorFlow loop zeroed the backward
    half's outputs at the mirrored steps)."""
    x = inputs(25)
    mask = np.ones((BATCH, TIME), bool)
    mask[0, 4:] = mask[1, 2:] = False  # right padding, as an Embedding(mask_zero=True) gives
    outputs = {}
    for unroll in (False, True):
        layer = keras.layers.Bidirectional(
            getattr(lstmkit, layer_name)(UNITS, return_sequences=True, unroll=unroll)
        )
        layer(x)
        if not outputs:
            weights = layer.get_weights()
        layer.set_weights(weights)
        outputs[unroll] = to_numpy(layer(x, mask=mask))
    np.testing.assert_allclose(outputs[True], outputs[False], atol=ATOL, rtol=0)
    assert np.abs(outputs[False][0, :4]).min() > 0  # the real steps are not zeroed
    np.testing.assert_array_equal(outputs[False][0, 4:], 0.0)


@pytest.mark.parametrize("unit_forget_bias", [True, False])
@pytest.mark.parametrize("bias_initializer", ["zeros", "ones", "random_normal"])
def test_initial_weights_equal_keras(unit_forget_bias, bias_initializer):
    """The same seeded initializers give the same starting weights as Keras's LSTM.

    `test_outputs_equal_keras` copies Keras's weights into lstmkit's layer, so its
    `no_unit_forget_bias` case never saw lstmkit's own bias initialisation.
    """
    options = dict(
        unit_forget_bias=unit_forget_bias,
        kernel_initializer=keras.initializers.GlorotUniform(seed=1),
        recurrent_initializer=keras.initializers.Orthogonal(seed=2),
        bias_initializer=keras.initializers.get(
            {"class_name": bias_initializer, "config": {"seed": 3}}
            if bias_initializer == "random_normal"
            else bias_initializer
        ),
    )
    reference, ours = keras.layers.LSTM(UNITS, **options), LSTM(UNITS, **options)
    reference.build((BATCH, TIME, FEATURES))
    ours.build((BATCH, TIME, FEATURES))
    assert_close(ours.get_weights(), reference.get_weights(), atol=0)
    bias = to_numpy(ours.cell.bias)
    if unit_forget_bias:
        np.testing.assert_array_equal(bias[UNITS : 2 * UNITS], 1.0)
