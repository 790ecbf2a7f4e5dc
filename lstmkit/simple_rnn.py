"""Keras's SimpleRNN, looped faster on eager torch.

`lstmkit.SimpleRNN` is `keras.layers.SimpleRNN` — the same arguments, weights, cell
and arithmetic — with one change on the torch backend: the loop over time calls the
cell's `call` as a plain function, where Keras calls it through `Layer.__call__` at
every step. On eager torch that per-step bookkeeping costs about twice the step's own
arithmetic. On TensorFlow and JAX (a traced loop) it is Keras's layer unchanged.
"""

import keras
from keras import ops

from lstmkit.layers import _loop_in_python


@keras.saving.register_keras_serializable(package="lstmkit")
class SimpleRNN(keras.layers.SimpleRNN):
    """`keras.layers.SimpleRNN`, with a plain Python loop over time on torch.

    Args and call arguments: those of `keras.layers.SimpleRNN`.
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        plain_float = self.cell.compute_dtype == self.cell.variable_dtype  # no autocast needed
        if keras.backend.backend() != "torch" or self.stateful or not plain_float:
            return super().inner_loop(sequences, initial_state, mask, training=training)
        cell = self.cell

        def step(inputs, states):
            output, new_states = cell.call(inputs, states, training=training)
            if not isinstance(new_states, (list, tuple)):
                new_states = [new_states]
            return output, list(new_states)  # (batch, units), [(batch, units)]

        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        if mask is not None:
            mask = ops.transpose(mask, (1, 0))  # (time, batch)
        last_output, outputs, states = _loop_in_python(
            step,
            ops.transpose(sequences, (1, 0, 2)),  # (time, batch, features)
            list(initial_state),
            go_backwards=self.go_backwards,
            mask=mask,
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
        )
        return last_output, ops.transpose(outputs, (1, 0, 2)), states  # (batch, time, units)
