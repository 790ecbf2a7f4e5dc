"""Callbacks the lessons use that Keras does not have.

Keras already has EarlyStopping, ReduceLROnPlateau, ModelCheckpoint, TerminateOnNaN
and CSVLogger; the lessons use those. These add measurements:

    GradientNormHistory   per-layer gradient norms on a probe batch, while training
    StepTimer             seconds per training step and per epoch
    WeightStatistics      mean, std, min and max of each layer's weights per epoch
    LearningRateHistory   the optimizer's learning rate per epoch
"""

import time

import keras
import numpy as np
from keras import ops

from lstmkit.gradients import global_norm, weight_gradients


def _layers_with_weights(model):
    return [layer for layer in model.layers if layer.trainable_variables]


class GradientNormHistory(keras.callbacks.Callback):
    """Records the gradient norm of each layer on a fixed probe batch.

    Keras's `fit` does not expose its gradients, so this callback computes them
    again on `(x, y)` with the model's loss, every `every` batches (and at the end
    of each epoch when `every` is None).

    Args:
        x, y: A probe batch (kept small: it costs one extra forward/backward).
        every: Record every this many training batches; `None` for once per epoch.
        loss: The loss to differentiate; default the compiled model's loss.

    Attributes:
        history: `{layer_name: [norm, ...]}` and `"global"` for all weights together.
        steps: The training step of each record.
    """

    def __init__(self, x, y, every=None, loss=None):
        super().__init__()
        self.x, self.y, self.every, self.loss = x, y, every, loss
        self.history, self.steps = {}, []
        self._step = 0

    def on_train_begin(self, logs=None):
        self.history, self.steps, self._step = {}, [], 0

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self.every and self._step % self.every == 0:
            self._record()

    def on_epoch_end(self, epoch, logs=None):
        if not self.every:
            self._record()

    def _record(self):
        model = self.model
        loss_fn = keras.losses.get(self.loss or model.loss)
        layers = _layers_with_weights(model)
        variables = [v for layer in layers for v in layer.trainable_variables]

        def loss():
            return ops.mean(loss_fn(self.y, model(self.x, training=False)))

        _, grads = weight_gradients(loss, variables)
        start = 0
        for layer in layers:
            count = len(layer.trainable_variables)
            self.history.setdefault(layer.name, []).append(
                global_norm(grads[start : start + count])
            )
            start += count
        self.history.setdefault("global", []).append(global_norm(grads))
        self.steps.append(self._step)


class StepTimer(keras.callbacks.Callback):
    """Seconds per training step and per epoch.

    Attributes:
        step_seconds: Every step's wall time, in order.
        epoch_seconds: Every epoch's wall time.
    """

    def __init__(self):
        super().__init__()
        self.step_seconds, self.epoch_seconds = [], []

    def on_train_begin(self, logs=None):
        self.step_seconds, self.epoch_seconds = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        self._step_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.step_seconds.append(time.perf_counter() - self._step_start)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._epoch_start)

    def median_step_seconds(self, skip_first=1):
        """Median step time, skipping the first steps (compilation)."""
        steps = self.step_seconds[skip_first:] or self.step_seconds
        if not steps:
            raise ValueError("StepTimer has no steps recorded; pass it to fit(callbacks=[...]).")
        return float(np.median(steps))


class WeightStatistics(keras.callbacks.Callback):
    """Mean, standard deviation, min and max of every weight, at each epoch's end.

    Attributes:
        history: `{weight_path: {"mean": [...], "std": [...], "min": [...], "max": [...]}}`.
    """

    def __init__(self):
        super().__init__()
        self.history = {}

    def on_train_begin(self, logs=None):
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        for variable in self.model.weights:
            value = ops.convert_to_numpy(variable)
            stats = self.history.setdefault(
                variable.path, {"mean": [], "std": [], "min": [], "max": []}
            )
            stats["mean"].append(float(value.mean()))
            stats["std"].append(float(value.std()))
            stats["min"].append(float(value.min()))
            stats["max"].append(float(value.max()))


class LearningRateHistory(keras.callbacks.Callback):
    """The optimizer's learning rate at the end of each epoch (schedules included).

    Attributes:
        rates: One float per epoch.
    """

    def __init__(self):
        super().__init__()
        self.rates = []

    def on_train_begin(self, logs=None):
        self.rates = []

    def on_epoch_end(self, epoch, logs=None):
        rate = self.model.optimizer.learning_rate
        self.rates.append(float(ops.convert_to_numpy(rate)))
