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
"""

import keras
from keras import ops

from lstmkit.layers import CarriedState, _loop_in_python


@keras.saving.register_keras_serializable(package="lstmkit")
class SimpleRNN(CarriedState, keras.layers.SimpleRNN):
    """`keras.layers.SimpleRNN` whose `stateful=True` training works on every backend.

    On torch, a stateless layer in full precision also loops over time in plain
    Python (as `lstmkit.LSTM` does), which is cheaper than Keras's loop there.

    Args and call arguments: those of `keras.layers.SimpleRNN`.
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
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
        if mask is not None and self.use_cudnn is not True and _python_loop_applies(self):
            return _cell_loop_in_python(self, sequences, initial_state, mask, training)
        return super().inner_loop(sequences, initial_state, mask, training=training)


def _python_loop_applies(layer):
    """Whether `_cell_loop_in_python` serves `layer`: eager torch, stateless, no autocast."""
    plain_float = layer.cell.compute_dtype == layer.cell.variable_dtype
    return keras.backend.backend() == "torch" and not layer.stateful and plain_float


def _cell_loop_in_python(layer, sequences, initial_state, mask, training):
    """`RNN.inner_loop` with the cell's `call` as a plain function, looped in Python."""
    cell = layer.cell

    def step(inputs, states):
        output, new_states = cell.call(inputs, states, training=training)
        if not isinstance(new_states, (list, tuple)):
            new_states = [new_states]
        return output, list(new_states)  # (batch, units), [(batch, units)]

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
        go_backwards=layer.go_backwards,
        mask=mask,
        zero_output_for_mask=layer.zero_output_for_mask,
        return_all_outputs=layer.return_sequences,
    )
    return last_output, ops.transpose(outputs, (1, 0, 2)), states  # (batch, time, units)
