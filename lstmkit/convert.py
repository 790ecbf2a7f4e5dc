"""Copy weights between PyTorch's `nn.LSTM` and Keras LSTM layers, both directions.

Both frameworks order the gates [i | f | c | o] (PyTorch calls the candidate `g`),
so the conversion is a transpose and a bias sum:

    PyTorch, layer k                     Keras
    weight_ih_lk  (4 * hidden, input)    kernel            (input, 4 * units)   = weight_ih.T
    weight_hh_lk  (4 * hidden, hidden)   recurrent_kernel  (units, 4 * units)   = weight_hh.T
    bias_ih_lk + bias_hh_lk (4 * hidden) bias              (4 * units,)

PyTorch adds two biases where Keras has one; going back, the whole bias goes to
`bias_ih` and `bias_hh` is set to zero (the sum, which is all the math sees, is equal).

A PyTorch `nn.LSTM` with `num_layers=L` matches a list of L Keras layers, each an
LSTM (lstmkit's or Keras's) or, for `bidirectional=True`, a `keras.layers.Bidirectional`
around one. `batch_first` and `dropout` do not touch the weights.
"""

import keras
import numpy as np


def _torch_parameters(torch_lstm, layer_index, suffix):
    """(kernel, recurrent_kernel, bias) of one direction of one PyTorch layer, as NumPy."""

    def get(name):
        return getattr(torch_lstm, f"{name}_l{layer_index}{suffix}").detach().cpu().numpy()

    kernel = get("weight_ih").T  # (input, 4 * hidden)
    recurrent_kernel = get("weight_hh").T  # (hidden, 4 * hidden)
    if torch_lstm.bias:
        bias = get("bias_ih") + get("bias_hh")  # (4 * hidden,)
    else:
        bias = None
    return kernel, recurrent_kernel, bias


def _directions(keras_layer, bidirectional):
    """The LSTM layers inside `keras_layer`, forward first."""
    if isinstance(keras_layer, keras.layers.Bidirectional):
        if not bidirectional:
            raise ValueError(
                "The PyTorch LSTM is one-directional (bidirectional=False), "
                "but a Keras layer is keras.layers.Bidirectional."
            )
        return [keras_layer.forward_layer, keras_layer.backward_layer]
    if bidirectional:
        raise ValueError(
            "The PyTorch LSTM is bidirectional, so each Keras layer must be a "
            f"keras.layers.Bidirectional; received {type(keras_layer).__name__}."
        )
    return [keras_layer]


def _check_layers(torch_lstm, keras_layers):
    if not isinstance(keras_layers, (list, tuple)):
        keras_layers = [keras_layers]
    if getattr(torch_lstm, "proj_size", 0):
        raise ValueError(
            f"nn.LSTM with proj_size={torch_lstm.proj_size} has no Keras equivalent; expected 0."
        )
    if len(keras_layers) != torch_lstm.num_layers:
        raise ValueError(
            f"The PyTorch LSTM has num_layers={torch_lstm.num_layers}, "
            f"but {len(keras_layers)} Keras layers were given."
        )
    for layer in keras_layers:
        for direction in _directions(layer, torch_lstm.bidirectional):
            if not direction.built:
                raise ValueError(
                    f"Keras layer {direction.name!r} is not built yet; call it on an input first."
                )
            if direction.units != torch_lstm.hidden_size:
                raise ValueError(
                    f"Keras layer {direction.name!r} has units={direction.units}, "
                    f"the PyTorch LSTM hidden_size={torch_lstm.hidden_size}."
                )
            if direction.cell.use_bias != torch_lstm.bias:
                raise ValueError(
                    f"Keras layer {direction.name!r} has use_bias={direction.cell.use_bias}, "
                    f"the PyTorch LSTM bias={torch_lstm.bias}."
                )
    return keras_layers


def torch_to_keras(torch_lstm, keras_layers):
    """Copies the weights of a PyTorch `nn.LSTM` into built Keras LSTM layers.

    Args:
        torch_lstm: A `torch.nn.LSTM` (any `num_layers`, `bidirectional`, `bias`).
        keras_layers: One Keras layer per PyTorch layer (a single layer is
            accepted for `num_layers=1`): `lstmkit.LSTM` or `keras.layers.LSTM`,
            or `keras.layers.Bidirectional` around one for `bidirectional=True`.

    Returns:
        The list of Keras layers, now holding the PyTorch weights.
    """
    keras_layers = _check_layers(torch_lstm, keras_layers)
    suffixes = ["", "_reverse"] if torch_lstm.bidirectional else [""]
    for layer_index, layer in enumerate(keras_layers):
        for direction, suffix in zip(_directions(layer, torch_lstm.bidirectional), suffixes):
            kernel, recurrent_kernel, bias = _torch_parameters(torch_lstm, layer_index, suffix)
            expected = tuple(direction.cell.kernel.shape)
            if kernel.shape != expected:
                raise ValueError(
                    f"Keras layer {direction.name!r} has kernel shape {expected}, "
                    f"PyTorch layer {layer_index} gives {kernel.shape}."
                )
            weights = [kernel, recurrent_kernel] + ([bias] if bias is not None else [])
            direction.set_weights(weights)
    return list(keras_layers)


def keras_to_torch(keras_layers, torch_lstm):
    """Copies the weights of built Keras LSTM layers into a PyTorch `nn.LSTM`.

    The Keras bias goes to `bias_ih`; `bias_hh` becomes zero.

    Args:
        keras_layers: As for `torch_to_keras`.
        torch_lstm: The `torch.nn.LSTM` to write into.

    Returns:
        `torch_lstm`.
    """
    import torch

    keras_layers = _check_layers(torch_lstm, keras_layers)
    suffixes = ["", "_reverse"] if torch_lstm.bidirectional else [""]
    with torch.no_grad():
        for layer_index, layer in enumerate(keras_layers):
            for direction, suffix in zip(_directions(layer, torch_lstm.bidirectional), suffixes):
                weights = [np.asarray(w) for w in direction.get_weights()]
                target = getattr(torch_lstm, f"weight_ih_l{layer_index}{suffix}")
                if tuple(target.shape) != weights[0].T.shape:
                    raise ValueError(
                        f"PyTorch layer {layer_index} has weight_ih shape {tuple(target.shape)}, "
                        f"Keras layer {direction.name!r} gives {weights[0].T.shape}."
                    )

                def put(name, value, suffix=suffix, layer_index=layer_index):
                    parameter = getattr(torch_lstm, f"{name}_l{layer_index}{suffix}")
                    parameter.copy_(
                        torch.as_tensor(np.ascontiguousarray(value), dtype=parameter.dtype)
                    )

                put("weight_ih", weights[0].T)
                put("weight_hh", weights[1].T)
                if torch_lstm.bias:
                    put("bias_ih", weights[2])
                    put("bias_hh", np.zeros_like(weights[2]))
    return torch_lstm
