"""Gradients on every backend: the one module of lstmkit that branches on the backend.

Keras 3 has no backend-neutral gradient function (each trainer uses its backend's
own), and the lessons need one: the norm of dh_T/dh_t through time (notebooks 01
and 02) and per-layer gradient norms while training (notebook 10).

    value, grads = gradients(fn, x, y)           # d fn(x, y) / dx, d fn(x, y) / dy
    value, grads = weight_gradients(fn, model.trainable_variables)

`fn` returns a scalar tensor. The three branches below do the same thing with
their backend's tool: a GradientTape, `jax.value_and_grad`, `torch.autograd.grad`.
"""

import keras
from keras import ops


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
        *tensors: The points to differentiate at (arrays or tensors; float).

    Returns:
        `(value, grads)`: the scalar as a float, and one NumPy array per tensor,
        shaped like it.
    """
    if not tensors:
        raise ValueError("gradients(fn, *tensors) needs at least one tensor to differentiate by.")
    tensors = [ops.convert_to_tensor(t, dtype=keras.config.floatx()) for t in tensors]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(tensors)
            value = fn(*tensors)
        _check_scalar(value)
        grads = tape.gradient(value, tensors)
    elif backend == "jax":
        import jax

        def checked(*args):
            out = fn(*args)
            _check_scalar(out)
            return out

        value, grads = jax.value_and_grad(checked, argnums=tuple(range(len(tensors))))(*tensors)
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
        import jax

        # JAX differentiates functions of values, not stateful variables: the
        # StatelessScope makes the variables read the values being traced, and
        # collects what layers `add_loss` (activity regularisers) so that
        # `model.losses` sees it, as on the other backends.
        def of_values(values):
            mapping = list(zip(variables, values))
            with keras.StatelessScope(state_mapping=mapping, collect_losses=True):
                out = fn()
            _check_scalar(out)
            return out

        value, grads = jax.value_and_grad(of_values)([v.value for v in variables])
    elif backend == "torch":
        import torch

        value = fn()
        _check_scalar(value)
        grads = torch.autograd.grad(value, [v.value for v in variables], allow_unused=True)
    else:
        raise NotImplementedError(f"lstmkit.gradients has no branch for backend {backend!r}.")
    return float(ops.convert_to_numpy(value)), [_to_numpy(g, v) for g, v in zip(grads, variables)]


def _to_numpy(grad, like):
    """A gradient as NumPy; zeros where the function did not depend on the input."""
    if grad is None:
        return ops.convert_to_numpy(ops.zeros(ops.shape(like), dtype=keras.config.floatx()))
    if hasattr(grad, "detach"):
        grad = grad.detach()
    return ops.convert_to_numpy(grad)


def global_norm(grads):
    """The L2 norm of a list of gradient arrays taken together."""
    import numpy as np

    return float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))
