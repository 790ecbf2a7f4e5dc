"""The models and measurements of lesson 10 (training techniques), shared with its solutions.

    adding_model            LSTM stack -> [Dropout] -> Dense(1) in float32, on the adding problem
    recurrent_model         SimpleRNN or LSTM whose recurrent kernel is orthogonal * a radius
    gradient_norms          ||d MSE / d weights|| per named layer and over all weights
    RecurrentKernelSteps    a callback that keeps the recurrent kernel after every step
    noisy_adding_splits     a small training set with noisy targets, clean validation and test
    fit_and_score           one training run: its history and its per-example test errors
    squared_errors          a model's squared error on each example of a split
    zero_gradient_fraction  the share of a layer's gradient entries that are exactly zero

The lesson shows what each does and why; its exercises' worked solutions call the same
functions, so the lesson and the solutions cannot drift apart.
"""

import keras
import numpy as np
from keras import ops

import lstmkit
from lstmkit.datasets import make_adding_problem
from lstmkit.gradients import global_norm, weight_gradients


def adding_model(units=32, layers=1, length=30, head_dropout=0.0, **lstm_arguments):
    """Input `(batch, length, 2)` -> `layers` stacked `lstmkit.LSTM` -> [Dropout] -> Dense(1).

    The layers are named `lstm_0`, `lstm_1`, ... and `head`. The head always computes in
    float32 (`dtype="float32"`), as Keras's mixed-precision guide keeps the output layer.

    Args:
        units: Units of every LSTM layer.
        layers: How many LSTM layers; all but the last return sequences.
        length: Steps of the input sequences.
        head_dropout: Rate of a `Dropout` layer on the last LSTM's output; 0 for none.
        **lstm_arguments: Passed to every `lstmkit.LSTM` (`dropout`, `recurrent_dropout`,
            `dtype`, initialisers, ...).

    Returns:
        A `keras.Model`.
    """
    inputs = keras.Input((length, 2))
    hidden = inputs
    for depth in range(layers):
        last = depth == layers - 1
        layer = lstmkit.LSTM(
            units, return_sequences=not last, name=f"lstm_{depth}", **lstm_arguments
        )
        hidden = layer(hidden)  # (batch, units), or (batch, length, units) below the last layer
    if head_dropout:
        hidden = keras.layers.Dropout(head_dropout, name="head_dropout")(hidden)
    outputs = keras.layers.Dense(1, name="head", dtype="float32")(hidden)  # (batch, 1)
    return keras.Model(inputs, outputs)


def recurrent_model(spectral_radius, kind="SimpleRNN", units=32, head_initializer="glorot_uniform"):
    """Input `(batch, time, 2)` -> SimpleRNN or LSTM -> Dense(1), for the explosion through time.

    The recurrent kernel starts orthogonal times `spectral_radius`: a SimpleRNN's `(n, n)`
    kernel then has every singular value (and every eigenvalue's modulus) equal to it; an
    LSTM's `(n, 4n)` kernel gets orthonormal rows times it. The layers are named
    `recurrent` and `head`; the input length is free.

    Args:
        spectral_radius: The gain of the orthogonal recurrent initialiser.
        kind: `"SimpleRNN"` (lstmkit's, Keras's math) or `"LSTM"` (`lstmkit.LSTM`).
        units: Units of the recurrent layer.
        head_initializer: Initialiser of the head's kernel (`"zeros"` makes every run
            start from the same prediction, 0, whatever the length).

    Returns:
        A `keras.Model`.
    """
    if kind not in ("SimpleRNN", "LSTM"):
        raise ValueError(f"Argument `kind` must be 'SimpleRNN' or 'LSTM', received {kind!r}.")
    recurrent_initializer = keras.initializers.Orthogonal(gain=spectral_radius)
    layer_class = lstmkit.SimpleRNN if kind == "SimpleRNN" else lstmkit.LSTM
    inputs = keras.Input((None, 2))
    hidden = layer_class(units, recurrent_initializer=recurrent_initializer, name="recurrent")(
        inputs
    )  # (batch, units)
    outputs = keras.layers.Dense(1, kernel_initializer=head_initializer, name="head")(hidden)
    return keras.Model(inputs, outputs)


def gradient_norms(model, x, y, layer_names=("recurrent", "head")):
    """Norms of the gradient of the MSE on `(x, y)` with respect to the model's weights.

    Args:
        model: A Keras model.
        x, y: The batch the MSE is taken on.
        layer_names: The layers whose weights' gradient norm is reported separately.

    Returns:
        A dict: each layer name -> the norm of its weights' gradient, and `"all"` -> the
        norm over all trainable weights together.
    """
    target = ops.convert_to_tensor(y)
    variables = model.trainable_variables
    _, grads = weight_gradients(lambda: ops.mean(ops.square(model(x) - target)), variables)
    grad_of = {id(v): g for v, g in zip(variables, grads)}
    norms = {
        name: global_norm([grad_of[id(v)] for v in model.get_layer(name).trainable_variables])
        for name in layer_names
    }
    return {**norms, "all": global_norm(grads)}


class RecurrentKernelSteps(keras.callbacks.Callback):
    """Keeps the recurrent kernel of layer `layer_name` at the start and after every step.

    With plain SGD at rate `eta`, the step is `-eta * g`, so
    `norm(kernels[k + 1] - kernels[k]) / eta` is the norm of the gradient applied at step
    `k + 1`: the raw one without clipping, the clipped one with it.

    Attributes:
        kernels: NumPy copies of the kernel, one more than the steps taken.
    """

    def __init__(self, layer_name="recurrent"):
        super().__init__()
        self.layer_name = layer_name
        self.kernels = []

    def on_train_begin(self, logs=None):
        self.kernels = [self._kernel()]

    def on_train_batch_end(self, batch, logs=None):
        self.kernels.append(self._kernel())

    def _kernel(self):
        # self.model gives the current values on every backend (JAX syncs them).
        cell = self.model.get_layer(self.layer_name).cell
        return ops.convert_to_numpy(cell.recurrent_kernel)

    def applied_norms(self, rate):
        """The norm of the gradient applied to the kernel at each step, for SGD at `rate`."""
        steps = np.diff(np.stack(self.kernels), axis=0)  # (steps, n, 4n) or (steps, n, n)
        return np.linalg.norm(steps.reshape(len(steps), -1), axis=1) / rate


def noisy_adding_splits(train_size, length, noise_std, seed, validation_size=256, test_size=512):
    """A small adding-problem training set with noisy targets, and clean held-out splits.

    The training targets carry Gaussian noise of standard deviation `noise_std`, for a
    model to memorise; the validation and test targets are clean, so their MSE measures
    the rule learned. Each split has its own seed (`seed + 2`, `+ 4`, `+ 9`; the noise
    `seed + 3`).

    Returns:
        A dict of `(x, y)` pairs: `"train"`, `"validation"`, `"test"`; x float32
        `(n, length, 2)`, y float32 `(n, 1)`.
    """
    x_train, y_train = make_adding_problem(train_size, length=length, seed=seed + 2)
    noise = np.random.default_rng(seed + 3).normal(0.0, noise_std, size=y_train.shape)
    y_train = (y_train + noise).astype("float32")  # (train_size, 1)
    return {
        "train": (x_train, y_train),
        "validation": make_adding_problem(validation_size, length=length, seed=seed + 4),
        "test": make_adding_problem(test_size, length=length, seed=seed + 9),
    }


def fit_and_score(model, optimizer, splits, epochs, batch_size, label, callbacks=()):
    """Trains `model` on `splits["train"]`, validating each epoch; scores it on the test split.

    Args:
        model: A fresh Keras model.
        optimizer: Its optimizer.
        splits: As `noisy_adding_splits` returns.
        epochs, batch_size: For `fit`.
        label: The progress line's label.
        callbacks: More callbacks (`EarlyStopping`, `WeightStatistics`, ...); they run
            before the progress line.

    Returns:
        A dict: `history` (Keras's history dict), `test_errors` (the squared error on
        each test example of the weights the run ends with, `(test_size,)`), `test`
        (their mean) and `model`.
    """
    model.compile(optimizer=optimizer, loss="mse")
    history = model.fit(
        *splits["train"],
        batch_size=batch_size,
        epochs=epochs,
        validation_data=splits["validation"],
        validation_batch_size=len(splits["validation"][0]),
        verbose=0,
        callbacks=[*callbacks, lstmkit.callbacks.ProgressLine(label)],
    )
    errors = squared_errors(model, *splits["test"])  # (test_size,)
    return {
        "history": history.history,
        "test_errors": errors,
        "test": float(errors.mean()),
        "model": model,
    }


def squared_errors(model, x, y, weights=None):
    """The squared error of `model` on each example of `(x, y)`, in float64.

    Args:
        model: A model with one output per example.
        x, y: The examples, `(examples, steps, 2)` and `(examples, 1)`.
        weights: Optional weights (as `get_weights` returns) to score instead of the
            model's own; the model's own are put back afterwards.

    Returns:
        A NumPy array `(examples,)`.
    """
    own = None
    if weights is not None:
        own = model.get_weights()
        model.set_weights(weights)
    # A plain call, not predict_on_batch: on TensorFlow each new model's predict function is
    # traced anew, and a lesson that scores several models gets retracing warnings.
    predictions = ops.convert_to_numpy(model(x, training=False))  # (examples, 1)
    if own is not None:
        model.set_weights(own)
    return np.square(predictions.astype("float64") - y).ravel()  # (examples,)


def zero_gradient_fraction(model, x, y, layer_name, loss_weight=1.0, loss_scale=1.0):
    """The share of exactly-zero entries in a layer's gradient of `loss_weight * MSE`.

    The loss is multiplied by `loss_scale` before differentiating and the gradient
    divided by it afterwards, in float32 — what `keras.optimizers.LossScaleOptimizer`
    does with its current scale. Under a `mixed_float16` policy the backward pass through
    the layer runs in float16, whose smallest positive number is 2**-24 (about 6e-8):
    smaller gradient entries become exactly 0 there, and dividing afterwards cannot
    bring them back.

    Args:
        model: A Keras model.
        x, y: The batch.
        layer_name: The layer whose trainable weights' gradient is inspected.
        loss_weight: A factor on the MSE (a small one makes the gradient small).
        loss_scale: The loss scale; 1 for none.

    Returns:
        `(fraction, gradients)`: the share of zero entries over all the layer's trainable
        weights, and the unscaled float32 gradients as NumPy arrays.
    """
    target = ops.convert_to_tensor(y, dtype="float32")
    variables = model.get_layer(layer_name).trainable_variables

    def scaled_loss():
        prediction = ops.cast(model(x), "float32")  # (batch, 1)
        return loss_scale * loss_weight * ops.mean(ops.square(prediction - target))

    _, grads = weight_gradients(scaled_loss, variables)
    grads = [np.asarray(g, dtype="float32") / np.float32(loss_scale) for g in grads]
    entries = np.concatenate([g.ravel() for g in grads])
    return float(np.mean(entries == 0)), grads
