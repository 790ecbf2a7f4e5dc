"""lstmkit's LSTM, GRU and SimpleRNN expose every public attribute of their Keras twins.

Built from the same arguments, each public attribute and property of
`keras.layers.LSTM` (`GRU`, `SimpleRNN`) exists on the lstmkit layer, and of its cell on
the lstmkit cell, with the same value: the same number, string, activation, initializer
(by its config), variable (path, shape, dtype and value, once the weights are copied
over) or error. Methods are compared by name only. lstmkit may have more (e.g.
`LSTM.gate_activations`).

And Keras's own RNN test files pass with lstmkit's classes substituted
(tests/keras_rnn_suite.py), on the backend this run is for.
"""

import inspect
import json
import pathlib
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import ops

import lstmkit

BATCH, TIME, FEATURES, UNITS = 2, 3, 5, 4

COMMON = {
    "defaults": {},
    "everything": dict(
        activation="relu",
        use_bias=False,
        kernel_initializer="he_normal",
        recurrent_initializer=keras.initializers.Orthogonal(gain=0.5, seed=1),
        kernel_regularizer="l2",
        recurrent_regularizer=keras.regularizers.L1(0.01),
        activity_regularizer="l1",
        kernel_constraint="non_neg",
        recurrent_constraint=keras.constraints.MaxNorm(2.0),
        dropout=0.1,
        recurrent_dropout=0.2,
        seed=3,
        return_sequences=True,
        return_state=True,
        go_backwards=True,
        unroll=True,
        zero_output_for_mask=True,
        trainable=False,
    ),
    "stateful": dict(stateful=True, dropout=0.3, seed=5),
    "float64": dict(dtype="float64"),
    "mixed": dict(dtype="mixed_float16", bias_regularizer="l2", bias_constraint="non_neg"),
}
EXTRA = {
    "LSTM": {
        "no_unit_forget_bias": dict(unit_forget_bias=False, bias_initializer="ones"),
        "implementation_1": dict(implementation=1, recurrent_activation="hard_sigmoid"),
        "use_cudnn_false": dict(use_cudnn=False),
    },
    "GRU": {
        "reset_before": dict(reset_after=False, implementation=1),
        "use_cudnn_false": dict(use_cudnn=False, recurrent_activation="hard_sigmoid"),
    },
    "SimpleRNN": {"tanh_and_bias": dict(activation="tanh", bias_initializer="ones")},
}
CASES = [
    (name, config, options)
    for name in ("LSTM", "GRU", "SimpleRNN")
    for config, options in {**COMMON, **EXTRA[name]}.items()
]
CASE_NAMES = [f"{name}-{config}" for name, config, _ in CASES]
# The seed generators are numbered in creation order, across the whole process.
GLOBAL_COUNTER = re.compile(r"seed_generator(_\d+)?")


def jax_x64():
    if keras.backend.backend() != "jax":
        return False
    import jax

    return bool(jax.config.jax_enable_x64)


def public_attributes(obj):
    """{name: value or ("raises", exception type name)} for every public attribute."""
    found = {}
    for name in dir(obj):
        if name.startswith("_"):
            continue
        try:
            found[name] = getattr(obj, name)
        except Exception as error:  # a property that needs a call first, e.g. `output`
            found[name] = ("raises", type(error).__name__)
    return found


def comparable(value, depth=0):
    """A value both layers can be compared on (`==`)."""
    if inspect.ismethod(value):
        return "method"
    if isinstance(value, keras.Variable):
        return (
            GLOBAL_COUNTER.sub("seed_generator", value.path),
            tuple(value.shape),
            value.dtype,
            value.trainable,
            # Rounded: two loops over time may round the carried state apart.
            np.round(ops.convert_to_numpy(value).astype("float64"), 5).tolist(),
        )
    if isinstance(value, keras.layers.Layer):
        if depth > 0:
            return type(value).__name__
        return {
            name: comparable(item, depth + 1) for name, item in public_attributes(value).items()
        }
    if isinstance(value, keras.random.SeedGenerator):
        return comparable(value.state, depth)
    if isinstance(value, keras.DTypePolicy):
        return value.name
    if isinstance(value, keras.layers.InputSpec):
        return value.get_config()
    if isinstance(value, (keras.initializers.Initializer, keras.regularizers.Regularizer)):
        return keras.saving.serialize_keras_object(value)
    if isinstance(value, keras.constraints.Constraint):
        return keras.saving.serialize_keras_object(value)
    if inspect.isfunction(value):  # an activation, or a wrapped method such as `build`
        if getattr(value, "__module__", "").startswith("keras.src.activations"):
            return keras.activations.serialize(value)
        return "function"
    if isinstance(value, (list, tuple)):
        return [comparable(item, depth) for item in value]
    if isinstance(value, dict):
        return {key: comparable(item, depth) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return type(value).__name__  # e.g. a Tracker: there, and of the same kind


# Differences by design, with the reason.
DIFFERENT = {
    # CarriedState (lstmkit/layers.py), point 3: a stateful layer lists its carried
    # state among its variables, so that JAX's trainer carries it through `fit`.
    "variables": "stateful",
    "non_trainable_variables": "stateful",
}


def assert_same_public_attributes(ours, theirs):
    mine, keras_ones = public_attributes(ours), public_attributes(theirs)
    missing = sorted(set(keras_ones) - set(mine))
    assert not missing, f"{type(ours).__name__} lacks {missing}"
    for name, value in keras_ones.items():
        if DIFFERENT.get(name) == "stateful" and getattr(theirs, "stateful", False):
            states = [comparable(state) for state in theirs.states or []]
            assert comparable(mine[name]) == comparable(value) + states, name
            continue
        expected, got = comparable(value), comparable(mine[name])
        if isinstance(expected, dict) and isinstance(got, dict) and name == "cell":
            lacking = sorted(set(expected) - set(got))
            assert not lacking, f"the cell lacks {lacking}"
            got = {key: got[key] for key in expected}
        assert got == expected, f"`{name}`: lstmkit {got!r:.300} != Keras {expected!r:.300}"


@pytest.mark.parametrize(
    "layer_name, config, options", CASES, ids=[f"{n}-{c}" for n, c, _ in CASES]
)
def test_public_attributes_equal_keras(layer_name, config, options):
    if layer_name == "SimpleRNN" and config == "float64" and jax_x64():
        pytest.skip(
            "Keras 3.15's own SimpleRNN(dtype='float64') fails under JAX_ENABLE_X64: "
            "`ops.tanh` returns float32 there, and the scan's carry changes dtype"
        )
    ours_class, keras_class = getattr(lstmkit, layer_name), getattr(keras.layers, layer_name)
    keras.utils.set_random_seed(0)  # the same unseeded initializers and dropout seeds
    ours = ours_class(UNITS, name="twin", **options)
    keras.utils.set_random_seed(0)
    theirs = keras_class(UNITS, name="twin", **options)
    assert_same_public_attributes(ours, theirs)
    x = np.random.default_rng(0).normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    ours(x)
    theirs(x)
    ours.set_weights(theirs.get_weights())
    assert_same_public_attributes(ours, theirs)


def test_unit_forget_bias_is_a_layer_property():
    """It raised AttributeError: the property existed on the cell only."""
    assert lstmkit.LSTM(4, unit_forget_bias=False).unit_forget_bias is False
    assert lstmkit.LSTM(4).unit_forget_bias is True


SUITE = pathlib.Path(__file__).with_name("keras_rnn_suite.py")


def test_keras_rnn_test_files_pass_with_lstmkit_substituted(tmp_path):
    """Keras's lstm, gru, simple_rnn, bidirectional and stacked_rnn_cells tests, run with
    lstmkit's LSTM, LSTMCell, GRU and SimpleRNN in place of Keras's: each passes or is
    skipped by Keras itself, except the fused cuDNN ones listed in the suite's EXCLUDED.

    In a child process: the suite replaces `keras.layers.LSTM` and the others there.
    """
    results = tmp_path / "suite.json"
    command = [sys.executable, str(SUITE), "--backends", keras.backend.backend()]
    child = subprocess.run(
        [*command, "--json", str(results)], capture_output=True, text=True, timeout=900
    )
    assert child.returncode == 0, child.stdout[-6000:] + child.stderr[-3000:]
    (run,) = json.loads(results.read_text())
    assert all(run["made"].values()), f"a class was not substituted: {run['made']}"
    outcomes = [outcome for outcome, _ in run["results"].values()]
    assert outcomes.count("passed") >= 37, child.stdout  # 38 on TensorFlow, 37 elsewhere
