"""Gradients on every backend: the one module of lstmkit that branches on the backend.

Keras 3 has no backend-neutral gradient function (each trainer uses its backend's
own), and the lessons need one: the norm of dh_T/dh_t through time (notebooks 01
and 02) and per-layer gradient norms while training (notebook 10).

    value, grads = gradients(fn, x, y)           # d fn(x, y) / dx, d fn(x, y) / dy
    value, grads = weight_gradients(fn, model.trainable_variables)

`fn` returns a scalar tensor. The three branches below do the same thing with
their backend's tool: a GradientTape, `jax.value_and_grad`, `torch.autograd.grad`.
Variables that `fn` assigns (a stateful layer's state, a dropout seed) end up
assigned on every backend, as after a forward pass.
"""

import keras
import numpy as np
from keras import ops


class _UpdateRecordingScope(keras.StatelessScope):
    """A StatelessScope that remembers which variables were assigned inside it.

    JAX traces `fn`, so a variable assignment inside it (a stateful layer's
    carried state, a dropout seed) cannot happen in place; it is recorded here
    and applied once the gradient is computed, as TensorFlow and torch apply it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.updated = []

    def add_update(self, update):
        super().add_update(update)
        if all(update[0] is not v for v in self.updated):
            self.updated.append(update[0])


def _jax_value_and_grad(function, arguments, state_mapping=None):
    """`jax.value_and_grad` of `function(*arguments)`, applying variable updates after."""
    import jax

    updated = []

    def traced(*values):
        mapping = state_mapping(values) if state_mapping else None
        with _UpdateRecordingScope(state_mapping=mapping, collect_losses=True) as scope:
            out = function(*values)
        _check_scalar(out)
        updated[:] = scope.updated
        return out, [scope.get_current_value(v) for v in scope.updated]

    argnums = tuple(range(len(arguments)))
    (value, new_values), grads = jax.value_and_grad(traced, argnums=argnums, has_aux=True)(
        *arguments
    )
    for variable, new_value in zip(updated, new_values):
        variable.assign(new_value)
    return value, grads


def _float_dtype(value):
    """The array's own float dtype (float64 stays float64), floatx for the rest."""
    dtype = getattr(value, "dtype", None)
    name = keras.backend.standardize_dtype(dtype) if dtype is not None else ""
    return name if name.startswith(("float", "bfloat")) else keras.config.floatx()


def _check_scalar(value):
    if len(ops.shape(value)) != 0:
        raise ValueError(
            f"The function must return a scalar, received shape {tuple(ops.shape(value))}; "
            "reduce it first (e.g. with ops.sum)."
        )


def gradients(fn, *tensors):
    """Value and gradients of a scalar function with respect to its tensor arguments.

    Args:
        fn: A function of `len(tensors)` tensors returning a scalar tensor, written
            with `keras.ops` (it may call Keras layers).
        *tensors: The points to differentiate at (arrays or tensors). Float64
            stays float64 where the backend computes in it (JAX only with
            `jax_enable_x64`); other dtypes become `keras.config.floatx()`.

    Returns:
        `(value, grads)`: the scalar as a float, and one NumPy array per tensor,
        shaped like it.
    """
    if not tensors:
        raise ValueError("gradients(fn, *tensors) needs at least one tensor to differentiate by.")
    tensors = [ops.convert_to_tensor(t, dtype=_float_dtype(t)) for t in tensors]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(tensors)
            value = fn(*tensors)
        _check_scalar(value)
        grads = tape.gradient(value, tensors)
    elif backend == "jax":
        value, grads = _jax_value_and_grad(fn, tensors)
    elif backend == "torch":
        import torch

        tensors = [t.detach().requires_grad_(True) for t in tensors]
        value = fn(*tensors)
        _check_scalar(value)
        grads = torch.autograd.grad(value, tensors, allow_unused=True)
    else:
        raise NotImplementedError(f"lstmkit.gradients has no branch for backend {backend!r}.")
    return float(ops.convert_to_numpy(value)), [_to_numpy(g, t) for g, t in zip(grads, tensors)]


def weight_gradients(fn, variables):
    """Value and gradients of a scalar function with respect to Keras variables.

    Args:
        fn: A function of no arguments returning a scalar tensor computed with the
            variables (e.g. `lambda: loss_fn(y, model(x))`).
        variables: The `keras.Variable`s to differentiate by (e.g.
            `model.trainable_variables`).

    Returns:
        `(value, grads)`: the scalar as a float and one NumPy array per variable.
    """
    variables = list(variables)
    if not variables:
        raise ValueError("weight_gradients needs at least one variable.")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch([v.value for v in variables])
            value = fn()
        _check_scalar(value)
        grads = tape.gradient(value, [v.value for v in variables])
    elif backend == "jax":
        # JAX differentiates functions of values, not stateful variables: the
        # StatelessScope makes the variables read the values being traced, and
        # collects what layers `add_loss` (activity regularisers) so that
        # `model.losses` sees it, as on the other backends.
        value, (grads,) = _jax_value_and_grad(
            lambda values: fn(),
            [[v.value for v in variables]],
            state_mapping=lambda args: list(zip(variables, args[0])),
        )
    elif backend == "torch":
        import torch

        value = fn()
        _check_scalar(value)
        grads = torch.autograd.grad(value, [v.value for v in variables], allow_unused=True)
    else:
        raise NotImplementedError(f"lstmkit.gradients has no branch for backend {backend!r}.")
    return float(ops.convert_to_numpy(value)), [_to_numpy(g, v) for g, v in zip(grads, variables)]


def _to_numpy(grad, like):
    """A gradient as NumPy; zeros where the function did not depend on the input, in
    the input's dtype (as the gradient of a used input of that dtype would be)."""
    if grad is None:
        dtype = keras.backend.standardize_dtype(like.dtype)
        return ops.convert_to_numpy(ops.zeros(ops.shape(like), dtype=dtype))
    if hasattr(grad, "detach"):
        grad = grad.detach()
    return ops.convert_to_numpy(grad)


def global_norm(grads):
    """The L2 norm of a list of gradient arrays taken together, computed in float64 (the
    square of a float32 entry above about 2e19, an exploding gradient, overflows)."""
    return float(np.sqrt(sum(float(np.sum(np.square(np.asarray(g, "float64")))) for g in grads)))
