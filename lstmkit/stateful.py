"""Keras's SimpleRNN and GRU with stateful training that works on every backend.

`lstmkit.SimpleRNN` and `lstmkit.GRU` (also reachable as `lstmkit.stateful.NAME`).

`lstmkit.LSTM(stateful=True)` carries its state from batch to batch during `fit` on
TensorFlow, JAX and PyTorch. Keras 3.15's own recurrent layers do not: with
`stateful=True`, `keras.layers.GRU` fails on PyTorch ("modified by an inplace
operation"), and on JAX both `GRU` and `SimpleRNN` train exactly as if they were
stateless. `lstmkit.layers.CarriedState` is the fix lstmkit's LSTM is built on, as
a mixin:

    SimpleRNN    keras.layers.SimpleRNN + CarriedState
    GRU          keras.layers.GRU + CarriedState

Both take exactly Keras's arguments, hold Keras's weights, and compute the same
numbers. One more change, on torch only: SimpleRNN's loop over time (and GRU's, with
a mask, where Keras leaves its native torch GRU) calls the cell's `call` as a plain
function, where Keras calls it through `Layer.__call__` at every step (on eager
torch that bookkeeping costs about twice the step's arithmetic; the adding problem
of notebook 03 trains 2.8x faster per epoch). On TensorFlow and JAX the loop is
traced and Keras's own.

And a float64 layer computes in float64 on every backend, as `lstmkit.LSTM` does.
Keras 3.15's cells do not on two backends: torch's `ops.matmul` returns float32 for
two float64 tensors, and JAX's `ops.tanh` float32 for float64 (with x64 enabled; a
float64 SimpleRNN without a mask then fails there, its scan's carry changing dtype).
There the step is `_float64_step`: the cell's equations, with `ops.einsum` for the
products and tanh(x) = 2 sigmoid(2x) - 1.
"""

import keras
from keras import activations, ops
from keras.src.backend import rnn as _keras_rnn_loop

from lstmkit.layers import CarriedState, _float64_tanh, _loop_in_python, _loop_options


@keras.saving.register_keras_serializable(package="lstmkit")
class SimpleRNN(CarriedState, keras.layers.SimpleRNN):
    """`keras.layers.SimpleRNN` whose `stateful=True` training works on every backend.

    On torch, a stateless layer in full precision also loops over time in plain
    Python (as `lstmkit.LSTM` does), which is cheaper than Keras's loop there.

    Args and call arguments: those of `keras.layers.SimpleRNN`.
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if _float64_step_applies(self):
            return _float64_loop(self, sequences, initial_state, mask, training)
        if _python_loop_applies(self):
            return _cell_loop_in_python(self, sequences, initial_state, mask, training)
        return super().inner_loop(sequences, initial_state, mask, training=training)


@keras.saving.register_keras_serializable(package="lstmkit")
class GRU(CarriedState, keras.layers.GRU):
    """`keras.layers.GRU` whose `stateful=True` training works on every backend.

    On torch, a stateless masked layer in full precision loops over time in plain
    Python, as `SimpleRNN` does: there Keras's GRU leaves its native torch path for
    its own loop, which is slower and fails with `unroll=True, go_backwards=True`
    (it calls `torch.flip` on a tuple). Without a mask, Keras's native path runs.

    Args and call arguments: those of `keras.layers.GRU`.
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if self.use_cudnn is not True and _float64_step_applies(self):
            return _float64_loop(self, sequences, initial_state, mask, training)
        if mask is not None and self.use_cudnn is not True and _python_loop_applies(self):
            return _cell_loop_in_python(self, sequences, initial_state, mask, training)
        return super().inner_loop(sequences, initial_state, mask, training=training)


def _python_loop_applies(layer):
    """Whether `_cell_loop_in_python` serves `layer`: eager torch, stateless, no autocast."""
    plain_float = layer.cell.compute_dtype == layer.cell.variable_dtype
    return keras.backend.backend() == "torch" and not layer.stateful and plain_float


def _float64_step_applies(layer):
    """Whether Keras's cell would compute this float64 layer in float32 (torch, JAX)."""
    return keras.backend.backend() in ("torch", "jax") and layer.cell.compute_dtype == "float64"


def _float64_step(cell, training):
    """The step of a `SimpleRNNCell` or `GRUCell`, the same equations as its `call`,
    with every product an `ops.einsum` and tanh computed as 2 sigmoid(2x) - 1, which keep
    float64 where Keras 3.15's `ops.matmul` (torch) and `ops.tanh` (JAX) do not."""

    def exact(activation):
        return _float64_tanh if activation is activations.tanh else activation

    def matmul(x, weights):
        return ops.einsum("...i,ij->...j", x, weights)  # (batch, out)

    def per_block(x, masks, blocks):
        # x times the dropout mask of each of `blocks` gate blocks: one mask per block
        # (Keras's implementation 1), one for all, or none.
        if masks is None:
            return [x] * blocks
        if isinstance(masks, (list, tuple)):
            return [x * m for m in masks]
        return [x * masks] * blocks

    activation = exact(cell.activation)
    if isinstance(cell, keras.layers.SimpleRNNCell):

        def simple_rnn_step(inputs, states):
            h_prev = states[0]  # (batch, units)
            input_masks = cell.get_dropout_mask(inputs) if training else None
            recurrent_masks = cell.get_recurrent_dropout_mask(h_prev) if training else None
            (inputs,) = per_block(inputs, input_masks, 1)
            (h_dropped,) = per_block(h_prev, recurrent_masks, 1)
            z = matmul(inputs, cell.kernel)  # (batch, units)
            if cell.bias is not None:
                z = z + cell.bias
            h = activation(z + matmul(h_dropped, cell.recurrent_kernel))  # (batch, units)
            return h, [h]

        return simple_rnn_step

    recurrent_activation = exact(cell.recurrent_activation)
    units = cell.units
    kernels = ops.split(cell.kernel, 3, axis=-1)  # [z | r | h], (features, units) each
    recurrent_kernels = ops.split(cell.recurrent_kernel, 3, axis=-1)  # (units, units) each
    input_bias = recurrent_bias = None
    if cell.use_bias and cell.reset_after:  # a bias for x W and one for h U: (2, 3 * units)
        input_bias, recurrent_bias = cell.bias[0], cell.bias[1]
    elif cell.use_bias:  # one bias: (3 * units,)
        input_bias = cell.bias

    def gru_step(inputs, states):
        h_prev = states[0]  # (batch, units)
        dropout = training and 0.0 < cell.dropout < 1.0
        recurrent_dropout = training and 0.0 < cell.recurrent_dropout < 1.0
        xs = per_block(inputs, cell.get_dropout_mask(inputs) if dropout else None, 3)
        hs = per_block(
            h_prev, cell.get_recurrent_dropout_mask(h_prev) if recurrent_dropout else None, 3
        )
        x_z, x_r, x_h = (matmul(x, k) for x, k in zip(xs, kernels))  # (batch, units) each
        if input_bias is not None:
            x_z, x_r, x_h = (
                x + input_bias[k * units : (k + 1) * units] for k, x in enumerate((x_z, x_r, x_h))
            )
        h_z, h_r = (matmul(h, k) for h, k in zip(hs[:2], recurrent_kernels[:2]))
        if recurrent_bias is not None:
            h_z, h_r = h_z + recurrent_bias[:units], h_r + recurrent_bias[units : 2 * units]
        z = recurrent_activation(x_z + h_z)  # update gate
        r = recurrent_activation(x_r + h_r)  # reset gate
        if cell.reset_after:  # the reset gate after the recurrent product
            h_h = matmul(hs[2], recurrent_kernels[2])
            if recurrent_bias is not None:
                h_h = h_h + recurrent_bias[2 * units :]
            h_h = r * h_h
        else:  # before it
            h_h = matmul(r * hs[2], recurrent_kernels[2])
        candidate = activation(x_h + h_h)  # (batch, units)
        h = z * h_prev + (1 - z) * candidate
        return h, [h]

    return gru_step


def _float64_loop(layer, sequences, initial_state, mask, training):
    """`RNN.inner_loop` with `_float64_step`: in Python on torch, Keras's scan on JAX."""
    step = _float64_step(layer.cell, training)
    if keras.backend.backend() == "torch":
        return _cell_loop_in_python(layer, sequences, initial_state, mask, training, step)
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    if not isinstance(initial_state, (list, tuple)):
        initial_state = [initial_state]
    return _keras_rnn_loop(
        step, sequences, list(initial_state), **_loop_options(layer, sequences, mask)
    )


def _cell_loop_in_python(layer, sequences, initial_state, mask, training, step=None):
    """`RNN.inner_loop` with the cell's `call` (or `step`) as a plain function, looped in
    Python."""
    cell = layer.cell

    def cell_step(inputs, states):
        output, new_states = cell.call(inputs, states, training=training)
        if not isinstance(new_states, (list, tuple)):
            new_states = [new_states]
        return output, list(new_states)  # (batch, units), [(batch, units)]

    step = step or cell_step
    if not isinstance(initial_state, (list, tuple)):
        initial_state = [initial_state]
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    if mask is not None:
        mask = ops.transpose(mask, (1, 0))  # (time, batch)
    last_output, outputs, states = _loop_in_python(
        step,
        ops.transpose(sequences, (1, 0, 2)),  # (time, batch, features)
        list(initial_state),
        **_loop_options(layer, sequences, mask),
    )
    return last_output, ops.transpose(outputs, (1, 0, 2)), states  # (batch, time, units)
