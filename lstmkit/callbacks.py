"""Callbacks the lessons use that Keras does not have.

Keras already has EarlyStopping, ReduceLROnPlateau, ModelCheckpoint, TerminateOnNaN
and CSVLogger; the lessons use those. These add a progress line and measurements:

    ProgressLine          one line per `fit`, updated in place: label, epoch, losses, seconds
    GradientNormHistory   per-layer gradient norms of the training loss on a probe batch
    StepTimer             seconds per training step and per epoch
    WeightStatistics      mean, std, min and max of each layer's weights per epoch
    LearningRateHistory   the optimizer's learning rate per epoch
    StopWhenBelow         ends a fit once a metric is below a threshold (the task is solved)
    TimeBudget            trains for a wall-clock budget, the rate following the clock
                          (`warmup_cosine`), evaluating at intervals off the clock
"""

import contextlib
import sys
import time

import keras
import numpy as np
from keras import ops

from lstmkit.gradients import global_norm, weight_gradients


def _layers_with_weights(model):
    return [layer for layer in model.layers if layer.trainable_variables]


def _torch_random_state_kept():
    """On PyTorch, unseeded Keras dropout draws from torch's global generator: a context
    that gives its state back on exit. Elsewhere nothing (Keras's seed states are
    model variables)."""
    if keras.backend.backend() != "torch":
        return contextlib.nullcontext()
    import torch

    cuda_devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    return torch.random.fork_rng(devices=cuda_devices)


def _jupyter_display():
    """IPython's `display` under a Jupyter kernel, else None (a terminal, a script)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if getattr(shell, "kernel", None) is None:  # plain or terminal IPython: no display updates
        return None
    from IPython.display import display

    return display


class ProgressLine(keras.callbacks.Callback):
    """One line per `fit` that updates in place: a label, the epoch, the losses and metrics,
    and at the end the seconds the fit took.

    For cells that train several models in a loop, where Keras's progress bar would
    print a screen per model and `verbose=0` would leave the cell silent:

    ```python
    for units in [16, 64]:
        model = make_model(units)
        model.fit(x, y, epochs=20, validation_split=0.2, verbose=0,
                  callbacks=[lstmkit.callbacks.ProgressLine(f"LSTM {units}")])
    ```

    While a fit runs its line shows the step within the epoch and the running
    training loss; once it is over, it reads

    ```
    LSTM 16  epoch 20/20  loss 0.02131  val_loss 0.02502  8.1 s
    LSTM 64  epoch 20/20  loss 0.01022  val_loss 0.01314  11.4 s
    ```

    (an early-stopped fit shows the epoch it stopped at, e.g. `epoch 14/20`). Under a
    Jupyter kernel the line is one display output, updated, so an executed notebook
    keeps exactly one line per fit; elsewhere it is rewritten with carriage returns
    and ended with a newline. Pass `verbose=0` to `fit`, or Keras prints its own
    progress as well.

    Args:
        label: What is being trained, written first (e.g. `"LSTM 64"`).
        every_seconds: Within an epoch, update at most this often; the end of each
            epoch is always shown.
        display: A function like `IPython.display.display` (called with
            `display_id=True`, it returns a handle with `.update`); default IPython's
            under a Jupyter kernel, and the stream elsewhere.
        stream: Where to write when there is no display; default `sys.stdout`.

    Attributes:
        text: The line as last shown.
        seconds: How long the last `fit` took (set when it ends).
    """

    def __init__(self, label="", every_seconds=0.5, display=None, stream=None):
        super().__init__()
        self.label, self.every_seconds = label, every_seconds
        self._display, self._stream = display, stream
        self.text, self.seconds = "", None

    def on_train_begin(self, logs=None):
        self._start = self._last_shown = time.perf_counter()
        self._epoch, self._epoch_logs = 0, {}
        self._handle, self._width = None, 0
        self._display_now = self._display or _jupyter_display()
        self._show(self._line(self._epoch_text(), "starting"))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if now - self._last_shown < self.every_seconds:
            return
        steps = self.params.get("steps")
        step = f"step {batch + 1}/{steps}" if steps else f"step {batch + 1}"
        running = _format_logs(logs, skip_validation=True)  # the epoch's running means
        self._show(self._line(self._epoch_text(), step, running, f"{now - self._start:.0f} s"))

    def on_epoch_end(self, epoch, logs=None):
        self._epoch_logs = dict(logs or {})
        elapsed = time.perf_counter() - self._start
        self._show(self._line(self._epoch_text(), _format_logs(logs), f"{elapsed:.0f} s"))

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self._start
        summary = _format_logs(self._epoch_logs)
        self._show(self._line(self._epoch_text(), summary, f"{self.seconds:.1f} s"), end=True)

    def _epoch_text(self):
        return f"epoch {self._epoch}/{self.params.get('epochs', '?')}"

    def _line(self, *parts):
        return "  ".join(part for part in (self.label, *parts) if part)

    def _show(self, text, end=False):
        self.text = text
        self._last_shown = time.perf_counter()
        display = self._display_now
        if display is not None:
            bundle = {"text/plain": text}
            if self._handle is None:
                self._handle = display(bundle, raw=True, display_id=True)
            else:
                self._handle.update(bundle, raw=True)
            return
        stream = self._stream or sys.stdout
        padding = " " * max(0, self._width - len(text))  # wipe the end of a longer line
        stream.write("\r" + text + padding + ("\n" if end else ""))
        stream.flush()
        self._width = len(text)


def _format_logs(logs, skip_validation=False):
    """`loss 0.1234  val_loss 0.2345  ...`: every number Keras logged, in its order."""
    parts = []
    for name, value in (logs or {}).items():
        if skip_validation and name.startswith("val_"):
            continue
        try:
            parts.append(f"{name} {float(value):.4g}")
        except (TypeError, ValueError):  # not a number: leave it out
            continue
    return "  ".join(parts)


class GradientNormHistory(keras.callbacks.Callback):
    """Records the norm of the training gradient, per layer, on a fixed probe batch.

    Keras's `fit` does not expose its gradients, so this callback computes them
    again on `(x, y)`, every `every` batches (and at the end of each epoch when
    `every` is None). It differentiates what `fit` differentiates: the model's
    `compute_loss` on `model(x, training=True)` — the compiled loss plus
    `model.losses` (weight and activity regularisers, `add_loss`), with dropout
    active — before the optimizer's clipping. So the norms are those a clipping
    threshold is compared with, on the probe batch rather than on each training
    batch. The probe leaves no trace: random seeds, BatchNorm statistics, RNN
    states and metrics are restored afterwards, so training runs as without it.

    Args:
        x, y: A probe batch (kept small: it costs one extra forward/backward).
            A stateful model needs its fixed batch size here.
        every: Record every this many training batches; `None` for once per epoch.
        loss: A loss to use instead of the compiled one (name or function of
            `(y_true, y_pred)`, averaged over the batch); `model.losses` are
            added to it all the same.

    Attributes:
        history: `{layer_name: [norm, ...]}` for each layer with trainable
            weights, and `"global"` for all trainable weights together.
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

    def _training_loss(self):
        """The scalar `fit` differentiates, on the probe batch."""
        model = self.model
        y_pred = model(self.x, training=True)
        if self.loss is None:
            return model.compute_loss(x=self.x, y=self.y, y_pred=y_pred, training=True)
        total = ops.mean(keras.losses.get(self.loss)(self.y, y_pred))
        for extra in model.losses:
            total = total + ops.sum(extra)
        return total

    def _record(self):
        model = self.model
        variables = model.trainable_variables
        # The training-mode pass draws dropout masks, moves BatchNorm statistics and
        # RNN states and may update loss trackers: put them back as they were.
        kept = [(v, ops.convert_to_numpy(v)) for v in model.non_trainable_variables]
        kept += [(v, ops.convert_to_numpy(v)) for v in model.metrics_variables]
        try:
            with _torch_random_state_kept():
                _, grads = weight_gradients(self._training_loss, variables)
        finally:
            for variable, value in kept:
                variable.assign(value)
        grad_of = {id(v): g for v, g in zip(variables, grads)}
        for layer in _layers_with_weights(model):
            layer_grads = [grad_of[id(v)] for v in layer.trainable_variables if id(v) in grad_of]
            self.history.setdefault(layer.name, []).append(global_norm(layer_grads))
        self.history.setdefault("global", []).append(global_norm(grads))
        self.steps.append(self._step)


class StepTimer(keras.callbacks.Callback):
    """Seconds per training step and per epoch.

    A step's time is the model's train function alone, wherever the timer stands in
    the callbacks list: the forward and backward pass and the update (on TensorFlow
    also taking the batch from the dataset, which its step function does itself).
    Keras runs the callbacks' hooks in list order, so a time taken from
    `on_train_batch_begin` to `on_train_batch_end` would also count every hook run
    in between: the start hooks of the callbacks listed after the timer and the end
    hooks of those listed before it (a `GradientNormHistory` probe, a progress
    line). Instead, the timer wraps `model.train_function` (which `fit` makes
    before `on_train_begin`) for the length of the fit and waits for each call's
    results, so asynchronous dispatch (JAX, a GPU) is not mistaken for the work.

    Attributes:
        step_seconds: Every step's wall time, in order (one per train-function
            call: one batch, or `steps_per_execution` batches).
        epoch_seconds: Every epoch's wall time, callbacks and validation included.
    """

    def __init__(self):
        super().__init__()
        self.step_seconds, self.epoch_seconds = [], []
        self._untimed = None

    def on_train_begin(self, logs=None):
        self.step_seconds, self.epoch_seconds = [], []
        function = self.model.train_function
        # After a fit that stopped with an error, the wrapper may still be there.
        untimed = getattr(function, "_lstmkit_untimed", function)
        step_seconds = self.step_seconds

        def timed(*args, **kwargs):
            start = time.perf_counter()
            result = untimed(*args, **kwargs)
            _wait_for(result)
            step_seconds.append(time.perf_counter() - start)
            return result

        timed._lstmkit_untimed = untimed
        self._untimed = untimed
        self.model.train_function = timed

    def on_train_end(self, logs=None):
        if self._untimed is not None:
            self.model.train_function = self._untimed
            self._untimed = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._epoch_start)

    def median_step_seconds(self, skip_first=1):
        """Median step time, skipping the first steps (compilation)."""
        steps = self.step_seconds[skip_first:] or self.step_seconds
        if not steps:
            raise ValueError("StepTimer has no steps recorded; pass it to fit(callbacks=[...]).")
        return float(np.median(steps))


def _wait_for(result):
    """Returns once the computation that produces `result` has finished."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        jax.block_until_ready(result)
    elif backend == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
    else:  # TensorFlow: reading the step's logs waits for the step
        for value in keras.tree.flatten(result):
            if hasattr(value, "numpy"):
                value.numpy()


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


def warmup_cosine(progress, warmup=0.02):
    """The learning rate's share of its peak at `progress` (0..1) through training.

    A straight line up from 0 over the first `warmup` of training, then half a cosine
    down to 0 at the end: `0.5 * (1 + cos(pi * (progress - warmup) / (1 - warmup)))`.
    """
    progress = min(max(float(progress), 0.0), 1.0)
    if progress < warmup:
        return progress / warmup
    return 0.5 * (1.0 + np.cos(np.pi * (progress - warmup) / (1.0 - warmup)))


class TimeBudget(keras.callbacks.Callback):
    """Trains for a wall-clock budget: the learning rate follows the clock, and training
    stops when the budget is spent; optionally evaluates at intervals, off the clock.

    ```python
    budget = TimeBudget(600, learning_rate=1e-2, evaluate=held_out_bits, every_seconds=60)
    model.fit(x, y, epochs=10**6, callbacks=[budget])   # ends after 600 s of training
    budget.curve   # [{"seconds": 0.0, "steps": 0, "value": 6.49, ...}, ...]
    ```

    A step-based schedule needs the number of steps in advance, and that number
    depends on how fast the backend and the machine are. Here the schedule is a function
    of the training time spent: at `t` seconds of a budget of `T` the rate is
    `learning_rate * schedule(t / T)` (default `warmup_cosine`), so every backend ends
    its budget with the rate annealed to 0, however many steps it managed.

    The clock starts after the first step, which compiles the train step (seconds on
    JAX, and a short budget would otherwise be spent before the rate had left its
    warm-up), and stops while `evaluate` runs: the budget is training time. The first
    step's time is kept in `first_step_seconds`. The first step of each later pass
    (epoch) is off the clock too, from the end of the pass before: on TensorFlow it can
    wait seconds for the input pipeline to start again, and a run that crossed a pass
    boundary would lose that time against one that did not. Those gaps are kept in
    `pass_start_seconds`. The rate is set before a step when it
    has moved by more than 1 % since it was last set (on JAX each change makes the
    trainer hand its state back to the model, so it is not done at every step).

    Args:
        seconds: The training time budget.
        learning_rate: The peak rate; the optimizer's rate must be a plain number (a
            variable), not a `LearningRateSchedule`.
        schedule: `progress -> share of the peak`, progress from 0 to 1.
        evaluate: Optional `model -> float`, called at the start, every `every_seconds`
            of training and at the end; its results go into `curve`.
        every_seconds: How often to evaluate (default: only at the start and the end).
        on_evaluation: Optional function called with each new row of `curve` (to print it).
        items_per_step: What one step consumes (e.g. characters per batch), for the
            `items` column of `curve`; default 1 (it counts steps).

    Attributes:
        curve: One dict per evaluation: `seconds` (training time), `wall_seconds`
            (since `fit` began, the first step and evaluations included), `steps`,
            `items`, `learning_rate` and `value` (what `evaluate` returned).
        seconds_trained: Training time when `fit` ended (after the first step).
        first_step_seconds: The first step's time, compilation included.
        pass_start_seconds: For each later pass, the time from the end of the pass
            before to the end of its first step (off the clock).
        steps: Steps taken.
    """

    def __init__(
        self,
        seconds,
        learning_rate,
        schedule=warmup_cosine,
        evaluate=None,
        every_seconds=None,
        on_evaluation=None,
        items_per_step=1,
    ):
        super().__init__()
        if not seconds > 0:
            raise ValueError(f"Argument `seconds` must be positive, received {seconds!r}.")
        if every_seconds is not None and not every_seconds > 0:
            raise ValueError(
                f"Argument `every_seconds` must be positive or None, received {every_seconds!r}."
            )
        self.budget, self.peak, self.schedule = float(seconds), float(learning_rate), schedule
        self.evaluate, self.every_seconds = evaluate, every_seconds
        self.on_evaluation, self.items_per_step = on_evaluation, items_per_step
        self.curve, self.seconds_trained, self.steps = [], 0.0, 0
        self.first_step_seconds, self.pass_start_seconds = 0.0, []
        self._start = self._pass_ended = None

    def training_seconds(self):
        """Seconds of training so far: since the first step ended, less the evaluations
        and the first steps of later passes."""
        if self._start is None:
            return 0.0
        now = time.perf_counter() if self._pass_ended is None else self._pass_ended
        return now - self._start - self._paused

    def on_train_begin(self, logs=None):
        self.curve, self.steps = [], 0
        self._rate = None
        self._fit_start, self._start, self._paused = time.perf_counter(), None, 0.0
        self._pass_ended, self.pass_start_seconds = None, []
        self._next_evaluation = self.every_seconds or float("inf")
        if self.evaluate is not None:
            self._record(0.0)

    def on_train_batch_begin(self, batch, logs=None):
        rate = self.peak * self.schedule(self.training_seconds() / self.budget)
        if self._rate is None or abs(rate - self._rate) > 0.01 * max(self._rate, 1e-12):
            # On JAX, `self.model` first gives the trainer's state back to the model,
            # so the assignment reaches the next step.
            self.model.optimizer.learning_rate = rate
            self._rate = rate

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self._start is None:  # the first step, compilation included, is off the clock
            self._start = time.perf_counter()
            self.first_step_seconds = self._start - self._fit_start - self._paused
            self._paused = 0.0  # the evaluation at the start was before the clock started
            return
        if self._pass_ended is not None:  # the first step of a later pass: off the clock
            self.pass_start_seconds.append(time.perf_counter() - self._pass_ended)
            self._paused += self.pass_start_seconds[-1]
            self._pass_ended = None
        seconds = self.training_seconds()
        finished = seconds >= self.budget
        if self.evaluate is not None and (finished or seconds >= self._next_evaluation):
            self._record(seconds)
            while self._next_evaluation <= seconds:
                self._next_evaluation += self.every_seconds
        if finished:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self._start is not None:
            self._pass_ended = time.perf_counter()

    def on_train_end(self, logs=None):
        self.seconds_trained = self.training_seconds()  # frozen if the last pass ended it
        self._pass_ended = None
        if self.evaluate is not None and (not self.curve or self.curve[-1]["steps"] != self.steps):
            self._record(self.seconds_trained)  # fit ended before the budget (its epochs ran out)

    def _record(self, seconds):
        paused_at = time.perf_counter()
        value = float(self.evaluate(self.model))
        row = {
            "seconds": seconds,
            "wall_seconds": paused_at - self._fit_start,
            "steps": self.steps,
            "items": self.steps * self.items_per_step,
            "learning_rate": 0.0 if self._rate is None else self._rate,
            "value": value,
        }
        self.curve.append(row)
        self._paused += time.perf_counter() - paused_at
        if self.on_evaluation is not None:
            self.on_evaluation(row)


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


class StopWhenBelow(keras.callbacks.Callback):
    """Ends a fit once a logged metric is below `threshold` (the task counts as solved).

    Unlike `EarlyStopping`, which waits for a metric to stop improving, this stops a fit
    that has reached its goal, so that a model that solves a task early does not spend
    the rest of its budget polishing it. A model that never gets there trains every epoch.

    Args:
        threshold: The value below which training ends.
        monitor: The logged metric, default `"val_loss"`.

    Attributes:
        stopped_epoch: The 1-based epoch after which it stopped, or `None`.
    """

    def __init__(self, threshold, monitor="val_loss"):
        super().__init__()
        self.threshold, self.monitor = threshold, monitor
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(
                f"StopWhenBelow monitors {self.monitor!r}, which this fit does not log "
                f"(it logs {sorted(logs)}); pass validation data for a val_ metric."
            )
        if logs[self.monitor] < self.threshold:
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True
