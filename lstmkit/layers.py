"""lstmkit's LSTM: the full gate math in `keras.ops`, a drop-in for `keras.layers.LSTM`.

The cell does one step; the layer wraps it in `keras.layers.RNN`. The weights have
Keras's layout, so `set_weights` works both ways between this layer and Keras's:

    kernel            (input_dim, 4 * units)   gate blocks [i | f | c | o]
    recurrent_kernel  (units,     4 * units)   gate blocks [i | f | c | o]
    bias              (4 * units,)             gate blocks [i | f | c | o]

One step, with x_t the input and (h, c) the state:

    i = sigmoid(x_t W_i + h U_i + b_i)        input gate
    f = sigmoid(x_t W_f + h U_f + b_f)        forget gate
    g = tanh(x_t W_c + h U_c + b_c)           candidate
    o = sigmoid(x_t W_o + h U_o + b_o)        output gate
    c' = f * c + i * g                        new cell state
    h' = o * tanh(c')                         new hidden state (and the output)

The arithmetic is Keras's, step for step, and this module is its readable reference
(`LSTM.reference_loop`; on torch the input projection `x_t W + b` of every step is one
matrix product before the loop, and the loop calls the step as a plain function).
Where the configuration allows, `LSTM.inner_loop` runs the same equations in the
backend's fused kernel instead (`lstmkit.fused`, tested equal to the reference);
`use_fused=False` keeps the reference.

Three private Keras APIs are used, each where no public one exists; the Keras pin in
`constraints.txt` keeps them in place and the tests exercise each:
`keras.src.backend.rnn` (the backend's loop over time), `DropoutRNNCell` (so that
`keras.layers.RNN` draws this cell's dropout masks, as it does for Keras's cells) and
`AutocastScope` (mixed precision in `LSTM.gate_activations`).
"""

import numbers

import keras
import numpy as np
from keras import activations, constraints, initializers, ops, regularizers
from keras.src import backend as _keras_backend
from keras.src.backend import rnn as _keras_rnn_loop
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from lstmkit import fused

_ACTIVATION_NAMES = "'tanh', 'sigmoid', 'relu', 'linear' or a callable"


def _get_activation(argument, value):
    try:
        return activations.get(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"Unknown activation for argument `{argument}`: expected {_ACTIVATION_NAMES}, "
            f"received {value!r}."
        ) from None


def _check_rate(argument, value):
    # numbers.Real takes Python and NumPy numbers alike (a sweep over np.linspace).
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0.0 <= value < 1.0:
        raise ValueError(f"Argument `{argument}` must be a number in [0, 1), received {value!r}.")
    return float(value)


def _check_sequences_shape(shape, built_features=None):
    """The checks on a `(batch, time, features)` shape, before and after `build`."""
    shape = tuple(shape)
    if len(shape) != 3:
        raise ValueError(
            "lstmkit.layers.LSTM expects 3-D input (batch, time, features), "
            f"received shape {shape}."
        )
    if shape[1] == 0:
        raise ValueError(
            f"lstmkit.layers.LSTM needs at least one time step, received input of shape {shape}."
        )
    if shape[-1] is None:
        raise ValueError(
            "lstmkit.layers.LSTM needs a known feature size (the last axis), "
            f"received shape {shape}."
        )
    if built_features is not None and shape[-1] != built_features:
        raise ValueError(
            f"lstmkit.layers.LSTM was built for {built_features} features, "
            f"received input with {shape[-1]} (shape {shape})."
        )


def _float64_tanh(x):
    return 2.0 * ops.sigmoid(2.0 * x) - 1.0


def _check_units(value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"Argument `units` must be a positive integer, received {value!r}.")
    return int(value)


@keras.saving.register_keras_serializable(package="lstmkit")
class LSTMCell(keras.layers.Layer, DropoutRNNCell):
    """One step of a long short-term memory network, with Keras's weight layout.

    Args:
        units: Positive integer, dimensionality of the hidden and cell state.
        activation: Activation of the candidate and of the cell state on its way
            out. Default: `"tanh"`.
        recurrent_activation: Activation of the input, forget and output gates.
            Default: `"sigmoid"`.
        use_bias: Whether the gates have a bias. Default: `True`.
        kernel_initializer: Initializer of `kernel`. Default: `"glorot_uniform"`.
        recurrent_initializer: Initializer of `recurrent_kernel`.
            Default: `"orthogonal"`.
        bias_initializer: Initializer of `bias`. Default: `"zeros"`.
        unit_forget_bias: If `True`, the forget gate's bias starts at 1 (the rest
            from `bias_initializer`), so the cell starts out remembering.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Regularizers
            of the three weights.
        kernel_constraint, recurrent_constraint, bias_constraint: Constraints of
            the three weights.
        dropout: Fraction of the inputs dropped (one mask for the whole sequence).
        recurrent_dropout: Fraction of the hidden state dropped before the
            recurrent matmul (one mask for the whole sequence).
        seed: Seed of the dropout masks.

    Dropout works wherever the cell runs: in `lstmkit.LSTM`, `keras.layers.RNN`
    or `keras.layers.StackedRNNCells`. The layer draws the masks once per call
    (`get_dropout_mask`, from `DropoutRNNCell`) and clears them afterwards.

    Call arguments:
        inputs: `(batch, features)`, one time step.
        states: `[h, c]`, each `(batch, units)`.
        training: Whether dropout applies.
    """

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        units = _check_units(units)
        implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        self.units = units
        self.activation = _get_activation("activation", activation)
        self.recurrent_activation = _get_activation("recurrent_activation", recurrent_activation)
        self.use_bias = use_bias
        self.unit_forget_bias = unit_forget_bias

        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

        self.dropout = _check_rate("dropout", dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        # Keras's cell takes `implementation` (1: one matmul per gate block, 2:
        # one fused matmul; the same numbers) and switches to 1 under recurrent
        # dropout, where each gate block gets its own dropout mask. This cell
        # fuses whenever there is one mask, and sets `implementation` (and its
        # config) as Keras's cell does. Drawing the masks the same way keeps the
        # two layers equal under the same seed.
        self.implementation = 1 if self.recurrent_dropout > 0 else implementation
        self.dropout_mask_count = 4 if self.implementation == 1 else 1
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)

        self.state_size = [units, units]
        self.output_size = units
        # Keras 3.15's torch `ops.matmul` computes float64 @ float64 in float32
        # (its result_type of two torch float64 dtypes is float32); einsum keeps
        # float64, so a float64 layer computes in float64 there as elsewhere.
        self._exact_float64 = keras.backend.backend() == "torch" and self.compute_dtype == "float64"
        # The same on JAX (float64 needs x64 there) for `ops.tanh`, which returns
        # float32 for float64; tanh(x) = 2 sigmoid(2x) - 1 keeps float64.
        self._exact_tanh = (
            keras.backend.backend() == "jax"
            and self.compute_dtype == "float64"
            and self.activation is activations.tanh
        )

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.input_dim = input_dim
        self.kernel = self.add_weight(
            shape=(input_dim, 4 * self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 4 * self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(4 * self.units,),
                name="bias",
                initializer=self._bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def _bias_initializer(self, shape, dtype=None):
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype=dtype)
        units = self.units
        return ops.concatenate(
            [
                self.bias_initializer((units,), dtype=dtype),  # input gate
                ops.ones((units,), dtype=dtype),  # forget gate starts open
                self.bias_initializer((2 * units,), dtype=dtype),  # candidate, output
            ]
        )

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states[0], states[1]  # (batch, units) each
        z = self.project(inputs, training=training)  # (batch, 4 * units)
        z = z + self.recurrent_projection(h_prev, training=training)  # (batch, 4 * units)
        _, _, _, _, c, h = self.gates(z, c_prev)
        return h, [h, c]

    def gates(self, z, c_prev):
        """The gate equations, from the pre-activations `z` (batch, 4 * units).

        Returns `(i, f, g, o, c, h)`: input gate, forget gate, candidate, output
        gate, new cell state and new hidden state, each `(batch, units)`.
        """
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)  # (batch, units) each
        i = self.recurrent_activation(z_i)  # input gate: how much new to write
        f = self.recurrent_activation(z_f)  # forget gate: how much old to keep
        activation = _float64_tanh if self._exact_tanh else self.activation
        g = activation(z_c)  # candidate values to write
        o = self.recurrent_activation(z_o)  # output gate: how much to show
        c = f * c_prev + i * g  # (batch, units) new cell state
        h = o * activation(c)  # (batch, units) new hidden state
        return i, f, g, o, c, h

    def project(self, inputs, training=False):
        """`inputs @ kernel + bias`, with input dropout when training.

        `inputs` is one step `(batch, features)` or a time-major sequence
        `(time, batch, features)`: the dropout mask `(batch, features)` is the
        same for every step.
        """
        masks = self.get_dropout_mask(inputs) if training and self.dropout > 0 else None
        if masks is None:
            z = self._matmul(inputs, self.kernel)  # (..., 4 * units)
        else:
            z = self._masked_matmul(inputs, masks, self.kernel)  # (..., 4 * units)
        if self.use_bias:
            z = z + self.bias
        return z

    def recurrent_projection(self, h, training=False):
        """`h @ recurrent_kernel`, with recurrent dropout when training."""
        if training and self.recurrent_dropout > 0:
            masks = self.get_recurrent_dropout_mask(h)
            return self._masked_matmul(h, masks, self.recurrent_kernel)  # (batch, 4 * units)
        return self._matmul(h, self.recurrent_kernel)  # (batch, 4 * units)

    def _masked_matmul(self, x, masks, weights):
        # One shared mask: one matmul. One mask per gate: one matmul per gate block.
        if len(masks) == 1:
            return self._matmul(x * masks[0], weights)
        blocks = ops.split(weights, 4, axis=-1)
        return ops.concatenate([self._matmul(x * m, w) for m, w in zip(masks, blocks)], axis=-1)

    def _matmul(self, x, weights):
        """`x @ weights` for `x` of shape `(..., in)`, in the layer's compute dtype."""
        if self._exact_float64:
            return ops.einsum("...i,ij->...j", x, weights)
        return ops.matmul(x, weights)

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, d), dtype=self.compute_dtype) for d in self.state_size]

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            "implementation": self.implementation,
        }
        return {**super().get_config(), **config}


def _loop_options(layer, sequences, mask):
    """The keyword arguments of Keras's backend loop (and `_loop_in_python`) for `layer`'s
    settings: `sequences` is `(batch, time, features)`, `mask` as the loop takes it."""
    return dict(
        go_backwards=layer.go_backwards,
        mask=mask,
        unroll=layer.unroll,
        input_length=sequences.shape[1],
        zero_output_for_mask=layer.zero_output_for_mask,
        return_all_outputs=layer.return_sequences,
    )


def _loop_in_python(
    step,
    inputs,
    states,
    go_backwards=False,
    mask=None,
    unroll=False,
    input_length=None,
    zero_output_for_mask=False,
    return_all_outputs=True,
):
    """`keras.src.backend.rnn(..., time_major=True)` for an eager backend: a Python loop.

    Keras's torch loop keeps its step counter in a tensor, indexes the inputs
    with it and runs one extra step to learn the output's shape; on eager torch
    that bookkeeping costs as much as the LSTM's own arithmetic. Same contract:
    returns `(last_output, outputs, states)`, outputs time-major in the order the steps
    were taken; masked steps keep the previous state and output (or a zero
    output with `zero_output_for_mask`).

    Keras's arguments, and no others (a misspelt one is a TypeError): `unroll`
    changes nothing here (a Python loop is unrolled already) and `input_length`
    must be the length of `inputs` when given.
    """
    del unroll  # every step is its own Python call either way
    if input_length is not None and input_length != inputs.shape[0]:
        raise ValueError(
            f"Argument `input_length` is {input_length}, but the inputs have "
            f"{inputs.shape[0]} steps."
        )
    steps = ops.unstack(inputs, axis=0)  # time x (batch, ...)
    keeps = None
    if mask is not None:
        keeps = ops.unstack(ops.expand_dims(ops.cast(mask, "bool"), -1), axis=0)  # (batch, 1) each
    order = range(len(steps) - 1, -1, -1) if go_backwards else range(len(steps))
    outputs, output = [], None
    for t in order:
        new_output, new_states = step(steps[t], states)  # (batch, units), [(batch, units)]
        if keeps is not None:
            if zero_output_for_mask or output is None:
                held = ops.zeros_like(new_output)
            else:
                held = output
            new_output = ops.where(keeps[t], new_output, held)
            new_states = [ops.where(keeps[t], new, old) for new, old in zip(new_states, states)]
        output, states = new_output, new_states
        if return_all_outputs:
            outputs.append(output)
    stacked = ops.stack(outputs, axis=0) if return_all_outputs else ops.expand_dims(output, 0)
    return output, stacked, states  # (batch, units), (time or 1, batch, units), states


class CarriedState:
    """Mixin for a `keras.layers.RNN` subclass: truncated BPTT with `stateful=True`.

    Keras 3.15's RNN carries no state through `fit` on JAX and fails on PyTorch
    when `stateful=True`. Three changes make it carry the state on every backend:

    1. The state variables are kept out of autocast. Under mixed precision,
       torch's autocast hands `RNN.call` a cast copy of the float32 state to
       assign into, and the new state is lost (TensorFlow and JAX keep it).
       Keras's BatchNormalization keeps its moving statistics out the same way.
    2. Each call starts from a copy of the carried state. On torch, the state
       variable's own tensor would enter the autograd graph (as h_0 of
       h_0 @ U), and `RNN.call` then overwrites that tensor in place with the
       new state, so backward fails ("modified by an inplace operation"). The
       copy is also where truncated backpropagation through time truncates: it
       carries values from the previous batch, never gradients.
    3. The carried state is listed in `variables` (not in `weights`). It is
       layer state, like a dropout seed. Keras's RNN keeps it out of `weights`
       (so get_weights/set_weights and saving match the stateless layer) by not
       tracking it at all, and then JAX's trainer, which passes only `variables`
       into its stateless train step and keeps only their new values, reads it
       as a constant. Listed here, the state travels through the train step on
       every backend and still stays out of `weights`.

    And two changes to masked outputs, so that they are the same on every backend
    for both values of `unroll`: at masked steps before a row's first real step the
    output is 0 (`_zero_outputs_before_first_step`), and `zero_output_for_mask`
    (which `Bidirectional` sets with `return_sequences=True`) is applied here, after
    the loop (`_zero_masked_outputs`), not by Keras's unrolled loops, which get it
    wrong: TensorFlow's zeroes the outputs of a `go_backwards` layer at the mirrored
    steps (it compares the outputs, in reading order, with the mask in input order),
    JAX's ignores it (keras/src/backend/{tensorflow,jax}/rnn.py, Keras 3.15).
    """

    def build(self, sequences_shape, initial_state_shape=None):
        super().build(sequences_shape, initial_state_shape)
        if self.stateful:
            for state in self.states:
                state._autocast = False

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if initial_state is None and self.stateful:
            initial_state = [ops.copy(state.value) for state in self.states]
        if mask is None:
            return super().call(
                sequences, initial_state=initial_state, mask=mask, training=training
            )
        # The loop holds the previous output at masked steps; the masked outputs are
        # then set here, the same way on every backend (see the class docstring).
        zero_masked = self.zero_output_for_mask
        self.zero_output_for_mask = False
        try:
            result = super().call(
                sequences, initial_state=initial_state, mask=mask, training=training
            )
        finally:
            self.zero_output_for_mask = zero_masked
        if zero_masked:
            set_masked_outputs = self._zero_masked_outputs
        else:
            set_masked_outputs = self._zero_outputs_before_first_step
        if self.return_state:
            output, *states = result
            return set_masked_outputs(output, mask), *states
        return set_masked_outputs(result, mask)

    def _zero_masked_outputs(self, output, mask):
        """0 at every masked step: `zero_output_for_mask=True`.

        Without `return_sequences`, the output is 0 when the last step read is masked,
        as Keras's loops give it.
        """
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        real = ops.cast(mask, "bool")  # (batch, time)
        if self.go_backwards:  # the outputs are in reading order
            real = ops.flip(real, axis=1)
        if not self.return_sequences:
            return ops.where(real[:, -1:], output, ops.zeros_like(output))
        return ops.where(ops.expand_dims(real, -1), output, ops.zeros_like(output))

    def _zero_outputs_before_first_step(self, output, mask):
        """0 at the masked steps that come before a row's first real step.

        A masked step repeats the previous output; before the first real step there
        is none, and Keras's loops give 0 there on TensorFlow, on PyTorch and on JAX
        with `unroll=True`. JAX's scan with `unroll=False` repeats `states[0]`
        instead (keras/src/backend/jax/rnn.py), which there is the initial `h`, so
        with a non-zero initial state (stateful, `initial_state`) and left padding
        the outputs depended on the backend. This makes them 0 everywhere; after
        the first real step nothing changes.
        """
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        real = ops.cast(mask, "bool")  # (batch, time)
        if not self.return_sequences:  # the last output: 0 for a row with no real step
            started = ops.any(real, axis=1, keepdims=True)  # (batch, 1)
            return ops.where(started, output, ops.zeros_like(output))
        if self.go_backwards:  # the outputs are in reading order
            real = ops.flip(real, axis=1)
        started = ops.cumsum(ops.cast(real, "int32"), axis=1) > 0  # (batch, time)
        return ops.where(ops.expand_dims(started, -1), output, ops.zeros_like(output))

    @property
    def variables(self):
        variables = super().variables
        if self.stateful and self.states is not None:
            known = {id(v) for v in variables}
            variables += [state for state in self.states if id(state) not in known]
        return variables


@keras.saving.register_keras_serializable(package="lstmkit")
class LSTM(CarriedState, keras.layers.RNN):
    """Long short-term memory layer (Hochreiter & Schmidhuber, 1997).

    A drop-in for `keras.layers.LSTM`: the same arguments, the same weights and
    the same numbers, with the gate math written in `keras.ops` (see
    `LSTMCell.gates`). On a CPU it runs that math in the backend's fused kernel
    where the configuration allows (`use_fused`). It never calls cuDNN; on a
    GPU, Keras's own LSTM is the fast one.

    Args:
        units: Positive integer, dimensionality of the output space.
        activation, recurrent_activation, use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer, unit_forget_bias,
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint, dropout,
        recurrent_dropout, seed: As for `LSTMCell`.
        activity_regularizer: Regularizer of the layer's output.
        return_sequences: Return the output of every step `(batch, time, units)`
            instead of the last `(batch, units)`. Default: `False`.
        return_state: Also return the final `h` and `c`. Default: `False`.
        go_backwards: Read the sequence from the end; with `return_sequences`,
            the outputs come back in that reversed order. Default: `False`.
        stateful: Carry the final state of batch k into batch k + 1 (needs a
            fixed batch size). Default: `False`.
        unroll: Unroll the loop (short sequences only). Default: `False`.
        use_cudnn: `"auto"` or `False`: the layer runs its `keras.ops` path.
            `True` (as in Keras, where cuDNN cannot serve the layer) is an error
            when the layer is called: this layer never calls cuDNN.
        use_fused: Run the backend's fused CPU kernel where the configuration
            allows (`lstmkit.fused`: the same numbers, faster). `False` always
            runs `reference_loop`, the gate math step by step. Default: `True`.

    Call arguments:
        sequences: `(batch, time, features)`.
        mask: Boolean `(batch, time)`: `False` steps are skipped, the state
            passing through unchanged. Padding may be on either side.
        training: Whether dropout applies.
        initial_state: `[h, c]`, each `(batch, units)`; zeros if `None`.
    """

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        use_cudnn="auto",
        use_fused=True,
        **kwargs,
    ):
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                "Argument `use_cudnn` must be 'auto', True or False (lstmkit's LSTM runs "
                "its gate math in keras.ops; use keras.layers.LSTM for cuDNN), "
                f"received {use_cudnn!r}."
            )
        cell = LSTMCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            implementation=kwargs.pop("implementation", 2),
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="lstm_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.use_cudnn = use_cudnn
        self.use_fused = bool(use_fused)
        self.input_spec = keras.layers.InputSpec(ndim=3)  # as keras.layers.LSTM

    def __call__(self, *args, **kwargs):
        # The sequences come first, or by keyword, as `call` names them.
        sequences = args[0] if args else kwargs.get("sequences")
        if not (hasattr(sequences, "shape") and hasattr(sequences, "dtype")):
            raise TypeError(
                "lstmkit.layers.LSTM expects a tensor or array of shape "
                f"(batch, time, features), received {type(sequences).__name__}: "
                f"{sequences!r:.80}"
            )
        # Before Keras checks `input_spec`, so that the message names the layout.
        _check_sequences_shape(sequences.shape)
        return super().__call__(*args, **kwargs)

    def build(self, sequences_shape, initial_state_shape=None):
        _check_sequences_shape(sequences_shape)
        super().build(sequences_shape, initial_state_shape)  # CarriedState keeps the state

    def call(self, sequences, initial_state=None, mask=None, training=False):
        self._check_call(sequences, initial_state, mask)
        # CarriedState.call starts a stateful layer from a copy of its state.
        return super().call(sequences, mask=mask, training=training, initial_state=initial_state)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        # The one dispatch point: lstmkit.fused runs this layer's math in the
        # backend's fused kernel where the configuration allows (use_fused=True),
        # and calls reference_loop for everything else.
        return fused.inner_loop(
            self, sequences, initial_state, mask, training, reference=self.reference_loop
        )

    def reference_loop(self, sequences, initial_state, mask, training=False):
        # The same arithmetic as Keras's RNN.inner_loop, looped the way that is
        # fastest on each kind of backend (benchmarks/lstm_speed.py measures it).
        # RNN.call has drawn the dropout masks already (one per sequence).
        cell = self.cell
        options = _loop_options(self, sequences, mask)
        if keras.backend.backend() != "torch":
            # Traced backends (a while_loop on TensorFlow, a scan on JAX): the
            # whole step, `x_t W + h U + b`, inside the loop. Keras's backend
            # loop with the cell's plain `call` as the step; taking `x W` of all
            # steps out of the loop made XLA's CPU loop slower, not faster.
            def step(inputs, states):
                h, (_, c) = cell.call(inputs, states, training=training)  # (batch, units) each
                return h, [h, c]

            return _keras_rnn_loop(step, sequences, list(initial_state), **options)

        # Eager torch: every op is dispatched from Python, so do as much as
        # possible outside the loop. `x W + b` of all steps is one large matmul;
        # the loop is plain Python and calls the step as a function, where
        # Keras calls the cell through Layer.__call__ at every step.
        projected = cell.project(
            ops.transpose(sequences, (1, 0, 2)), training=training
        )  # (time, batch, 4 * units), time-major: the loop walks the first axis

        def projected_step(z_t, states):
            h_prev, c_prev = states  # (batch, units) each
            z = z_t + cell.recurrent_projection(h_prev, training=training)  # (batch, 4 * units)
            *_, c, h = cell.gates(z, c_prev)  # (batch, units) each
            return h, [h, c]

        if mask is not None:
            options["mask"] = ops.transpose(mask, (1, 0))  # (time, batch)
        last_output, outputs, states = _loop_in_python(
            projected_step, projected, list(initial_state), **options
        )
        return last_output, ops.transpose(outputs, (1, 0, 2)), states  # (batch, time, units)

    def gate_activations(self, inputs, initial_state=None, mask=None):
        """Runs the layer step by step and keeps every gate, for plots.

        Not the training path: a plain Python loop over time, so use it on a few
        sequences. `go_backwards` is honoured (the results stay indexed by input
        position), masked steps keep the previous state, and a stateful layer
        starts from its carried state, as in `call` (which it leaves unchanged).

        Args:
            inputs: `(batch, time, features)`.
            initial_state: Optional `[h, c]`, each `(batch, units)`.
            mask: Optional boolean `(batch, time)`.

        Returns:
            A dict of NumPy arrays, each `(batch, time, units)`: `"input_gate"`,
            `"forget_gate"`, `"candidate"`, `"output_gate"`, `"cell_state"`,
            `"hidden_state"`.
        """
        inputs = ops.convert_to_tensor(inputs, dtype=self.compute_dtype)
        if not self.built:
            self.build(inputs.shape)
        self._check_call(inputs, initial_state, mask)
        if self.compute_dtype != self.variable_dtype:
            # Under mixed precision, Layer.__call__ reads the float32 weights in
            # the compute dtype; this method is not a __call__, so it opens the
            # same scope itself.
            with _keras_backend.AutocastScope(self.compute_dtype):
                return self._gate_activations(inputs, initial_state, mask)
        return self._gate_activations(inputs, initial_state, mask)

    def _gate_activations(self, inputs, initial_state, mask):
        cell = self.cell
        batch_size, timesteps = inputs.shape[0], inputs.shape[1]
        if initial_state is None and self.stateful:
            h, c = (ops.cast(ops.copy(s.value), self.compute_dtype) for s in self.states)
        elif initial_state is None:
            h, c = cell.get_initial_state(batch_size)
        else:
            h, c = (ops.convert_to_tensor(s, dtype=self.compute_dtype) for s in initial_state)
        projected = cell.project(inputs)  # (batch, time, 4 * units)
        order = range(timesteps - 1, -1, -1) if self.go_backwards else range(timesteps)
        names = (
            "input_gate",
            "forget_gate",
            "candidate",
            "output_gate",
            "cell_state",
            "hidden_state",
        )
        history = {name: [] for name in names}
        for t in order:
            z = projected[:, t, :] + cell.recurrent_projection(h)  # (batch, 4 * units)
            i, f, g, o, c_new, h_new = cell.gates(z, c)
            if mask is not None:
                keep = ops.expand_dims(ops.cast(mask[:, t], "bool"), -1)  # (batch, 1)
                c_new, h_new = ops.where(keep, c_new, c), ops.where(keep, h_new, h)
            h, c = h_new, c_new
            for name, value in zip(names, (i, f, g, o, c, h)):
                history[name].append(ops.convert_to_numpy(value))
        if self.go_backwards:  # index the steps by input position, whatever the reading order
            history = {name: steps[::-1] for name, steps in history.items()}
        return {name: np.stack(steps, axis=1) for name, steps in history.items()}

    def _check_call(self, sequences, initial_state, mask):
        if self.use_cudnn is True:  # Keras's LSTM, too, refuses it where cuDNN cannot run
            raise ValueError(
                "use_cudnn=True was specified, but lstmkit.layers.LSTM never calls cuDNN "
                "(it runs its gate math in keras.ops). Pass use_cudnn='auto' or False, or "
                "use keras.layers.LSTM for cuDNN."
            )
        shape = tuple(sequences.shape)
        _check_sequences_shape(shape, built_features=self.cell.input_dim)
        if initial_state is not None:
            states = (
                list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            )
            if len(states) != 2:
                raise ValueError(
                    "lstmkit.layers.LSTM expects `initial_state` as [h, c] (2 tensors), "
                    f"received {len(states)}."
                )
            for name, state in zip("hc", states):
                state_shape = tuple(state.shape)
                expected = (shape[0], self.cell.units)
                if (
                    len(state_shape) != 2
                    or state_shape[1] != self.cell.units
                    or (None not in (shape[0], state_shape[0]) and state_shape[0] != shape[0])
                ):
                    raise ValueError(
                        f"lstmkit.layers.LSTM expects initial state `{name}` of shape "
                        f"{expected}, received {state_shape}."
                    )
        if mask is not None:
            mask_shape = tuple(mask.shape)
            if len(mask_shape) != 2 or any(
                None not in (m, s) and m != s for m, s in zip(mask_shape, shape[:2])
            ):
                raise ValueError(
                    f"lstmkit.layers.LSTM expects a mask of shape (batch, time) = {shape[:2]}, "
                    f"received {mask_shape}."
                )

    @property
    def units(self):
        return self.cell.units

    @property
    def activation(self):
        return self.cell.activation

    @property
    def recurrent_activation(self):
        return self.cell.recurrent_activation

    @property
    def use_bias(self):
        return self.cell.use_bias

    @property
    def unit_forget_bias(self):
        return self.cell.unit_forget_bias

    @property
    def kernel_initializer(self):
        return self.cell.kernel_initializer

    @property
    def recurrent_initializer(self):
        return self.cell.recurrent_initializer

    @property
    def bias_initializer(self):
        return self.cell.bias_initializer

    @property
    def kernel_regularizer(self):
        return self.cell.kernel_regularizer

    @property
    def recurrent_regularizer(self):
        return self.cell.recurrent_regularizer

    @property
    def bias_regularizer(self):
        return self.cell.bias_regularizer

    @property
    def kernel_constraint(self):
        return self.cell.kernel_constraint

    @property
    def recurrent_constraint(self):
        return self.cell.recurrent_constraint

    @property
    def bias_constraint(self):
        return self.cell.bias_constraint

    @property
    def dropout(self):
        return self.cell.dropout

    @property
    def recurrent_dropout(self):
        return self.cell.recurrent_dropout

    def get_config(self):
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config = {
            **cell_config,
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "use_cudnn": self.use_cudnn,
            "use_fused": self.use_fused,
        }
        base_config = super().get_config()
        del base_config["cell"]
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
