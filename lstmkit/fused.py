"""The fast paths of `lstmkit.LSTM`: its math in each backend's fastest exact CPU code.

`lstmkit.layers` holds the reference: the gate equations written out in `keras.ops`,
looped over time step by step (`LSTM.reference_loop`). When the layer's configuration
allows, `LSTM.inner_loop` hands the whole sequence to `inner_loop` here, which runs
the same equations the fastest way measured on each backend (benchmarks/lstm_speed.py)
and returns what the reference loop returns:

    torch        torch._VF.lstm, the kernel behind nn.LSTM (oneDNN on a CPU), fed
                 lstmkit's weights in PyTorch's layout; with a mask, the rows run
                 over their zeroed padding and h is read at each row's last step,
                 or, where the final c is read (return_state, stateful), they go in
                 as a pack_padded_sequence
    tensorflow   (off: measured slower than the reference, see _MEASURED_SLOWER;
                 tested all the same) a while_loop over the recurrent product with a hand-written
                 gradient: x W + b of every step is one matrix product before the
                 loop, the backward loop computes only dh and dc, and the weight
                 gradients are three large matrix products after it (one matrix
                 product per step each way, where autodiff of the step-by-step loop
                 has two forward and four backward)
    jax          the reference loop with its step under jax.checkpoint: XLA's CPU
                 loop is faster recomputing the gate activations in the backward
                 pass than saving them

The fast path is taken when (`reference_reason` says why not otherwise):

- `use_fused=True` (the default; `False` forces the reference for teaching),
- activation `tanh`, recurrent activation `sigmoid`, `unroll=False`,
- compute dtype float32 or float64 (mixed precision runs the reference),
- no recurrent dropout while training, and input dropout as one mask per sequence
  (the cell's `implementation=2`, Keras's default),
- on torch and TensorFlow, no mask or a right-padded one (each row `True` then
  `False`), checked where the mask is known: in Python on torch, inside the graph
  (`tf.cond`) on TensorFlow, so that a mask only known at run time takes the
  reference loop when it is not right padding. JAX's path takes any mask.

Every fast path equals the reference within 1e-5, forward and gradients
(tests/test_fused.py).
"""

import keras
from keras import activations, ops
from keras.src.backend import rnn as _keras_rnn_loop

_FAST_DTYPES = ("float32", "float64")


def reference_reason(layer, training=False):
    """Why `layer` runs its reference loop, or `None` when the fast path may run.

    The mask is not looked at here: a mask that is not right padding sends the call to
    the reference loop at run time.
    """
    cell = layer.cell
    if not layer.use_fused:
        return "use_fused=False"
    if keras.backend.backend() in _MEASURED_SLOWER and keras.backend.backend() not in _FAST_PATHS:
        return f"the {keras.backend.backend()} fast path measured slower than the reference"
    if keras.backend.backend() not in _FAST_PATHS:
        return f"no fast path on the {keras.backend.backend()} backend"
    if cell.activation is not activations.tanh:
        return "activation is not tanh"
    if cell.recurrent_activation is not activations.sigmoid:
        return "recurrent_activation is not sigmoid"
    if layer.unroll:
        return "unroll=True"
    if cell.compute_dtype not in _FAST_DTYPES or cell.variable_dtype != cell.compute_dtype:
        return f"compute dtype {cell.compute_dtype} (variables {cell.variable_dtype})"
    if training and cell.recurrent_dropout > 0:
        return "recurrent dropout while training"
    if training and cell.dropout > 0 and cell.dropout_mask_count != 1:
        return "one input dropout mask per gate (implementation=1)"
    if keras.backend.backend() == "torch" and _torch_is_compiling():
        return "inside torch.compile"
    return None


# What each backend's fast path runs, in words (`path_taken`).
_FAST_PATH_NAMES = {
    "torch": "fused: torch._VF.lstm, the C++ kernel behind nn.LSTM",
    "tensorflow": "fused: one tf.while_loop with a hand-written gradient",
    "jax": "fused: the reference step under jax.checkpoint (recomputed in the backward pass)",
}


def path_taken(layer, training=False):
    """Which path `layer` runs, in words: its fast path, or the reference and why.

    On torch and TensorFlow a mask that is not right padding still sends a call to
    the reference loop (the mask is known only when the layer is called).
    """
    reason = reference_reason(layer, training)
    if reason is not None:
        return f"reference: the step-by-step loop of lstmkit.layers ({reason})"
    return _FAST_PATH_NAMES[keras.backend.backend()]


def inner_loop(layer, sequences, initial_state, mask, training, reference):
    """`LSTM.inner_loop` through the backend's fast path, or through `reference`.

    Args:
        layer: The `lstmkit.LSTM`.
        sequences: `(batch, time, features)`.
        initial_state: `[h, c]`, each `(batch, units)`, in the compute dtype.
        mask: `None` or boolean `(batch, time)`.
        training: Whether dropout applies.
        reference: The reference loop, `reference(sequences, initial_state, mask,
            training=...)`.

    Returns:
        `(last_output, outputs, [h, c])` as the reference returns them: `outputs`
        `(batch, time, units)` in the order the steps were taken (or `(batch, 1,
        units)` without `return_sequences`).
    """
    if reference_reason(layer, training) is not None:
        return reference(sequences, initial_state, mask, training=training)
    fast_path = _FAST_PATHS[keras.backend.backend()]
    return fast_path(layer, sequences, initial_state, mask, training, reference)


def _fused_kernel_loop(layer, sequences, initial_state, mask, training, reference):
    """The fast path of torch and TensorFlow: one kernel over the whole sequence."""

    def run_reference():
        return reference(sequences, initial_state, mask, training=training)

    cell = layer.cell
    # One dtype for the kernel: the reference's matmul promotes other inputs (an int
    # array, as Keras's own Bidirectional test feeds) to the weights' dtype.
    inputs = ops.cast(sequences, cell.compute_dtype)
    if training and cell.dropout > 0:
        # The mask RNN.call drew for this call, the same one the reference uses:
        # one (batch, features) mask for every step.
        (dropout_mask,) = cell.get_dropout_mask(sequences[:, 0, :])
        inputs = inputs * ops.expand_dims(dropout_mask, 1)  # (batch, time, features)
    backend = keras.backend.backend()
    lstm = _KERNELS[backend]
    h0, c0 = initial_state
    weights = (cell.kernel, cell.recurrent_kernel, cell.bias)

    if mask is None:
        if layer.go_backwards:
            inputs = ops.flip(inputs, axis=1)
        outputs, h, c = lstm(inputs, h0, c0, *weights, lengths=None)
        last_output = h
        if not layer.return_sequences:
            outputs = ops.expand_dims(h, 1)  # (batch, 1, units)
        return last_output, outputs, [h, c]

    mask = ops.cast(mask, "bool")
    lengths = ops.sum(ops.cast(mask, "int32"), axis=1)  # (batch,)

    def run_fused():
        return _right_padded_results(layer, lstm, inputs, h0, c0, weights, lengths)

    def run_reference_alike():
        # Both branches of a tf.cond return the same structure and shapes; without
        # return_sequences RNN.call reads only last_output.
        last_output, outputs, states = run_reference()
        if not layer.return_sequences:
            outputs = ops.expand_dims(last_output, 1)  # (batch, 1, units)
        return last_output, outputs, list(states)

    right_padded = ops.all(ops.equal(mask, _steps_below(lengths, ops.shape(mask)[1])))
    return _BRANCH[backend](right_padded, lengths, run_fused, run_reference_alike)


def _steps_below(lengths, timesteps):
    # (batch, time): True where the step index is below the row's length.
    steps = ops.expand_dims(ops.arange(timesteps, dtype="int32"), 0)  # (1, time)
    return steps < ops.expand_dims(lengths, 1)


def _right_padded_results(layer, lstm, inputs, h0, c0, weights, lengths):
    """The reference loop's results for a right-padded mask, from one fused run.

    The reference steps through every position and holds the state over the masked
    ones. With right padding the valid steps are each row's first `length`, so one
    run over them gives every state; the rest is where the reference's held values
    land: a masked step repeats the previous output, which is zeros before the first
    step (or zeros always, with `zero_output_for_mask`). Reading backwards, the
    reference meets the padding first (state unchanged, outputs zeros), then the
    row's first `length` positions in reverse order.
    """
    timesteps = ops.shape(inputs)[1]
    steps = ops.expand_dims(ops.arange(timesteps, dtype="int32"), 0)  # (1, time)
    if layer.go_backwards:
        # Reverse each row within its length; the padding stays at the end.
        within = steps < ops.expand_dims(lengths, 1)  # (batch, time)
        source = ops.where(within, ops.expand_dims(lengths, 1) - 1 - steps, steps)
        inputs = ops.take_along_axis(inputs, ops.expand_dims(source, -1), axis=1)
    outputs, h, c = lstm(
        inputs,
        h0,
        c0,
        *weights,
        lengths=lengths,
        cell_state_read=layer.return_state or layer.stateful,
    )  # outputs valid below each row's length
    ran = ops.expand_dims(lengths > 0, 1)  # (batch, 1): a fully masked row never steps
    h, c = ops.where(ran, h, h0), ops.where(ran, c, c0)  # (batch, units) each
    zeros = ops.zeros_like(h0)
    held = ops.where(ran, h, zeros)  # the output a masked step after the last valid repeats
    if layer.go_backwards:
        # The last step read position 0, valid in every row that ran.
        last_output = held
    else:
        full = ops.expand_dims(ops.equal(lengths, timesteps), 1)  # (batch, 1)
        last_output = ops.where(full, h, zeros if layer.zero_output_for_mask else held)
    if not layer.return_sequences:
        return last_output, ops.expand_dims(last_output, 1), [h, c]

    if layer.go_backwards:
        # Step k of the reference is step k - (time - length) of this run; the
        # masked steps come first and output zeros.
        offset = ops.expand_dims(timesteps - lengths, 1)  # (batch, 1)
        valid = steps >= offset  # (batch, time)
        outputs = ops.take_along_axis(
            outputs, ops.expand_dims(ops.maximum(steps - offset, 0), -1), axis=1
        )
        held = zeros
    else:
        valid = steps < ops.expand_dims(lengths, 1)  # (batch, time)
        held = zeros if layer.zero_output_for_mask else held
    outputs = ops.where(ops.expand_dims(valid, -1), outputs, ops.expand_dims(held, 1))
    return last_output, outputs, [h, c]


# ---------------------------------------------------------------------------------------
# PyTorch: the kernel of nn.LSTM.


def _torch_is_compiling():
    import torch

    return bool(getattr(torch.compiler, "is_compiling", lambda: False)())


# With a mask and no reader of the final c: run oneDNN's kernel over the padding too
# and read h at each row's last step (True), or the packed kernel (False).
_TORCH_MASK_GATHER = True


def _lstm_torch(inputs, h0, c0, kernel, recurrent_kernel, bias, lengths, cell_state_read=True):
    """`torch._VF.lstm` on lstmkit's weights: `(outputs, h, c)`, batch first.

    PyTorch stores `weight_ih` as `(4 * units, features)` with gate blocks [i|f|g|o],
    Keras's [i|f|c|o] transposed; its two biases add up, so Keras's one bias goes in
    as `bias_ih` and `bias_hh` is zero. With `lengths`, each row's `h` and `c` are
    those after its last valid step and its outputs past its length are not used.
    On a CPU the kernel over a plain tensor is oneDNN's and several times faster
    than the one over a `pack_padded_sequence`, but returns only the last step's
    `c`: when nothing reads the final `c` (`cell_state_read=False`), the rows run
    over their padding (zeroed) and `h` is read at each row's last valid step.
    """
    import torch
    from torch.nn.utils import rnn as rnn_utils

    kernel, recurrent_kernel = (
        ops.convert_to_tensor(kernel),
        ops.convert_to_tensor(recurrent_kernel),
    )
    weights = [kernel.T, recurrent_kernel.T]  # (4 * units, features), (4 * units, units)
    if bias is not None:
        bias = ops.convert_to_tensor(bias)
        weights += [bias, torch.zeros_like(bias)]
    has_bias, train = bias is not None, torch.is_grad_enabled()
    gather = lengths is not None and not cell_state_read and _TORCH_MASK_GATHER
    if lengths is None or gather:
        if gather:
            steps = torch.arange(inputs.shape[1], device=inputs.device)
            inputs = inputs * (steps[None, :] < lengths[:, None]).unsqueeze(-1).to(inputs.dtype)
        outputs, h, c = torch._VF.lstm(
            inputs,
            (h0.unsqueeze(0), c0.unsqueeze(0)),
            weights,
            has_bias,
            1,  # layers
            0.0,  # dropout between layers
            train,
            False,  # bidirectional
            True,  # batch_first
        )
        if gather:
            rows = torch.arange(inputs.shape[0], device=inputs.device)
            return outputs, outputs[rows, lengths.long() - 1], c0  # c: nobody reads it
        return outputs, h[0], c[0]  # (batch, time, units), (batch, units) x 2

    packed = rnn_utils.pack_padded_sequence(
        inputs, lengths.cpu(), batch_first=True, enforce_sorted=False
    )
    order, unorder = packed.sorted_indices, packed.unsorted_indices
    data, h, c = torch._VF.lstm(
        packed.data,
        packed.batch_sizes,
        (h0[order].unsqueeze(0), c0[order].unsqueeze(0)),
        weights,
        has_bias,
        1,
        0.0,
        train,
        False,
    )
    outputs, _ = rnn_utils.pad_packed_sequence(
        rnn_utils.PackedSequence(data, packed.batch_sizes, order, unorder),
        batch_first=True,
        total_length=inputs.shape[1],
    )
    return outputs, h[0][unorder], c[0][unorder]


def _branch_torch(right_padded, lengths, run_fused, run_reference):
    # Eager: the mask's values are here; pack_padded_sequence refuses empty rows.
    if bool(right_padded) and bool(ops.all(lengths > 0)):
        return run_fused()
    return run_reference()


# ---------------------------------------------------------------------------------------
# TensorFlow: a while_loop with a hand-written gradient.


def _lstm_tensorflow(inputs, h0, c0, kernel, recurrent_kernel, bias, lengths, cell_state_read=True):
    """The fused LSTM in TensorFlow ops: `(outputs, h, c)`, batch first."""
    import tensorflow as tf

    # Read tensors, not variables: tf.custom_gradient differentiates its arguments.
    kernel, recurrent_kernel = (tf.identity(w) for w in (kernel, recurrent_kernel))
    bias = tf.zeros_like(kernel[0]) if bias is None else tf.identity(bias)
    hs, cs = _tf_lstm(tf.transpose(inputs, (1, 0, 2)), h0, c0, kernel, recurrent_kernel, bias)
    return _results_time_major(hs, cs, lengths, tf.transpose)


def _results_time_major(hs, cs, lengths, transpose):
    # (time, batch, units) sequences -> batch-first outputs and each row's last states.
    if lengths is None:
        return transpose(hs, (1, 0, 2)), hs[-1], cs[-1]
    last = ops.maximum(lengths - 1, 0)  # (batch,) a row's last valid step
    rows = ops.arange(ops.shape(lengths)[0], dtype="int32")
    h = _take_steps(hs, last, rows)
    c = _take_steps(cs, last, rows)
    return transpose(hs, (1, 0, 2)), h, c


def _take_steps(sequence, steps, rows):
    # sequence[steps[b], b] for every row b: (time, batch, units) -> (batch, units).
    batch_major = ops.transpose(sequence, (1, 0, 2))  # (batch, time, units)
    index = ops.reshape(steps, (-1, 1, 1))
    return ops.take_along_axis(batch_major, index, axis=1)[:, 0, :]


def _tf_lstm(xs, h0, c0, kernel, recurrent_kernel, bias):
    import tensorflow as tf

    @tf.custom_gradient
    def lstm(xs, h0, c0, kernel, recurrent_kernel, bias):
        timesteps, features = tf.shape(xs)[0], tf.shape(xs)[2]
        # Static sizes where known, so that the outputs keep their static shapes.
        steps = xs.shape[0] if xs.shape[0] is not None else timesteps
        units = tf.shape(recurrent_kernel)[0]
        flat_xs = tf.reshape(xs, (-1, features))  # (time * batch, features)
        projected = tf.reshape(tf.matmul(flat_xs, kernel) + bias, (timesteps, -1, 4 * units))

        def step(t, h, c, hs, cs, gates):
            z = projected[t] + tf.matmul(h, recurrent_kernel)  # (batch, 4 * units)
            z_i, z_f, z_c, z_o = tf.split(z, 4, axis=-1)
            i, f, g, o = tf.sigmoid(z_i), tf.sigmoid(z_f), tf.tanh(z_c), tf.sigmoid(z_o)
            c = f * c + i * g
            h = o * tf.tanh(c)
            ifgo = tf.concat([i, f, g, o], axis=-1)
            return t + 1, h, c, hs.write(t, h), cs.write(t, c), gates.write(t, ifgo)

        arrays = [
            tf.TensorArray(xs.dtype, size=steps, element_shape=shape)
            for shape in (h0.shape, c0.shape, h0.shape[:1] + [4 * recurrent_kernel.shape[0]])
        ]
        _, _, _, hs, cs, gates = tf.while_loop(
            lambda t, *_: t < timesteps,
            step,
            (0, h0, c0, *arrays),
            maximum_iterations=timesteps,
        )
        hs, cs, gates = hs.stack(), cs.stack(), gates.stack()  # (time, batch, ...)

        def gradient(d_hs, d_cs):
            # Gathers hand back IndexedSlices; an unused output, None.
            d_hs = tf.zeros_like(hs) if d_hs is None else tf.convert_to_tensor(d_hs)
            d_cs = tf.zeros_like(cs) if d_cs is None else tf.convert_to_tensor(d_cs)
            h_prev = tf.concat([h0[None], hs[:-1]], axis=0)  # (time, batch, units)
            c_prev = tf.concat([c0[None], cs[:-1]], axis=0)
            i, f, g, o = tf.split(gates, 4, axis=-1)
            tanh_c = tf.tanh(cs)
            # dc_t = dc_(t+1) f_(t+1) + dh_t o_t (1 - tanh^2 c_t) + d_cs_t, and
            # dz_t = [dc i', dc f', dc g', dh o'] with each gate's local derivative:
            # everything but dh_t = d_hs_t + dz_(t+1) U^T is known before the loop.
            through_h = o * (1 - tanh_c * tanh_c)
            local = tf.concat(
                [g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g), tanh_c * o * (1 - o)],
                axis=-1,
            )  # (time, batch, 4 * units)
            next_f = tf.concat([f[1:], tf.zeros_like(f[:1])], axis=0)
            recurrent_t = tf.transpose(recurrent_kernel)

            def back_step(t, dz_next, dc_next, dzs):
                dh = d_hs[t] + tf.matmul(dz_next, recurrent_t)
                dc = dc_next * next_f[t] + dh * through_h[t] + d_cs[t]
                dz = tf.concat([dc, dc, dc, dh], axis=-1) * local[t]
                return t - 1, dz, dc, dzs.write(t, dz)

            dzs = tf.TensorArray(xs.dtype, size=steps, element_shape=gates.shape[1:])
            _, dz_0, dc_0, dzs = tf.while_loop(
                lambda t, *_: t >= 0,
                back_step,
                (timesteps - 1, tf.zeros_like(gates[0]), tf.zeros_like(c0), dzs),
                maximum_iterations=timesteps,
            )
            dz = tf.reshape(dzs.stack(), (-1, 4 * units))  # (time * batch, 4 * units)
            d_xs = tf.reshape(tf.matmul(dz, kernel, transpose_b=True), tf.shape(xs))
            d_kernel = tf.matmul(flat_xs, dz, transpose_a=True)
            d_recurrent = tf.matmul(tf.reshape(h_prev, (-1, units)), dz, transpose_a=True)
            d_bias = tf.reduce_sum(dz, axis=0)
            d_h0 = tf.matmul(dz_0, recurrent_t)
            d_c0 = dc_0 * f[0]
            return d_xs, d_h0, d_c0, d_kernel, d_recurrent, d_bias

        return (hs, cs), gradient

    return lstm(xs, h0, c0, kernel, recurrent_kernel, bias)


def _branch_tensorflow(right_padded, lengths, run_fused, run_reference):
    import tensorflow as tf

    return tf.cond(right_padded, run_fused, run_reference)


# ---------------------------------------------------------------------------------------
# JAX: the reference step, rematerialized.

# What the backward pass keeps of each step (the rest it recomputes), and whether
# jax.checkpoint guards the recomputation against XLA's CSE (inside a scan it need
# not). Measured by benchmarks/lstm_speed.py: saving nothing is the fastest.
_JAX_SAVED = "nothing_saveable"
_JAX_PREVENT_CSE = True


def _jax_inner_loop(layer, sequences, initial_state, mask, training, reference):
    """The reference loop with its step under `jax.checkpoint`.

    The same operations as the reference, so the same numbers, and any mask. By
    default reverse-mode autodiff saves every intermediate of every step for the
    backward pass; XLA's CPU loop is faster keeping only the matrix products and
    recomputing the gate activations from them.
    """
    import jax

    cell = layer.cell

    def step(inputs, states):
        h, (_, c) = cell.call(inputs, states, training=training)  # (batch, units) each
        return h, [h, c]

    policy = getattr(jax.checkpoint_policies, _JAX_SAVED)
    return _keras_rnn_loop(
        jax.checkpoint(step, policy=policy, prevent_cse=_JAX_PREVENT_CSE),
        sequences,
        list(initial_state),
        go_backwards=layer.go_backwards,
        mask=mask,
        unroll=False,
        input_length=sequences.shape[1],
        zero_output_for_mask=layer.zero_output_for_mask,
        return_all_outputs=layer.return_sequences,
    )


_KERNELS = {"torch": _lstm_torch, "tensorflow": _lstm_tensorflow}
_BRANCH = {"torch": _branch_torch, "tensorflow": _branch_tensorflow}
_FAST_PATHS = {
    "torch": _fused_kernel_loop,
    "jax": _jax_inner_loop,
}
# Fast paths that equal the reference (tests/test_fused.py runs them) but were measured
# slower than it: off, so the layer runs the reference there. TensorFlow's while_loop
# with a hand-written gradient took 1.05x the reference's training step (95 % interval
# 1.02x to 1.09x), the two in one process timed in turns as lesson 11 timed then (an
# untimed step per turn, the opener rotated, not yet the balanced order; 16 rounds of 2
# steps; batch 64 x 50 steps x 2 features -> 64 units, one thread, one CPU core).
# (The 1.6x noted here before was timed in a fixed order, the fast path opening every
# round and paying the switch between contenders: lesson 11's timing read 1.3x between
# two copies of the same code that way.) With the rotated opener two copies of the same
# code measured 1.02x to 1.03x apart, so the 1.05x reads "not faster", no more.
_MEASURED_SLOWER = {"tensorflow": _fused_kernel_loop}
