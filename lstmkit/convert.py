"""Copy weights between PyTorch's `nn.LSTM` / `nn.GRU` and Keras layers, both directions.

LSTM. Both frameworks order the gates [i | f | c | o] (PyTorch calls the candidate
`g`), so the conversion is a transpose and a bias sum:

    PyTorch nn.LSTM, layer k             Keras LSTM
    weight_ih_lk  (4 * hidden, input)    kernel            (input, 4 * units)   = weight_ih.T
    weight_hh_lk  (4 * hidden, hidden)   recurrent_kernel  (units, 4 * units)   = weight_hh.T
    bias_ih_lk + bias_hh_lk (4 * hidden) bias              (4 * units,)

PyTorch adds two biases where Keras has one; going back, the whole bias goes to
`bias_ih` and `bias_hh` is set to zero (the sum, which is all the math sees, is equal).

GRU. Keras orders the blocks [z | r | h] (update, reset, candidate), PyTorch
[r | z | n], so the first two blocks swap places. PyTorch's GRU is Keras's
`reset_after=True` form, the reset gate multiplying the recurrent projection *with*
its bias, r * (W_hn h + b_hn); so the two biases stay apart, as the two rows of
Keras's bias:

    PyTorch nn.GRU, layer k              Keras GRU(reset_after=True)
    weight_ih_lk  (3 * hidden, input)    kernel            (input, 3 * units)   [r|z|n] -> [z|r|h]
    weight_hh_lk  (3 * hidden, hidden)   recurrent_kernel  (units, 3 * units)   [r|z|n] -> [z|r|h]
    bias_ih_lk    (3 * hidden,)          bias[0]           input bias           [r|z|n] -> [z|r|h]
    bias_hh_lk    (3 * hidden,)          bias[1]           recurrent bias       [r|z|n] -> [z|r|h]

A Keras `GRU(reset_after=False)` applies the reset gate before the recurrent
projection; PyTorch has no such GRU, and it is refused.

A PyTorch module with `num_layers=L` matches a list of L Keras layers, each an LSTM
(lstmkit's or Keras's) or a `keras.layers.GRU`, or, for `bidirectional=True`, a
`keras.layers.Bidirectional` around one. `batch_first` and `dropout` do not touch
the weights. PyTorch's forward math is fixed (tanh and sigmoid, reading forward), so
Keras layers with another `activation` or `recurrent_activation`, or with
`go_backwards=True` outside `Bidirectional`, are refused. Weights of any float
dtype are carried through float64, so a float64, float16 or bfloat16 module is
converted with one rounding at most, to the receiving side's dtype.
"""

import keras
import numpy as np

from lstmkit.layers import LSTMCell as _LstmkitLSTMCell

_KERAS_LAYERS = {
    "LSTM": "lstmkit.LSTM or keras.layers.LSTM",
    "GRU": "keras.layers.GRU(reset_after=True)",
}


def _torch_kind(torch_module):
    """'LSTM' or 'GRU', the kind of PyTorch recurrent module."""
    import torch

    if isinstance(torch_module, torch.nn.LSTM):
        if torch_module.proj_size:
            raise ValueError(
                f"nn.LSTM with proj_size={torch_module.proj_size} has no Keras equivalent; "
                "expected 0."
            )
        return "LSTM"
    if isinstance(torch_module, torch.nn.GRU):
        return "GRU"
    raise TypeError(
        f"Expected a torch.nn.LSTM or torch.nn.GRU, received {type(torch_module).__name__}."
    )


def _keras_kind(layer):
    """'LSTM', 'GRU' or None, from the cell of a Keras recurrent layer."""
    cell = getattr(layer, "cell", None)
    if isinstance(cell, (keras.layers.LSTMCell, _LstmkitLSTMCell)):
        return "LSTM"
    if isinstance(cell, keras.layers.GRUCell):
        return "GRU"
    return None


def _same_function(activation, reference):
    """Whether `activation` computes `reference` (a NumPy function) on [-8, 8]."""
    grid = np.linspace(-8.0, 8.0, 65).astype("float32")
    try:
        values = keras.ops.convert_to_numpy(activation(keras.ops.convert_to_tensor(grid)))
    except Exception:  # an activation that cannot run on a float vector is not tanh
        return False
    return np.allclose(np.asarray(values, "float64"), reference(grid.astype("float64")), atol=1e-6)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _function_name(function):
    return getattr(function, "__name__", repr(function))


def _check_math(direction, kind, go_backwards):
    """Refuses a Keras layer whose forward math is not PyTorch's."""
    name = direction.name
    cell = direction.cell
    if kind == "GRU" and not cell.reset_after:
        raise ValueError(
            f"Keras layer {name!r} is a GRU with reset_after=False, which applies the reset "
            "gate before the recurrent projection; nn.GRU applies it after (reset_after=True) "
            "and PyTorch has no reset_after=False GRU. Use keras.layers.GRU(reset_after=True)."
        )
    for argument, function, reference, expected in [
        ("activation", cell.activation, np.tanh, "tanh"),
        ("recurrent_activation", cell.recurrent_activation, _sigmoid, "sigmoid"),
    ]:
        if not _same_function(function, reference):
            raise ValueError(
                f"Keras layer {name!r} has {argument}={_function_name(function)}, but "
                f"nn.{kind} always computes {expected} there, so the converted model would "
                f"compute something else. Use {argument}={expected!r}."
            )
    if direction.go_backwards != go_backwards:
        if go_backwards:  # the backward half of a Bidirectional reading forward
            raise ValueError(
                f"Keras layer {name!r} is the backward half of a Bidirectional but has "
                f"go_backwards=False; nn.{kind}'s reverse direction reads from the end."
            )
        raise ValueError(
            f"Keras layer {name!r} has go_backwards=True, but nn.{kind} reads forward "
            f"(its reverse direction exists only with bidirectional=True). Use "
            "go_backwards=False, or keras.layers.Bidirectional with bidirectional=True."
        )


def _directions(keras_layer, bidirectional, kind):
    """The recurrent layers inside `keras_layer`, forward first."""
    if isinstance(keras_layer, keras.layers.Bidirectional):
        if not bidirectional:
            raise ValueError(
                f"The PyTorch {kind} is one-directional (bidirectional=False), "
                "but a Keras layer is keras.layers.Bidirectional."
            )
        if keras_layer.merge_mode != "concat":
            # nn.LSTM/nn.GRU concatenate the two directions; with another merge
            # the weights would copy but the layer would compute something else.
            raise ValueError(
                f"Keras layer {keras_layer.name!r} has merge_mode={keras_layer.merge_mode!r}; "
                f"a bidirectional PyTorch {kind} concatenates its directions: use "
                'merge_mode="concat".'
            )
        return [keras_layer.forward_layer, keras_layer.backward_layer]
    if bidirectional:
        raise ValueError(
            f"The PyTorch {kind} is bidirectional, so each Keras layer must be a "
            f"keras.layers.Bidirectional; received {type(keras_layer).__name__}."
        )
    return [keras_layer]


def _check_layers(torch_module, keras_layers):
    """`(kind, keras_layers, directions)`: the kind of module, the layers as a list and,
    per layer, its `[forward, (backward)]` recurrent layers, all checked."""
    kind = _torch_kind(torch_module)
    keras_layers = list(keras_layers) if isinstance(keras_layers, (list, tuple)) else [keras_layers]
    if len(keras_layers) != torch_module.num_layers:
        raise ValueError(
            f"The PyTorch {kind} has num_layers={torch_module.num_layers}, "
            f"but {len(keras_layers)} Keras layers were given."
        )
    per_layer = []
    for layer in keras_layers:
        directions = _directions(layer, torch_module.bidirectional, kind)
        for go_backwards, direction in zip([False, True], directions):
            found = _keras_kind(direction)
            if found != kind:
                raise ValueError(
                    f"The PyTorch module is an nn.{kind}, so Keras layer {direction.name!r} "
                    f"must be {_KERAS_LAYERS[kind]}; received {type(direction).__name__}."
                )
            if not direction.built:
                raise ValueError(
                    f"Keras layer {direction.name!r} is not built yet; call it on an input first."
                )
            _check_math(direction, kind, go_backwards)
            if direction.cell.units != torch_module.hidden_size:
                raise ValueError(
                    f"Keras layer {direction.name!r} has units={direction.cell.units}, "
                    f"the PyTorch {kind} hidden_size={torch_module.hidden_size}."
                )
            if direction.cell.use_bias != torch_module.bias:
                raise ValueError(
                    f"Keras layer {direction.name!r} has use_bias={direction.cell.use_bias}, "
                    f"the PyTorch {kind} bias={torch_module.bias}."
                )
        per_layer.append(directions)
    return kind, keras_layers, per_layer


def _swap_first_two_blocks(array, axis):
    """[a | b | c] -> [b | a | c] along `axis`: GRU gates PyTorch [r|z|n] <-> Keras [z|r|h]."""
    first, second, third = np.split(array, 3, axis=axis)
    return np.concatenate([second, first, third], axis=axis)


def _as_float64(tensor):
    """A PyTorch parameter as float64 NumPy (exact for every float dtype, bfloat16 too)."""
    import torch

    return tensor.detach().to(device="cpu", dtype=torch.float64).numpy()


def _torch_to_keras_arrays(torch_module, kind, layer_index, suffix):
    """{'kernel', 'recurrent_kernel', 'bias'}: one direction of one PyTorch layer in Keras's
    layout, as float64."""

    def get(name):
        return _as_float64(getattr(torch_module, f"{name}_l{layer_index}{suffix}"))

    kernel = get("weight_ih").T  # (input, 4 or 3 * hidden)
    recurrent_kernel = get("weight_hh").T  # (hidden, 4 or 3 * hidden)
    arrays = {"kernel": kernel, "recurrent_kernel": recurrent_kernel}
    if kind == "GRU":
        arrays = {name: _swap_first_two_blocks(a, axis=1) for name, a in arrays.items()}
    if torch_module.bias:
        if kind == "LSTM":
            arrays["bias"] = get("bias_ih") + get("bias_hh")  # (4 * hidden,)
        else:
            biases = [_swap_first_two_blocks(get(n), axis=0) for n in ("bias_ih", "bias_hh")]
            arrays["bias"] = np.stack(biases)  # (2, 3 * hidden): input row, recurrent row
    return arrays


def _keras_to_torch_arrays(cell, kind):
    """{'weight_ih', 'weight_hh', ('bias_ih', 'bias_hh')}: one Keras cell in PyTorch's
    layout, as float64."""

    def get(variable):
        return np.asarray(keras.ops.convert_to_numpy(variable), dtype="float64")

    weight_ih = get(cell.kernel).T  # (4 or 3 * units, input)
    weight_hh = get(cell.recurrent_kernel).T  # (4 or 3 * units, units)
    if kind == "GRU":
        weight_ih = _swap_first_two_blocks(weight_ih, axis=0)
        weight_hh = _swap_first_two_blocks(weight_hh, axis=0)
    arrays = {"weight_ih": weight_ih, "weight_hh": weight_hh}
    if cell.use_bias:
        bias = get(cell.bias)
        if kind == "LSTM":
            arrays["bias_ih"], arrays["bias_hh"] = bias, np.zeros_like(bias)
        else:
            arrays["bias_ih"] = _swap_first_two_blocks(bias[0], axis=0)
            arrays["bias_hh"] = _swap_first_two_blocks(bias[1], axis=0)
    return arrays


def _suffixes(torch_module):
    return ["", "_reverse"] if torch_module.bidirectional else [""]


def torch_to_keras(torch_module, keras_layers):
    """Copies the weights of a PyTorch `nn.LSTM` or `nn.GRU` into built Keras layers.

    Everything is checked before anything is written: on an error the Keras layers
    are unchanged.

    Args:
        torch_module: A `torch.nn.LSTM` or `torch.nn.GRU` (any `num_layers`,
            `bidirectional`, `bias`; any float dtype and device).
        keras_layers: One Keras layer per PyTorch layer (a single layer is
            accepted for `num_layers=1`): for an `nn.LSTM`, `lstmkit.LSTM` or
            `keras.layers.LSTM`; for an `nn.GRU`, `keras.layers.GRU` with
            `reset_after=True`; for `bidirectional=True`, a
            `keras.layers.Bidirectional` around one. Each with tanh and sigmoid
            activations and `go_backwards=False`.

    Returns:
        The list of Keras layers, now holding the PyTorch weights.

    Raises:
        ValueError: when the Keras layers cannot compute what the PyTorch module
            computes (kind, number, direction, units, bias, shapes, activations,
            `go_backwards`, `reset_after=False`), naming the layer and argument.
    """
    kind, keras_layers, per_layer = _check_layers(torch_module, keras_layers)
    writes = []
    for layer_index, directions in enumerate(per_layer):
        for direction, suffix in zip(directions, _suffixes(torch_module)):
            arrays = _torch_to_keras_arrays(torch_module, kind, layer_index, suffix)
            for name, value in arrays.items():
                variable = getattr(direction.cell, name)
                if tuple(variable.shape) != value.shape:
                    raise ValueError(
                        f"Keras layer {direction.name!r} has {name} shape "
                        f"{tuple(variable.shape)}, PyTorch layer {layer_index} gives "
                        f"{value.shape}."
                    )
                writes.append((variable, value))
    for variable, value in writes:
        variable.assign(value)  # cast once, to the variable's dtype
    return keras_layers


def keras_to_torch(keras_layers, torch_module):
    """Copies the weights of built Keras layers into a PyTorch `nn.LSTM` or `nn.GRU`.

    For an LSTM the Keras bias goes to `bias_ih` and `bias_hh` becomes zero; a GRU's
    two bias rows go to `bias_ih` and `bias_hh`. Values are rounded once, to the
    module's dtype. Everything is checked before anything is written.

    Args:
        keras_layers: As for `torch_to_keras`.
        torch_module: The `torch.nn.LSTM` or `torch.nn.GRU` to write into.

    Returns:
        `torch_module`.

    Raises:
        ValueError: as for `torch_to_keras`.
    """
    import torch

    kind, keras_layers, per_layer = _check_layers(torch_module, keras_layers)
    writes = []
    for layer_index, directions in enumerate(per_layer):
        for direction, suffix in zip(directions, _suffixes(torch_module)):
            for name, value in _keras_to_torch_arrays(direction.cell, kind).items():
                parameter = getattr(torch_module, f"{name}_l{layer_index}{suffix}")
                if tuple(parameter.shape) != value.shape:
                    raise ValueError(
                        f"PyTorch layer {layer_index} has {name} shape "
                        f"{tuple(parameter.shape)}, Keras layer {direction.name!r} gives "
                        f"{value.shape}."
                    )
                writes.append((parameter, value))
    with torch.no_grad():
        for parameter, value in writes:
            parameter.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return torch_module
