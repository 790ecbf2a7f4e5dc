"""Keras's SimpleRNN and GRU with stateful training that works on every backend.

`lstmkit.LSTM(stateful=True)` carries its state from batch to batch during `fit` on
TensorFlow, JAX and PyTorch. Keras 3.15's own recurrent layers do not: with
`stateful=True`, `keras.layers.GRU` fails on PyTorch ("modified by an inplace
operation"), and on JAX both `GRU` and `SimpleRNN` train exactly as if they were
stateless. `CarriedState` is the same two-part fix lstmkit's LSTM makes (see
`lstmkit.layers.LSTM.call` and `.variables`), as a mixin:

    SimpleRNN    keras.layers.SimpleRNN + CarriedState
    GRU          keras.layers.GRU + CarriedState

Both take exactly Keras's arguments, hold Keras's weights, and are the same layer
when `stateful=False`.
"""

import keras
from keras import ops


class CarriedState:
    """Mixin for a `keras.layers.RNN` subclass: truncated BPTT with `stateful=True`.

    1. Each call starts from a copy of the carried state. On PyTorch the state
       variable's own tensor would otherwise enter the autograd graph and then be
       overwritten in place by the new state. The copy is also where truncated
       backpropagation through time truncates: values cross the batch boundary,
       gradients do not.
    2. The carried state is listed in `variables` (not in `weights`), so JAX's
       stateless train step receives it and hands back its new value; Keras's RNN
       does not track it, and on JAX `fit` then reads it as a constant zero.
    """

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if initial_state is None and self.stateful:
            initial_state = [ops.copy(state.value) for state in self.states]
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    @property
    def variables(self):
        variables = super().variables
        if self.stateful and self.states is not None:
            known = {id(v) for v in variables}
            variables += [state for state in self.states if id(state) not in known]
        return variables


@keras.saving.register_keras_serializable(package="lstmkit")
class SimpleRNN(CarriedState, keras.layers.SimpleRNN):
    """`keras.layers.SimpleRNN` whose `stateful=True` training works on every backend."""


@keras.saving.register_keras_serializable(package="lstmkit")
class GRU(CarriedState, keras.layers.GRU):
    """`keras.layers.GRU` whose `stateful=True` training works on every backend."""
