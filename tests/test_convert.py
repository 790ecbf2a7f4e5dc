"""lstmkit.convert: PyTorch nn.LSTM / nn.GRU <-> Keras layers, both ways (on every backend)."""

import keras
import numpy as np
import pytest
import torch
from keras import ops

from lstmkit import convert
from lstmkit.layers import LSTM

FEATURES, HIDDEN, TIME, BATCH = 3, 5, 6, 2

LAYER_CLASSES = {"lstmkit": LSTM, "keras-lstm": keras.layers.LSTM, "keras-gru": keras.layers.GRU}
TORCH_CLASSES = {
    LSTM: torch.nn.LSTM,
    keras.layers.LSTM: torch.nn.LSTM,
    keras.layers.GRU: torch.nn.GRU,
}


def keras_stack(layer_class, num_layers, bidirectional, bias=True, **kwargs):
    """Keras layers equivalent to nn.LSTM/GRU(num_layers, bidirectional), built on an input."""
    inp = keras.Input((TIME, FEATURES))
    x, layers = inp, []
    for _ in range(num_layers):
        layer = layer_class(HIDDEN, return_sequences=True, use_bias=bias, **kwargs)
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, merge_mode="concat")
        layers.append(layer)
        x = layer(x)
    return keras.Model(inp, x), layers


def torch_outputs(torch_module, x):
    with torch.no_grad():
        outputs, _ = torch_module(torch.from_numpy(x))
    return outputs.numpy()


def seeded_torch_module(torch_class, seed, num_layers=1, bidirectional=False, bias=True):
    torch.manual_seed(seed)
    module = torch_class(
        FEATURES,
        HIDDEN,
        num_layers=num_layers,
        bidirectional=bidirectional,
        bias=bias,
        batch_first=True,
    )
    if bias:  # PyTorch starts both biases uniform; make them distinct and large
        with torch.no_grad():
            for name, parameter in module.named_parameters():
                if name.startswith("bias"):
                    parameter.uniform_(-1.0, 1.0)
    return module


def random_input(dtype="float32"):
    return np.random.default_rng(0).normal(size=(BATCH, TIME, FEATURES)).astype(dtype)


@pytest.mark.parametrize("layer_class", LAYER_CLASSES.values(), ids=LAYER_CLASSES.keys())
@pytest.mark.parametrize(
    "num_layers, bidirectional, bias",
    [(1, False, True), (2, False, True), (1, True, True), (2, True, True), (1, False, False)],
)
def test_torch_to_keras_and_back(layer_class, num_layers, bidirectional, bias):
    torch_class = TORCH_CLASSES[layer_class]
    torch_module = seeded_torch_module(torch_class, 0, num_layers, bidirectional, bias)
    x = random_input()
    model, layers = keras_stack(layer_class, num_layers, bidirectional, bias)

    assert convert.torch_to_keras(torch_module, layers) == layers
    expected = torch_outputs(torch_module, x)
    np.testing.assert_allclose(ops.convert_to_numpy(model(x)), expected, atol=1e-5)

    # Back: a fresh module filled from Keras gives the same outputs again.
    fresh = seeded_torch_module(torch_class, 1, num_layers, bidirectional, bias)
    assert not np.allclose(torch_outputs(fresh, x), expected)
    assert convert.keras_to_torch(layers, fresh) is fresh
    np.testing.assert_allclose(torch_outputs(fresh, x), expected, atol=1e-5)
    if bias and torch_class is torch.nn.LSTM:  # one Keras bias: all of it in bias_ih
        assert float(fresh.bias_hh_l0.detach().abs().sum()) == 0.0
    if torch_class is torch.nn.GRU:  # every GRU parameter has a place in Keras: exact round trip
        for name, parameter in torch_module.named_parameters():
            np.testing.assert_array_equal(
                getattr(fresh, name).detach().numpy(), parameter.detach().numpy(), err_msg=name
            )


def test_gru_gate_blocks_and_bias_rows():
    """Keras [z | r | h] with bias rows (input, recurrent); PyTorch [r | z | n], two biases."""
    gru = seeded_torch_module(torch.nn.GRU, 2)
    _, (layer,) = keras_stack(keras.layers.GRU, 1, False)
    convert.torch_to_keras(gru, layer)
    blocks = {"r": slice(0, HIDDEN), "z": slice(HIDDEN, 2 * HIDDEN), "n": slice(2 * HIDDEN, None)}
    kernel = ops.convert_to_numpy(layer.cell.kernel)
    recurrent_kernel = ops.convert_to_numpy(layer.cell.recurrent_kernel)
    bias = ops.convert_to_numpy(layer.cell.bias)
    assert bias.shape == (2, 3 * HIDDEN)
    for keras_block, torch_gate in enumerate("zrn"):  # Keras's h is PyTorch's n
        keras_slice = slice(keras_block * HIDDEN, (keras_block + 1) * HIDDEN)
        torch_slice = blocks[torch_gate]
        for keras_array, torch_array in [
            (kernel[:, keras_slice], gru.weight_ih_l0[torch_slice].T),
            (recurrent_kernel[:, keras_slice], gru.weight_hh_l0[torch_slice].T),
            (bias[0, keras_slice], gru.bias_ih_l0[torch_slice]),
            (bias[1, keras_slice], gru.bias_hh_l0[torch_slice]),
        ]:
            np.testing.assert_array_equal(keras_array, torch_array.detach().numpy())


def test_mismatches_are_named():
    torch_lstm = torch.nn.LSTM(FEATURES, HIDDEN, num_layers=2, batch_first=True)
    _, one_layer = keras_stack(LSTM, 1, False)
    with pytest.raises(ValueError, match="num_layers=2, but 1 Keras layers"):
        convert.torch_to_keras(torch_lstm, one_layer)
    _, bi = keras_stack(LSTM, 1, True)
    with pytest.raises(ValueError, match="one-directional"):
        convert.torch_to_keras(torch.nn.LSTM(FEATURES, HIDDEN, batch_first=True), bi)
    with pytest.raises(ValueError, match="units=7, the PyTorch LSTM hidden_size=5"):
        layer = LSTM(7)
        layer(np.zeros((1, TIME, FEATURES), "float32"))
        convert.torch_to_keras(torch.nn.LSTM(FEATURES, HIDDEN), layer)
    with pytest.raises(ValueError, match="not built yet"):
        convert.torch_to_keras(torch.nn.LSTM(FEATURES, HIDDEN), LSTM(HIDDEN))
    with pytest.raises(ValueError, match="kernel shape"):
        layer = LSTM(HIDDEN)
        layer(np.zeros((1, TIME, FEATURES + 1), "float32"))
        convert.torch_to_keras(torch.nn.LSTM(FEATURES, HIDDEN), layer)


def test_gru_mismatches_are_named():
    gru = torch.nn.GRU(FEATURES, HIDDEN, batch_first=True)
    _, (no_bias,) = keras_stack(keras.layers.GRU, 1, False, bias=False)
    _, (wide,) = keras_stack(keras.layers.GRU, 1, False)
    wide_gru = torch.nn.GRU(FEATURES + 1, HIDDEN)
    _, bi = keras_stack(keras.layers.GRU, 1, True)
    _, two = keras_stack(keras.layers.GRU, 2, False)
    cases = [
        (gru, no_bias, "use_bias=False, the PyTorch GRU bias=True"),
        (torch.nn.GRU(FEATURES, HIDDEN + 1), wide, "units=5, the PyTorch GRU hidden_size=6"),
        (wide_gru, wide, "kernel shape \\(3, 15\\), PyTorch layer 0 gives \\(4, 15\\)"),
        (gru, bi, "GRU is one-directional"),
        (torch.nn.GRU(FEATURES, HIDDEN, bidirectional=True), wide, "must be a .*Bidirectional"),
        (gru, two, "GRU has num_layers=1, but 2 Keras layers"),
    ]
    for torch_module, layers, message in cases:
        with pytest.raises(ValueError, match=message):
            convert.torch_to_keras(torch_module, layers)
    # keras_to_torch names the PyTorch side's shape.
    with pytest.raises(ValueError, match="PyTorch layer 0 has weight_ih shape \\(15, 4\\)"):
        convert.keras_to_torch(wide, wide_gru)


def test_lstm_gru_mixups_are_refused_both_ways():
    _, (lstm_layer,) = keras_stack(LSTM, 1, False)
    _, (gru_layer,) = keras_stack(keras.layers.GRU, 1, False)
    lstm = torch.nn.LSTM(FEATURES, HIDDEN)
    gru = torch.nn.GRU(FEATURES, HIDDEN)
    for torch_module, layer, message in [
        (gru, lstm_layer, "nn.GRU, so Keras layer .* must be keras.layers.GRU.*received LSTM\\."),
        (lstm, gru_layer, "nn.LSTM, so Keras layer .* must be lstmkit.LSTM.*received GRU\\."),
        (lstm, keras.layers.Dense(3), "must be lstmkit.LSTM .*received Dense\\."),
    ]:
        with pytest.raises(ValueError, match=message):
            convert.torch_to_keras(torch_module, layer)
        with pytest.raises(ValueError, match=message):
            convert.keras_to_torch(layer, torch_module)
    with pytest.raises(TypeError, match="torch.nn.LSTM or torch.nn.GRU, received RNN"):
        convert.torch_to_keras(torch.nn.RNN(FEATURES, HIDDEN), lstm_layer)


def test_reset_after_false_gru_is_refused():
    _, (layer,) = keras_stack(keras.layers.GRU, 1, False, reset_after=False)
    gru = torch.nn.GRU(FEATURES, HIDDEN)
    with pytest.raises(ValueError, match="reset_after=False.*PyTorch has no reset_after=False"):
        convert.torch_to_keras(gru, layer)
    with pytest.raises(ValueError, match="reset_after=False"):
        convert.keras_to_torch(layer, gru)


@pytest.mark.parametrize("layer_class", LAYER_CLASSES.values(), ids=LAYER_CLASSES.keys())
@pytest.mark.parametrize(
    "argument, value, message",
    [
        ("activation", "relu", "has activation=relu, but nn.(LSTM|GRU) always computes tanh"),
        ("activation", "sigmoid", "has activation=sigmoid, but .* computes tanh"),
        (
            "recurrent_activation",
            "hard_sigmoid",
            "has recurrent_activation=hard_sigmoid, but .* computes sigmoid",
        ),
        ("go_backwards", True, "has go_backwards=True, but nn.(LSTM|GRU) reads forward"),
    ],
)
def test_keras_math_that_pytorch_cannot_compute_is_refused(layer_class, argument, value, message):
    """nn.LSTM / nn.GRU compute tanh and sigmoid, reading forward: anything else is refused
    (before, `activation="relu"` converted silently and gave outputs 0.49 off)."""
    torch_module = seeded_torch_module(TORCH_CLASSES[layer_class], 0)
    _, (layer,) = keras_stack(layer_class, 1, False, **{argument: value})
    with pytest.raises(ValueError, match=f"Keras layer '{layer.name}' {message}"):
        convert.torch_to_keras(torch_module, layer)
    with pytest.raises(ValueError, match=message):
        convert.keras_to_torch(layer, torch_module)


def test_activation_given_as_a_function_is_accepted():
    """The check is on what the activation computes, not on how it was named."""
    lstm = seeded_torch_module(torch.nn.LSTM, 0)
    model, (layer,) = keras_stack(
        keras.layers.LSTM, 1, False, activation=ops.tanh, recurrent_activation=ops.sigmoid
    )
    convert.torch_to_keras(lstm, layer)
    x = random_input()
    np.testing.assert_allclose(ops.convert_to_numpy(model(x)), torch_outputs(lstm, x), atol=1e-5)


def test_bidirectional_around_a_backward_layer_is_refused():
    inp = keras.Input((TIME, FEATURES))
    layer = keras.layers.Bidirectional(  # the two halves swapped
        keras.layers.GRU(HIDDEN, go_backwards=True), backward_layer=keras.layers.GRU(HIDDEN)
    )
    layer(inp)
    gru = torch.nn.GRU(FEATURES, HIDDEN, bidirectional=True)
    with pytest.raises(ValueError, match="go_backwards=True, but nn.GRU reads forward"):
        convert.torch_to_keras(gru, layer)


@pytest.mark.parametrize("merge_mode", ["sum", "ave", "mul", None])
def test_bidirectional_that_does_not_concatenate_is_refused(merge_mode):
    layer = keras.layers.Bidirectional(LSTM(HIDDEN, return_sequences=True), merge_mode=merge_mode)
    layer(keras.Input((TIME, FEATURES)))
    lstm = torch.nn.LSTM(FEATURES, HIDDEN, bidirectional=True)
    with pytest.raises(ValueError, match="concatenates its directions"):
        convert.torch_to_keras(lstm, layer)
    with pytest.raises(ValueError, match="concatenates its directions"):
        convert.keras_to_torch(layer, lstm)


@pytest.mark.parametrize("torch_class", [torch.nn.LSTM, torch.nn.GRU], ids=["lstm", "gru"])
@pytest.mark.parametrize(
    "dtype, atol",
    [(torch.float64, 1e-5), (torch.float16, 1e-5), (torch.bfloat16, 1e-5)],
    ids=["float64", "float16", "bfloat16"],
)
def test_non_float32_torch_modules_to_keras(torch_class, dtype, atol):
    """Torch weights of any float dtype reach a float32 Keras layer rounded at most once:
    Keras computes what the module's weights, in float64, compute."""
    layer_class = keras.layers.GRU if torch_class is torch.nn.GRU else LSTM
    module = seeded_torch_module(torch_class, 3, num_layers=2).to(dtype)
    model, layers = keras_stack(layer_class, 2, False)
    convert.torch_to_keras(module, layers)
    x = random_input("float64")
    reference = torch_outputs(module.to(torch.float64), x)  # the same weights, exactly
    np.testing.assert_allclose(
        ops.convert_to_numpy(model(x.astype("float32"))), reference, atol=atol
    )


@pytest.mark.parametrize("torch_class", [torch.nn.LSTM, torch.nn.GRU], ids=["lstm", "gru"])
@pytest.mark.parametrize(
    "dtype, atol",
    [(torch.float64, 1e-5), (torch.float16, 5e-3), (torch.bfloat16, 3e-2)],
    ids=["float64", "float16", "bfloat16"],
)
def test_keras_to_non_float32_torch_modules(torch_class, dtype, atol):
    """Keras float32 weights land in a float64/float16/bfloat16 module rounded once, to the
    nearest value of that dtype; the module then computes the same outputs within what its
    dtype can resolve."""
    layer_class = keras.layers.GRU if torch_class is torch.nn.GRU else LSTM
    model, layers = keras_stack(layer_class, 2, False)
    module = seeded_torch_module(torch_class, 4, num_layers=2).to(dtype)
    convert.keras_to_torch(layers, module)

    twin = seeded_torch_module(torch_class, 5, num_layers=2)  # float32, converted the same way
    convert.keras_to_torch(layers, twin)
    for name, parameter in twin.named_parameters():
        np.testing.assert_array_equal(  # one rounding, float32 -> dtype
            getattr(module, name).detach().to(torch.float64).numpy(),
            parameter.detach().to(dtype).to(torch.float64).numpy(),
            err_msg=name,
        )
    x = random_input()
    with torch.no_grad():
        outputs, _ = module(torch.from_numpy(x).to(dtype))
    np.testing.assert_allclose(
        outputs.to(torch.float64).numpy(), ops.convert_to_numpy(model(x)), atol=atol
    )
