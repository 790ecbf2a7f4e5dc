"""lstmkit.gradients, lstmkit.callbacks and lstmkit.plots on the active backend."""

import re
import time

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras import ops  # noqa: E402

import lstmkit  # noqa: E402
from lstmkit import callbacks, gradients, plots  # noqa: E402


def finite_difference(f, x, index, eps=1e-2):
    up, down = x.copy(), x.copy()
    up[index] += eps
    down[index] -= eps
    return (f(up) - f(down)) / (2 * eps)


def test_input_gradients_match_finite_differences():
    layer = lstmkit.LSTM(4)
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    layer(x)

    def fn(inputs):
        return ops.sum(ops.square(layer(inputs)))

    value, (grad,) = gradients.gradients(fn, x)
    assert grad.shape == x.shape
    assert abs(value - float(ops.convert_to_numpy(fn(x)))) < 1e-5
    numeric = lambda arr: float(ops.convert_to_numpy(fn(arr)))  # noqa: E731
    for index in [(0, 0, 0), (1, 4, 2), (0, 2, 1), (1, 0, 1)]:
        assert grad[index] == pytest.approx(
            finite_difference(numeric, x, index), rel=2e-2, abs=1e-4
        )


def test_gradients_of_two_arguments_and_unused_one():
    a = np.array([1.0, 2.0, 3.0], "float32")
    b = np.array([0.5, -1.0, 2.0], "float32")
    c = np.array([7.0], "float32")
    value, (ga, gb, gc) = gradients.gradients(lambda a, b, c: ops.sum(a * b) + 0.0, a, b, c)
    assert value == pytest.approx(4.5)
    np.testing.assert_allclose(ga, b)
    np.testing.assert_allclose(gb, a)
    np.testing.assert_allclose(gc, 0.0)


def test_weight_gradients_match_finite_differences():
    model = keras.Sequential([keras.Input((5, 3)), lstmkit.LSTM(4), keras.layers.Dense(1)])
    x = np.random.default_rng(1).normal(size=(3, 5, 3)).astype("float32")
    y = np.random.default_rng(2).normal(size=(3, 1)).astype("float32")

    def loss():
        return ops.mean(ops.square(ops.subtract(model(x), y)))

    value, grads = gradients.weight_gradients(loss, model.trainable_variables)
    assert [g.shape for g in grads] == [tuple(v.shape) for v in model.trainable_variables]
    kernel = model.layers[0].cell.kernel
    original = ops.convert_to_numpy(kernel)

    def loss_at(array):
        kernel.assign(array)
        return float(ops.convert_to_numpy(loss()))

    for index in [(0, 0), (2, 9), (1, 15)]:
        expected = finite_difference(loss_at, original, index)
        kernel.assign(original)
        assert grads[0][index] == pytest.approx(expected, rel=3e-2, abs=1e-4)


def test_non_scalar_is_refused():
    with pytest.raises(ValueError, match="must return a scalar, received shape"):
        gradients.gradients(lambda a: a * 2, np.ones(3, "float32"))


def test_gradient_norm_through_time_rnn_vs_lstm():
    """The measurement of notebooks 01-02: ||dh_T/dh_t|| decays far faster for the RNN."""
    norms = {}
    steps = 60
    x = np.random.default_rng(3).normal(size=(1, steps, 2)).astype("float32")
    for name, layer in {
        "rnn": keras.layers.SimpleRNN(16, return_sequences=True),
        "lstm": lstmkit.LSTM(16, return_sequences=True),
    }.items():
        layer(x)

        def last_state(inputs, layer=layer):
            return ops.sum(layer(inputs)[:, -1, :])

        _, (grad,) = gradients.gradients(last_state, x)
        norms[name] = np.linalg.norm(grad[0], axis=-1)  # (steps,): ||dh_T / dx_t||
    assert norms["lstm"][0] > 10 * norms["rnn"][0]


def small_model():
    model = keras.Sequential(
        [keras.Input((6, 2)), lstmkit.LSTM(4, name="lstm"), keras.layers.Dense(1, name="head")]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    rng = np.random.default_rng(4)
    return (
        model,
        rng.normal(size=(32, 6, 2)).astype("float32"),
        rng.normal(size=(32, 1)).astype("float32"),
    )


def test_callbacks_record_what_they_promise():
    model, x, y = small_model()
    grad_history = callbacks.GradientNormHistory(x[:8], y[:8], every=2)
    timer = callbacks.StepTimer()
    weights = callbacks.WeightStatistics()
    rates = callbacks.LearningRateHistory()
    model.fit(
        x, y, batch_size=8, epochs=3, verbose=0, callbacks=[grad_history, timer, weights, rates]
    )
    assert set(grad_history.history) == {"lstm", "head", "global"}
    assert grad_history.steps == [2, 4, 6, 8, 10, 12]
    assert all(len(v) == 6 for v in grad_history.history.values())
    for i in range(6):
        parts = grad_history.history["lstm"][i] ** 2 + grad_history.history["head"][i] ** 2
        assert grad_history.history["global"][i] == pytest.approx(np.sqrt(parts), rel=1e-5)
    assert len(timer.step_seconds) == 12 and len(timer.epoch_seconds) == 3
    assert 0 < timer.median_step_seconds() < max(timer.epoch_seconds)
    kernel_path = model.layers[0].cell.kernel.path
    stats = weights.history[kernel_path]
    assert len(stats["mean"]) == 3
    final = ops.convert_to_numpy(model.layers[0].cell.kernel)
    assert stats["max"][-1] == pytest.approx(final.max()) and stats["std"][-1] == pytest.approx(
        final.std(), rel=1e-5
    )
    assert rates.rates == pytest.approx([0.05] * 3)


def test_gradient_history_per_epoch_matches_weight_gradients():
    model, x, y = small_model()
    history = callbacks.GradientNormHistory(x[:8], y[:8])
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[history])
    _, grads = gradients.weight_gradients(
        lambda: ops.mean(ops.square(ops.subtract(model(x[:8]), y[:8]))), model.trainable_variables
    )
    assert history.history["global"][-1] == pytest.approx(gradients.global_norm(grads), rel=1e-4)


L2 = 0.5


def regularised_model(dropout=0.0, seed=6):
    """LSTM -> Dropout -> Dense with L2 on both kernels: a model whose training loss is not
    its data loss."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((6, 2)),
            lstmkit.LSTM(4, kernel_regularizer=keras.regularizers.L2(L2), name="lstm"),
            keras.layers.Dropout(dropout, name="dropout"),
            keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(L2), name="head"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    rng = np.random.default_rng(7)
    x = rng.normal(size=(32, 6, 2)).astype("float32")
    return model, x, rng.normal(size=(32, 1)).astype("float32")


def test_gradient_history_includes_the_regularisation_loss():
    """The reported norm is that of d(data loss + L2)/dw, computed here by hand; before, the
    callback differentiated the data loss only."""
    model, x, y = regularised_model()
    history = callbacks.GradientNormHistory(x[:8], y[:8])
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[history])
    kernels = [model.get_layer("lstm").cell.kernel, model.get_layer("head").kernel]

    def data_loss():
        return ops.mean(ops.square(ops.subtract(model(x[:8]), y[:8])))

    def training_loss():
        return data_loss() + L2 * sum(ops.sum(ops.square(k)) for k in kernels)

    _, grads = gradients.weight_gradients(training_loss, model.trainable_variables)
    _, data_grads = gradients.weight_gradients(data_loss, model.trainable_variables)
    reported = history.history["global"][-1]
    assert reported == pytest.approx(gradients.global_norm(grads), rel=1e-4)
    assert abs(reported - gradients.global_norm(data_grads)) > 0.05 * reported


def test_gradient_history_includes_activity_regularisation():
    """Losses a layer adds during the call (here an activity regulariser, which Keras divides
    by the batch size) are part of the training loss on every backend, JAX included."""
    keras.utils.set_random_seed(8)
    head = keras.layers.Dense(3, activity_regularizer=keras.regularizers.L2(1.0), name="head")
    model = keras.Sequential([keras.Input((6, 2)), lstmkit.LSTM(4, name="lstm"), head])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    x = np.random.default_rng(9).normal(size=(8, 6, 2)).astype("float32")
    y = np.zeros((8, 3), "float32")
    history = callbacks.GradientNormHistory(x, y)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[history])

    def training_loss():
        y_pred = model(x)  # (8, 3)
        return ops.mean(ops.square(y_pred)) + ops.sum(ops.square(y_pred)) / 8

    _, grads = gradients.weight_gradients(training_loss, model.trainable_variables)
    assert history.history["global"][-1] == pytest.approx(gradients.global_norm(grads), rel=1e-4)


def test_gradient_history_uses_dropout_like_training():
    """With dropout, the reported gradient is taken in training mode (a dropout mask drawn
    from the layer's seed, which the probe then puts back)."""
    model, x, y = regularised_model(dropout=0.5)
    history = callbacks.GradientNormHistory(x[:8], y[:8])
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[history])

    def loss(training):
        def value():
            y_pred = model(x[:8], training=training)
            return ops.mean(ops.square(ops.subtract(y_pred, y[:8]))) + sum(model.losses)

        return value

    # The seed state is where the probe left it, so this draws the probe's mask.
    _, train_grads = gradients.weight_gradients(loss(True), model.trainable_variables)
    _, inference_grads = gradients.weight_gradients(loss(False), model.trainable_variables)
    reported = history.history["global"][-1]
    assert reported == pytest.approx(gradients.global_norm(train_grads), rel=1e-4)
    assert abs(reported - gradients.global_norm(inference_grads)) > 0.01 * reported


def test_gradient_history_does_not_change_training():
    """Dropout masks drawn by the probe are given back: training with and without the
    callback ends with the same weights and losses."""
    runs = []
    for with_callback in [False, True]:
        model, x, y = regularised_model(dropout=0.5)
        probe = [callbacks.GradientNormHistory(x[:8], y[:8], every=3)] if with_callback else []
        logs = model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=probe).history
        runs.append((logs["loss"], [ops.convert_to_numpy(w) for w in model.weights]))
    (loss_without, weights_without), (loss_with, weights_with) = runs
    np.testing.assert_allclose(loss_with, loss_without, rtol=1e-6)
    for a, b in zip(weights_with, weights_without):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_plot_history_draws_train_and_validation():
    fig = plots.plot_history({"loss": [3, 2, 1], "val_loss": [3.5, 2.5, 2], "mae": [1, 0.5, 0.2]})
    loss_ax, mae_ax = fig.axes
    assert [list(line.get_ydata()) for line in loss_ax.lines] == [[3, 2, 1], [3.5, 2.5, 2]]
    assert len(mae_ax.lines) == 1 and loss_ax.get_ylabel() == "loss"
    with pytest.raises(ValueError, match="Unknown metrics"):
        plots.plot_history({"loss": [1]}, metrics=["accuracy"])
    plt.close("all")


@pytest.mark.parametrize("epochs", [2, 3, 7])
def test_plot_history_ticks_whole_epochs(epochs):
    fig = plots.plot_history({"loss": list(range(epochs, 0, -1))})
    (ax,) = fig.axes
    fig.canvas.draw()
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    plt.close("all")


def test_plot_forecast_marks_the_boundary():
    ax = plots.plot_forecast(
        np.arange(10), np.arange(10.0), {"model": (np.arange(7, 10), [7, 8, 9.5])}, boundary=7
    )
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["truth", "model", "test starts"]
    assert list(ax.lines[1].get_ydata()) == [7, 8, 9.5]
    assert list(ax.lines[2].get_xdata()) == [7, 7]
    plt.close("all")


def test_plot_gates_draws_each_gate_with_token_labels():
    layer = lstmkit.LSTM(3)
    x = np.random.default_rng(5).normal(size=(1, 4, 2)).astype("float32")
    layer(x)
    gates = layer.gate_activations(x)
    fig = plots.plot_gates(gates, labels=["the", "film", "was", "good"])
    heatmaps = [ax for ax in fig.axes if ax.images and ax.images[0].colorbar is not None]
    assert len(heatmaps) == len(plots.GATE_NAMES)  # each with its colour bar
    for ax, name in zip(heatmaps, plots.GATE_NAMES):
        np.testing.assert_allclose(ax.images[0].get_array(), gates[name][0].T)
        assert ax.get_ylabel() == "unit" and ax.get_title(loc="left") == name.replace("_", " ")
    assert [t.get_text() for t in heatmaps[-1].get_xticklabels()] == ["the", "film", "was", "good"]
    assert heatmaps[-1].get_xlabel() == "input token"
    plt.close("all")


def test_plot_gates_colour_scales_are_centred_and_labelled():
    """Gates 0..1, candidate -1..1, cell state symmetric about zero: a negative cell state is
    drawn blue (below the colormap's midpoint). Before, the range was (-max|c|, max c), so a
    cell state of -0.1 in a panel whose largest value was -0.1 was drawn full red."""
    rng = np.random.default_rng(6)
    gates = {name: rng.uniform(0.1, 0.9, size=(6, 40)) for name in plots.GATE_NAMES[:3]}
    gates["candidate"] = rng.uniform(-0.5, 0.5, size=(6, 40))
    gates["cell_state"] = -rng.uniform(0.1, 3.0, size=(6, 40))  # all negative
    gates["cell_state"][0, 0] = -3.0
    fig = plots.plot_gates(gates, max_units=32)
    images = {name: ax.images[0] for ax, name in zip(fig.axes, plots.GATE_NAMES)}
    for name in plots.GATE_NAMES[:3]:
        assert images[name].get_clim() == (0.0, 1.0)
    assert images["candidate"].get_clim() == (-1.0, 1.0)
    assert images["cell_state"].get_clim() == (-3.0, 3.0)
    cell = images["cell_state"]
    assert cell.norm(-0.1) < 0.5 and cell.norm(0.0) == 0.5
    bar = cell.colorbar
    assert list(bar.get_ticks()) == [-3.0, 0.0, 3.0]
    assert bar.ax.get_ylabel() and images["forget_gate"].colorbar.ax.get_ylabel()
    assert "(units 0-31 of 40)" in fig.axes[0].get_title(loc="left")
    assert fig.axes[len(plots.GATE_NAMES) - 1].get_xlabel() == "time step"
    plt.close("all")


def test_plot_gradient_norms_is_log_scale():
    ax = plots.plot_gradient_norms({"rnn": [1e-8, 1e-4, 1.0], "lstm": [0.1, 0.5, 1.0]})
    assert ax.get_yscale() == "log" and [line.get_label() for line in ax.lines] == ["rnn", "lstm"]
    plt.close("all")


def test_plot_attention_and_confusion_matrix():
    weights = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]])
    ax = plots.plot_attention(weights, ["a", " ", "c"], ["x", "y"])
    image = ax.images[0]
    np.testing.assert_allclose(image.get_array(), weights)
    assert image.get_clim() == (0.0, 1.0)  # softmax weights on one fixed scale
    assert image.colorbar is not None and image.colorbar.ax.get_ylabel() == "attention weight"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "\u2423", "c"]  # a visible space
    assert ax.get_xlabel().startswith("source") and ax.get_ylabel().startswith("target")
    with pytest.raises(ValueError, match="do not match"):
        plots.plot_attention(weights, ["a", "b"], ["x", "y"])
    ax = plots.plot_confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], ["neg", "pos"])
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), [[1, 1], [1, 2]])
    assert image.get_clim() == (0.0, 2.0)
    assert image.colorbar is not None and image.colorbar.ax.get_ylabel() == "count"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert sorted(t.get_text() for t in ax.texts) == ["1", "1", "1", "2"]
    plt.close("all")


def test_plots_refuse_or_widen_what_they_would_draw_wrongly():
    with pytest.raises(ValueError, match="outside 0..1: \\[-1\\]"):
        plots.confusion_matrix([0, 1, -1], [0, 1, 1], 2)  # -1 is no class, not the last one
    fig = plots.plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, metrics="loss")
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss"]  # a name, not its letters
    relu_candidate = np.linspace(-0.5, 6.0, 12).reshape(4, 3)  # (time, units), beyond tanh
    fig = plots.plot_gates({"candidate": relu_candidate}, names=("candidate",))
    assert fig.axes[0].images[0].get_clim() == (-6.0, 6.0)  # widened, not clipped at 1
    ax = plots.plot_gradient_norms({"x": [1.0, 0.1]}, ylabel="norm of dh_T/dx_t")
    assert ax.get_ylabel() == "norm of dh_T/dx_t"
    plt.close("all")


def test_gradients_keep_float64_where_the_backend_computes_it():
    x = np.array([1.0 + 1e-9], "float64")
    _, (grad,) = gradients.gradients(lambda a: ops.sum(ops.square(a - 1.0)), x)
    if keras.backend.backend() == "jax":  # JAX computes in float32 unless jax_enable_x64
        assert grad.dtype == np.float32
    else:
        assert grad.dtype == np.float64 and grad[0] == pytest.approx(2e-9, rel=1e-3)


def test_gradients_through_a_stateful_layer_carry_its_state():
    inputs = keras.Input((5, 3), batch_size=2)
    layer = lstmkit.LSTM(4, stateful=True)
    model = keras.Model(inputs, layer(inputs))
    x = np.random.default_rng(3).normal(size=(2, 5, 3)).astype("float32")
    value, (grad,) = gradients.gradients(lambda a: ops.sum(model(a)), x)
    assert grad.shape == x.shape and np.abs(grad).max() > 0
    state = ops.convert_to_numpy(layer.states[0].value)
    assert np.abs(state).max() > 1e-3  # assigned as after a forward pass, on every backend


def progress_model():
    keras.utils.set_random_seed(10)
    model = keras.Sequential([keras.Input((6, 2)), lstmkit.LSTM(4), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    rng = np.random.default_rng(11)
    return model, rng.normal(size=(32, 6, 2)).astype("float32"), rng.normal(size=(32, 1))


FINAL_LINE = (
    r"LSTM 4  epoch 3/3  loss (?P<loss>\S+)  mae \S+  val_loss (?P<val_loss>\S+)  "
    r"val_mae \S+  \d+\.\d s"
)


def test_progress_line_outside_jupyter_rewrites_one_line(capsys):
    model, x, y = progress_model()
    progress = callbacks.ProgressLine("LSTM 4", every_seconds=0.0)
    history = model.fit(
        x, y, batch_size=8, epochs=3, validation_split=0.25, verbose=0, callbacks=[progress]
    )
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.endswith("\n")  # one line per fit
    shown = out.rstrip("\n").split("\r")
    assert shown[0] == "" and len(shown) > 3 + 3  # a start, steps and epochs, in place
    assert any("epoch 2/3  step 3/3  loss" in line for line in shown)
    final = re.fullmatch(FINAL_LINE, shown[-1].rstrip())
    assert final, shown[-1]
    assert float(final["val_loss"]) == pytest.approx(history.history["val_loss"][-1], rel=1e-3)
    assert progress.text == shown[-1].rstrip() and progress.seconds > 0


class FakeDisplay:
    """Stands in for IPython.display.display: records what was shown and updated."""

    def __init__(self):
        self.shown, self.updates = [], []

    def __call__(self, bundle, raw=False, display_id=None):
        assert raw and display_id is True
        self.shown.append(bundle["text/plain"])
        return self

    def update(self, bundle, raw=False):
        assert raw
        self.updates.append(bundle["text/plain"])


def test_progress_line_in_jupyter_updates_one_display_per_fit(capsys):
    model, x, y = progress_model()
    display = FakeDisplay()
    progress = callbacks.ProgressLine("LSTM 4", display=display)
    for _ in range(2):
        model.fit(
            x, y, batch_size=8, epochs=3, validation_split=0.25, verbose=0, callbacks=[progress]
        )
    assert capsys.readouterr().out == ""
    assert len(display.shown) == 2  # one display output per fit, each then updated
    assert len(display.updates) >= 2 * 4  # every epoch's end and the final line
    assert re.fullmatch(FINAL_LINE, display.updates[-1]) and display.updates[-1] == progress.text


def test_progress_line_shows_where_early_stopping_stopped(capsys):
    model, x, y = progress_model()
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    progress = callbacks.ProgressLine("early")
    model.fit(x, y, epochs=10, verbose=0, callbacks=[stop, progress])
    assert progress.text.startswith("early  epoch 2/10  loss ")


def test_zeros_for_an_unused_input_keep_its_dtype():
    """Before, an unused float64 input got float32 zeros (floatx) beside a float64 gradient."""
    used, unused = np.ones(2, "float64"), np.ones(3, "float64")
    _, (grad_used, grad_unused) = gradients.gradients(lambda a, b: ops.sum(a**2), used, unused)
    assert grad_unused.dtype == grad_used.dtype  # float64, or float32 on JAX without x64
    np.testing.assert_array_equal(grad_unused, 0.0)
    layer = keras.layers.Dense(2, dtype="float64")
    layer.build((None, 3))
    _, (_, grad_bias) = gradients.weight_gradients(
        lambda: ops.sum(ops.matmul(np.ones((1, 3)), layer.kernel)), layer.trainable_variables
    )
    assert grad_bias.dtype == ops.convert_to_numpy(layer.bias).dtype  # float32 on JAX, no x64


class SlowHooks(keras.callbacks.Callback):
    """Sleeps in both batch hooks: time that is not the training step's."""

    def on_train_batch_begin(self, batch, logs=None):
        time.sleep(0.2)

    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.2)


@pytest.mark.parametrize("timer_first", [True, False])
def test_step_timer_leaves_out_the_other_callbacks_wherever_it_stands(timer_first):
    """Before, a step's time ran from the timer's start hook to its end hook, so it counted
    the start hooks of callbacks listed after it and the end hooks of those listed before
    it: here 0.2 s of sleep in every step, in either place."""
    model, x, y = small_model()
    timer = callbacks.StepTimer()
    order = [timer, SlowHooks()] if timer_first else [SlowHooks(), timer]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=order)
    assert len(timer.step_seconds) == 4
    assert timer.median_step_seconds() < 0.15, timer.step_seconds
    assert timer.epoch_seconds[0] > 4 * 0.4  # the epoch does include them
    untimed = model.train_function
    assert not hasattr(untimed, "_lstmkit_untimed")  # the fit's function is given back


def test_confusion_matrix_takes_whole_number_labels_and_names_the_rest():
    """Float labels (0.0 / 1.0) and bools are class indices; probabilities are not. Before,
    all three gave NumPy IndexErrors about indexing."""
    expected = [[1, 1], [0, 1]]
    assert plots.confusion_matrix(np.array([0.0, 0.0, 1.0]), [0, 1, 1], 2).tolist() == expected
    assert plots.confusion_matrix([0, 0, 1], np.array([False, True, True]), 2).tolist() == expected
    with pytest.raises(ValueError, match=r"y_pred must hold class indices.*0\.6.*argmax"):
        plots.confusion_matrix([0, 1], np.array([0.6, 0.2]), 2)
    with pytest.raises(ValueError, match="3 true labels for 2 predictions"):
        plots.confusion_matrix([0, 1, 1], [0, 1], 2)


def test_plot_history_names_a_validation_curve_of_another_length():
    """fit(validation_freq=2) logs val_loss every second epoch: before, Matplotlib's "x and y
    must have same first dimension"."""
    with pytest.raises(ValueError, match=r"`val_loss` has 2 values for 4 epochs"):
        plots.plot_history({"loss": [3, 2, 1, 0.5], "val_loss": [2.5, 0.8]})
    plt.close("all")
