"""Bad input gives a ValueError or TypeError that names the problem, expected and received."""

import keras
import numpy as np
import pytest

from lstmkit.layers import LSTM

x = np.zeros((2, 5, 3), "float32")


def built(**options):
    layer = LSTM(4, **options)
    layer(x)
    return layer


@pytest.mark.parametrize("units", [0, -3, 2.5, "8", None, True])
def test_units_must_be_positive_integer(units):
    with pytest.raises(ValueError, match=r"`units` must be a positive integer, received"):
        LSTM(units)


@pytest.mark.parametrize("shape", [(2, 3), (2, 5, 3, 1), (5,)])
def test_input_must_be_3d(shape):
    with pytest.raises(
        ValueError, match=r"expects 3-D input \(batch, time, features\), received shape"
    ):
        LSTM(4)(np.zeros(shape, "float32"))


def test_feature_size_must_match_the_built_one():
    layer = built()
    with pytest.raises(ValueError, match=r"built for 3 features, received input with 2"):
        layer(np.zeros((2, 5, 2), "float32"))


@pytest.mark.parametrize(
    "states, message",
    [
        ([np.zeros((2, 4), "float32")], r"\[h, c\] \(2 tensors\), received 1"),
        ([np.zeros((2, 4), "float32")] * 3, r"\[h, c\] \(2 tensors\), received 3"),
        (
            [np.zeros((2, 5), "float32"), np.zeros((2, 4), "float32")],
            r"`h` of shape \(2, 4\), received \(2, 5\)",
        ),
        (
            [np.zeros((2, 4), "float32"), np.zeros((3, 4), "float32")],
            r"`c` of shape \(2, 4\), received \(3, 4\)",
        ),
        (
            [np.zeros((2, 4, 1), "float32"), np.zeros((2, 4), "float32")],
            r"`h` of shape \(2, 4\), received \(2, 4, 1\)",
        ),
    ],
)
def test_initial_state_number_and_shape(states, message):
    layer = built()
    with pytest.raises(ValueError, match=message):
        layer(x, initial_state=states)


@pytest.mark.parametrize("mask_shape", [(2,), (2, 4), (3, 5), (2, 5, 1)])
def test_mask_must_be_batch_by_time(mask_shape):
    layer = built()
    with pytest.raises(ValueError, match=r"mask of shape \(batch, time\) = \(2, 5\), received"):
        layer(x, mask=np.ones(mask_shape, bool))


@pytest.mark.parametrize("argument", ["activation", "recurrent_activation"])
def test_unknown_activation(argument):
    with pytest.raises(
        ValueError,
        match=rf"Unknown activation for argument `{argument}`: expected .* received 'tanhh'",
    ):
        LSTM(4, **{argument: "tanhh"})


def test_stateful_needs_fixed_batch_size():
    with pytest.raises(ValueError, match=r"batch size must be static"):
        keras.Model(*(lambda i: (i, LSTM(4, stateful=True)(i)))(keras.Input((5, 3))))


@pytest.mark.parametrize("value", ["a sentence", 3.0, [[["a"]]], {"x": 1}])
def test_input_must_be_a_tensor(value):
    with pytest.raises(
        TypeError, match=r"expects a tensor or array of shape \(batch, time, features\), received"
    ):
        LSTM(4)(value)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.2"])
def test_dropout_rate_range(rate):
    with pytest.raises(ValueError, match=r"`dropout` must be a number in \[0, 1\), received"):
        LSTM(4, dropout=rate)


def test_use_cudnn_true_is_refused_with_reason():
    # As Keras's LSTM where cuDNN cannot serve it: made, kept (Bidirectional copies it),
    # refused when called.
    layer = LSTM(4, use_cudnn=True)
    assert keras.layers.Bidirectional(layer).forward_layer.use_cudnn is True
    with pytest.raises(ValueError, match=r"use_cudnn=True was specified, but .* never calls"):
        layer(x)
    with pytest.raises(ValueError, match=r"`use_cudnn` must be 'auto', True or False"):
        LSTM(4, use_cudnn="yes")


def test_numpy_numbers_are_accepted_like_python_ones():
    # A sweep over np.arange / np.linspace hands the layer NumPy scalars.
    layer = LSTM(np.int64(4), dropout=np.float32(0.25))
    assert layer.units == 4 and isinstance(layer.units, int)
    assert layer.dropout == 0.25 and isinstance(layer.dropout, float)
    assert layer(x).shape == (2, 4)


def test_sequences_need_a_time_step():
    with pytest.raises(ValueError, match=r"at least one time step"):
        built()(np.zeros((2, 0, 3), "float32"))


def test_sequences_by_keyword_as_keras_takes_them():
    """`layer(sequences=x)` works, as for keras.layers.LSTM (before: a TypeError, missing
    `inputs`)."""
    layer = LSTM(4, return_state=True)
    output, h, c = layer(sequences=x, initial_state=[np.ones((2, 4), "float32")] * 2)
    assert output.shape == h.shape == c.shape == (2, 4)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(output),
        keras.ops.convert_to_numpy(layer(x, initial_state=[np.ones((2, 4), "float32")] * 2)[0]),
    )
    with pytest.raises(TypeError, match=r"expects a tensor or array"):
        layer(sequences=[1, 2])


def test_python_loop_takes_keras_options_and_refuses_others():
    """`_loop_in_python` takes the options of Keras's `backend.rnn` (and ignores `unroll`,
    which a Python loop is already); before, `**_` swallowed a misspelt one silently."""
    from lstmkit.layers import _loop_in_python

    steps = keras.ops.convert_to_tensor(np.ones((4, 2, 3), "float32"))  # (time, batch, features)
    states = [keras.ops.zeros((2, 3))]

    def step(x_t, states):
        h = states[0] + x_t
        return h, [h]

    last, outputs, _ = _loop_in_python(step, steps, states, unroll=True, input_length=4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(last), 4.0)
    with pytest.raises(TypeError, match="go_backward"):
        _loop_in_python(step, steps, states, go_backward=True)
    with pytest.raises(ValueError, match="`input_length` is 5"):
        _loop_in_python(step, steps, states, input_length=5)


def test_shape_checks_are_the_same_in_build_call_and_gate_activations():
    layer = LSTM(4)
    with pytest.raises(ValueError, match=r"expects 3-D input \(batch, time, features\)"):
        layer.build((2, 3))
    with pytest.raises(ValueError, match=r"needs a known feature size"):
        layer.build((2, 3, None))
    layer.build((2, 5, 3))
    with pytest.raises(ValueError, match=r"built for 3 features, received input with 2"):
        layer.gate_activations(np.zeros((2, 5, 2), "float32"))
    with pytest.raises(ValueError, match=r"at least one time step"):
        layer.gate_activations(np.zeros((2, 0, 3), "float32"))
