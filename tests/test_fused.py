"""lstmkit.fused: every fast path equals the reference loop, forward and backward.

Each test builds the same layer twice with the same weights: `use_fused=True` (the
default, the fast path where the configuration allows) and `use_fused=False` (the
reference loop of lstmkit.layers, the math the lessons teach). Outputs, final states
and the gradients of a fixed projection of them with respect to the inputs, the
initial state and every weight must agree within 1e-5; eagerly and, on TensorFlow
and JAX, inside a compiled function where the mask is only known at run time.
"""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from lstmkit import fused
from lstmkit.layers import LSTM

BATCH, TIME, FEATURES, UNITS = 4, 7, 3, 5
ATOL = 1e-5
BACKEND = keras.backend.backend()
COMPILED = [False] if BACKEND == "torch" else [False, True]
# The big grid runs compiled only on JAX: there the fast path is the reference loop
# itself (rematerialized), eager and jitted alike, and every eager call recompiles.
GRID_COMPILED = {"torch": [False], "tensorflow": [False, True], "jax": [True]}[BACKEND]


@pytest.fixture(autouse=True)
def fast_path_on(monkeypatch):
    # A fast path that is off because it measured slower (fused._MEASURED_SLOWER) is
    # still tested equal to the reference: switched on for each test here.
    if BACKEND in fused._MEASURED_SLOWER:
        monkeypatch.setitem(fused._FAST_PATHS, BACKEND, fused._MEASURED_SLOWER[BACKEND])


def test_a_fast_path_measured_slower_is_off_by_default(monkeypatch):
    if BACKEND not in fused._MEASURED_SLOWER:
        pytest.skip(f"the {BACKEND} fast path is on")
    monkeypatch.delitem(fused._FAST_PATHS, BACKEND)
    assert fused.path_taken(LSTM(UNITS)) == (
        "reference: the step-by-step loop of lstmkit.layers"
        f" (the {BACKEND} fast path measured slower than the reference)"
    )


def inputs(seed=0, batch=BATCH, time=TIME, features=FEATURES, dtype="float32"):
    return np.random.default_rng(seed).normal(size=(batch, time, features)).astype(dtype)


def right_padded(lengths, time=TIME):
    return np.arange(time)[None, :] < np.asarray(lengths)[:, None]  # (batch, time)


MASKS = {
    "none": None,
    "right": right_padded([7, 3, 5, 1]),
    "right_full": right_padded([7, 7, 7, 7]),  # a mask that masks nothing
}


def twin_layers(weight_seed=1, dtype=None, **options):
    """Two LSTMs with the same options and weights: the fast path and the reference.

    Both draw their dropout masks from the same seed, so call them alike.
    """
    options.setdefault("seed", 7)
    fast = LSTM(UNITS, use_fused=True, dtype=dtype, **options)
    reference = LSTM(UNITS, use_fused=False, dtype=dtype, **options)
    x = inputs(dtype=dtype or "float32")
    fast(x)
    reference(x)
    rng = np.random.default_rng(weight_seed)
    weights = [rng.normal(scale=0.5, size=w.shape).astype(w.dtype) for w in fast.get_weights()]
    fast.set_weights(weights)
    reference.set_weights(weights)
    return fast, reference


def _flat(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _projection(outputs):
    # A fixed, uneven weighting of every output, so each element has its own gradient.
    total = 0.0
    for k, output in enumerate(outputs):
        positions = ops.cumsum(ops.ones_like(ops.reshape(output, (-1,))))  # 1, 2, 3, ...
        weights = ops.reshape(ops.sin(positions * 0.7 + k), ops.shape(output))
        total = total + ops.sum(output * ops.cast(weights, output.dtype))
    return total


def run(layer, x, initial_state=None, mask=None, training=False, compiled=False):
    """Outputs (NumPy) and the gradients of `_projection` of them.

    Returns `(outputs, grads)`: grads are with respect to x, the initial state (when
    given) and the layer's trainable weights, in that order.
    """
    state = None if initial_state is None else [np.asarray(s) for s in initial_state]
    if BACKEND == "tensorflow":
        return _run_tensorflow(layer, x, state, mask, training, compiled)
    if BACKEND == "jax":
        return _run_jax(layer, x, state, mask, training, compiled)
    return _run_torch(layer, x, state, mask, training)


def _call(layer, x, state, mask, training):
    kwargs = {"training": training}
    if state is not None:
        kwargs["initial_state"] = list(state)
    if mask is not None:
        kwargs["mask"] = mask
    return _flat(layer(x, **kwargs))


def _run_tensorflow(layer, x, state, mask, training, compiled):
    import tensorflow as tf

    def forward_backward(x, state, mask):
        with tf.GradientTape() as tape:
            watched = [x] + list(state or [])
            tape.watch(watched)
            outputs = _call(layer, x, state, mask, training)
            loss = _projection(outputs)
        return outputs, tape.gradient(loss, watched + [w.value for w in layer.trainable_weights])

    if compiled:
        forward_backward = tf.function(forward_backward)
    x = tf.constant(x)
    state = None if state is None else [tf.constant(s) for s in state]
    mask = None if mask is None else tf.constant(mask)
    outputs, grads = forward_backward(x, state, mask)
    return [o.numpy() for o in outputs], [g.numpy() for g in grads]


def _run_jax(layer, x, state, mask, training, compiled):
    import jax

    def loss(trainable, x, state, mask, non_trainable):
        kwargs = {"training": training}
        if state is not None:
            kwargs["initial_state"] = list(state)
        if mask is not None:
            kwargs["mask"] = mask
        outputs, non_trainable = layer.stateless_call(trainable, non_trainable, x, **kwargs)
        outputs = _flat(outputs)
        return _projection(outputs), (outputs, non_trainable)

    forward_backward = jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True)
    if compiled:
        forward_backward = jax.jit(forward_backward)
    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]
    (_, (outputs, non_trainable)), (d_weights, d_x, d_state) = forward_backward(
        trainable, x, state, mask, non_trainable
    )
    for variable, value in zip(layer.non_trainable_variables, non_trainable):
        variable.assign(value)
    grads = [d_x] + list(d_state or []) + list(d_weights)
    return [np.asarray(o) for o in outputs], [np.asarray(g) for g in grads]


def _run_torch(layer, x, state, mask, training):
    import torch

    x = torch.tensor(x, requires_grad=True)
    state = None if state is None else [torch.tensor(s, requires_grad=True) for s in state]
    mask = None if mask is None else torch.tensor(mask)
    weights = [w.value for w in layer.trainable_weights]
    for w in weights:
        w.grad = None
    outputs = _call(layer, x, state, mask, training)
    _projection(outputs).backward()
    grads = [x.grad] + [s.grad for s in state or []] + [w.grad for w in weights]
    return [o.detach().numpy() for o in outputs], [g.detach().numpy() for g in grads]


def assert_same(fast, reference, atol=ATOL):
    (fast_outputs, fast_grads), (ref_outputs, ref_grads) = fast, reference
    assert len(fast_outputs) == len(ref_outputs) and len(fast_grads) == len(ref_grads)
    for a, b in zip(fast_outputs + fast_grads, ref_outputs + ref_grads):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=atol, rtol=0)


def initial_state(seed=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(2)]


def spy_on_fast_path(monkeypatch):
    """Counts the calls of this backend's fast path (traces count too).

    On torch and TensorFlow the fused kernel itself is counted: their fast path
    sends a mask that is not right padding on to the reference.
    """
    calls = []
    table = fused._KERNELS if BACKEND in fused._KERNELS else fused._FAST_PATHS
    fast = table[BACKEND]

    def counted(*args, **kwargs):
        calls.append(True)
        return fast(*args, **kwargs)

    monkeypatch.setitem(table, BACKEND, counted)
    return calls


GRID = list(
    itertools.product(
        [False, True],  # return_sequences
        [False, True],  # go_backwards
        sorted(MASKS),  # mask
        [False, True],  # initial_state
        [False, True],  # input dropout while training
    )
)


@pytest.mark.parametrize("return_sequences,go_backwards,mask,with_state,dropout", GRID)
def test_fast_path_equals_reference(
    monkeypatch, return_sequences, go_backwards, mask, with_state, dropout
):
    # return_state=True: the final h and c are compared (and differentiated) too.
    fast, reference = twin_layers(
        return_sequences=return_sequences,
        return_state=True,
        go_backwards=go_backwards,
        dropout=0.3 if dropout else 0.0,
        weight_seed=5,
    )
    calls = spy_on_fast_path(monkeypatch)
    x, state = inputs(2), initial_state() if with_state else None
    for compiled in GRID_COMPILED:
        got = run(fast, x, state, MASKS[mask], training=dropout, compiled=compiled)
        want = run(reference, x, state, MASKS[mask], training=dropout, compiled=compiled)
        assert_same(got, want)
    assert calls, "the fast path did not run"


@pytest.mark.parametrize("compiled", COMPILED)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_masked_edge_cases(go_backwards, zero_output_for_mask, compiled):
    # A row of length 0 (fully masked) and a full one; zero_output_for_mask is what
    # Bidirectional sets with return_sequences.
    fast, reference = twin_layers(
        return_sequences=True, return_state=True, go_backwards=go_backwards
    )
    for layer in (fast, reference):
        layer.zero_output_for_mask = zero_output_for_mask
    mask = right_padded([0, 7, 2, 6])
    x, state = inputs(4), initial_state(5)
    for with_state in (None, state):
        assert_same(
            run(fast, x, with_state, mask, compiled=compiled),
            run(reference, x, with_state, mask, compiled=compiled),
        )


@pytest.mark.parametrize("return_state", [False, True])
def test_return_state_false_and_no_bias(return_state):
    fast, reference = twin_layers(return_sequences=True, return_state=return_state, use_bias=False)
    mask = MASKS["right"]
    assert_same(run(fast, inputs(6), mask=mask), run(reference, inputs(6), mask=mask))


def test_float64():
    fast, reference = twin_layers(dtype="float64", return_sequences=True, return_state=True)
    assert fused.reference_reason(fast) is None
    x = inputs(7, dtype="float64")
    got, want = run(fast, x, mask=MASKS["right"]), run(reference, x, mask=MASKS["right"])
    # JAX computes in float32 unless jax_enable_x64 is set. Elsewhere both paths are
    # float64 (the reference loop's products are einsums on torch, where Keras 3.15's
    # ops.matmul of two float64 tensors returns float32, about 1e-8 off).
    exact = got[0][0].dtype == np.float64
    assert_same(got, want, 1e-10 if exact else ATOL)


@pytest.mark.parametrize("compiled", COMPILED)
def test_stateful_carries_state_like_reference(compiled):
    # Two batches in a row: the second starts from the first's final state, and
    # its gradients stop there (truncated backpropagation through time).
    fast, reference = twin_layers(stateful=True, return_sequences=True, return_state=True)
    for layer in (fast, reference):
        layer.reset_state()
    for seed in (8, 9):
        x = inputs(seed)
        assert_same(
            run(fast, x, mask=MASKS["right"], compiled=compiled),
            run(reference, x, mask=MASKS["right"], compiled=compiled),
        )
        for a, b in zip(fast.states, reference.states):
            np.testing.assert_allclose(
                ops.convert_to_numpy(a.value), ops.convert_to_numpy(b.value), atol=ATOL
            )


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
@pytest.mark.parametrize("training", [False, True])
def test_bidirectional(merge_mode, training):
    def bidirectional(use_fused):
        layer = LSTM(UNITS, return_sequences=True, dropout=0.25, seed=4, use_fused=use_fused)
        return keras.layers.Bidirectional(layer, merge_mode=merge_mode)

    fast, reference = bidirectional(True), bidirectional(False)
    x = inputs(10)
    fast(x)
    reference(x)
    assert fast.backward_layer.use_fused and not reference.backward_layer.use_fused
    rng = np.random.default_rng(11)
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in fast.get_weights()]
    fast.set_weights(weights)
    reference.set_weights(weights)
    for compiled in GRID_COMPILED:
        assert_same(
            run(fast, x, mask=MASKS["right"], training=training, compiled=compiled),
            run(reference, x, mask=MASKS["right"], training=training, compiled=compiled),
        )


def test_training_with_fit_equals_reference():
    # The compiled train step of each backend (tf.function, jax.jit, eager torch),
    # a right-padded mask from an Embedding, input dropout: the same weights after.
    tokens = np.random.default_rng(12).integers(1, 9, size=(16, TIME))
    tokens[np.arange(TIME)[None, :] >= np.random.default_rng(13).integers(1, 8, 16)[:, None]] = 0
    y = np.random.default_rng(14).normal(size=(16, 1)).astype("float32")

    def model(use_fused):
        keras.utils.set_random_seed(15)
        net = keras.Sequential(
            [
                keras.Input((TIME,), dtype="int32"),
                keras.layers.Embedding(9, FEATURES, mask_zero=True),
                LSTM(UNITS, return_sequences=True, dropout=0.2, seed=2, use_fused=use_fused),
                LSTM(UNITS, go_backwards=True, use_fused=use_fused),
                keras.layers.Dense(1),
            ]
        )
        net.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
        return net

    fast, reference = model(True), model(False)
    reference.set_weights(fast.get_weights())
    for net in (fast, reference):
        net.fit(tokens, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(fast.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, atol=ATOL)


# --- where the reference runs -----------------------------------------------------------


@pytest.mark.parametrize(
    "options,training,reason",
    [
        ({"use_fused": False}, False, "use_fused=False"),
        ({"recurrent_dropout": 0.2}, True, "recurrent dropout while training"),
        ({"dropout": 0.2, "implementation": 1}, True, "one input dropout mask per gate"),
        ({"activation": "relu"}, False, "activation is not tanh"),
        ({"recurrent_activation": "hard_sigmoid"}, False, "recurrent_activation is not sigmoid"),
        ({"unroll": True}, False, "unroll=True"),
    ],
)
def test_reference_runs_where_the_fast_path_does_not_apply(monkeypatch, options, training, reason):
    layer_options = {"return_sequences": True, "return_state": True, "seed": 7, **options}
    layer_options.pop("use_fused", None)
    fast = LSTM(UNITS, use_fused=options.get("use_fused", True), **layer_options)
    reference = LSTM(UNITS, use_fused=False, **layer_options)
    x = inputs(16)
    fast(x)
    reference(x)
    reference.set_weights(fast.get_weights())
    assert fused.reference_reason(fast, training=training).startswith(reason)
    calls = spy_on_fast_path(monkeypatch)
    assert_same(run(fast, x, training=training), run(reference, x, training=training))
    assert not calls


def test_recurrent_dropout_layer_uses_fast_path_for_inference(monkeypatch):
    fast, reference = twin_layers(recurrent_dropout=0.3, dropout=0.2, return_sequences=True)
    calls = spy_on_fast_path(monkeypatch)
    assert_same(run(fast, inputs(17)), run(reference, inputs(17)))
    assert calls


@pytest.mark.parametrize("padding", ["left", "middle"])
@pytest.mark.parametrize("compiled", COMPILED)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_mask_that_is_not_right_padding(monkeypatch, padding, compiled, go_backwards):
    # torch and TensorFlow: eagerly the fused kernel is not entered; compiled, the
    # mask is a run-time value and tf.cond picks the reference (the numbers prove
    # which ran). JAX's fast path is the reference loop rematerialized: any mask.
    fast, reference = twin_layers(
        return_sequences=True, return_state=True, go_backwards=go_backwards
    )
    mask = np.ones((BATCH, TIME), bool)
    if padding == "left":
        mask[0, :3] = mask[2, :6] = False
    else:
        mask[1, 2:4] = False
    calls = spy_on_fast_path(monkeypatch)
    x = inputs(18)
    assert_same(
        run(fast, x, mask=mask, compiled=compiled),
        run(reference, x, mask=mask, compiled=compiled),
    )
    if BACKEND == "jax":
        assert calls
    elif not compiled:
        assert not calls


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_runs_reference(monkeypatch, policy):
    keras.config.set_dtype_policy(policy)
    try:
        layer = LSTM(UNITS, return_sequences=True)
        calls = spy_on_fast_path(monkeypatch)
        layer(inputs(19))
    finally:
        keras.config.set_dtype_policy("float32")
    assert fused.reference_reason(layer).startswith("compute dtype")
    assert not calls


def test_use_fused_round_trips_and_defaults_on():
    layer = LSTM(UNITS, use_fused=False)
    assert layer.get_config()["use_fused"] is False
    assert LSTM.from_config(layer.get_config()).use_fused is False
    # A Keras LSTM's config (no use_fused) loads with the fast path on.
    keras_config = keras.layers.LSTM(UNITS).get_config()
    assert LSTM.from_config(keras_config).use_fused is True


def test_path_taken_names_the_path():
    fast, reference = twin_layers()
    assert fast.use_fused and fused.path_taken(fast).startswith("fused: ")
    assert fused.path_taken(reference) == (
        "reference: the step-by-step loop of lstmkit.layers (use_fused=False)"
    )


def test_integer_inputs_give_the_reference_outputs():
    # Keras's own Bidirectional test feeds an int array: the reference's matmul promotes
    # it to the weights' dtype; torch's fused kernel refused it (RuntimeError) until the
    # fast path cast it the same way.
    x = np.array([[[101, 202], [303, 404]], [[1, 2], [3, 4]]])  # int64 (batch, time, 2)
    fast = LSTM(UNITS, return_sequences=True, return_state=True)
    reference = LSTM(UNITS, return_sequences=True, return_state=True, use_fused=False)
    fast.build(x.shape)
    reference.build(x.shape)
    reference.set_weights(fast.get_weights())
    for got, want in zip(fast(x), reference(x)):
        np.testing.assert_allclose(ops.convert_to_numpy(got), ops.convert_to_numpy(want), atol=ATOL)
