"""lstmkit.convert: PyTorch nn.LSTM <-> Keras LSTM layers, both ways (on every backend)."""

import keras
import numpy as np
import pytest
import torch
from keras import ops

from lstmkit import convert
from lstmkit.layers import LSTM

FEATURES, HIDDEN, TIME, BATCH = 3, 5, 6, 2


def keras_stack(layer_class, num_layers, bidirectional, bias=True):
    """Keras layers equivalent to nn.LSTM(num_layers, bidirectional), built on an input."""
    inp = keras.Input((TIME, FEATURES))
    x, layers = inp, []
    for _ in range(num_layers):
        layer = layer_class(HIDDEN, return_sequences=True, use_bias=bias)
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, merge_mode="concat")
        layers.append(layer)
        x = layer(x)
    return keras.Model(inp, x), layers


def torch_outputs(torch_lstm, x):
    with torch.no_grad():
        outputs, _ = torch_lstm(torch.from_numpy(x))
    return outputs.numpy()


def seeded_torch_lstm(seed, num_layers, bidirectional, bias):
    torch.manual_seed(seed)
    return torch.nn.LSTM(
        FEATURES,
        HIDDEN,
        num_layers=num_layers,
        bidirectional=bidirectional,
        bias=bias,
        batch_first=True,
    )


@pytest.mark.parametrize("layer_class", [LSTM, keras.layers.LSTM], ids=["lstmkit", "keras"])
@pytest.mark.parametrize(
    "num_layers, bidirectional, bias",
    [(1, False, True), (2, False, True), (1, True, True), (2, True, True), (1, False, False)],
)
def test_torch_to_keras_and_back(layer_class, num_layers, bidirectional, bias):
    torch_lstm = seeded_torch_lstm(0, num_layers, bidirectional, bias)
    x = np.random.default_rng(0).normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    model, layers = keras_stack(layer_class, num_layers, bidirectional, bias)

    convert.torch_to_keras(torch_lstm, layers)
    expected = torch_outputs(torch_lstm, x)
    np.testing.assert_allclose(ops.convert_to_numpy(model(x)), expected, atol=1e-5)

    # Back: a fresh nn.LSTM filled from Keras gives the same outputs again.
    fresh = seeded_torch_lstm(1, num_layers, bidirectional, bias)
    assert not np.allclose(torch_outputs(fresh, x), expected)
    convert.keras_to_torch(layers, fresh)
    np.testing.assert_allclose(torch_outputs(fresh, x), expected, atol=1e-5)
    if bias:
        assert float(fresh.bias_hh_l0.detach().abs().sum()) == 0.0


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
