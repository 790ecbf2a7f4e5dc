"""The course's plots. Each draws with Matplotlib and returns what it drew on.

    plot_history          loss and metrics, train against validation    -> Figure
    plot_forecast         forecasts against the truth, split marked      -> Axes
    plot_gates            gate activations over time as heatmaps         -> Figure
    plot_unit_traces      a state or gate over time, one line per unit   -> Figure
    plot_gradient_norms   gradient norm against time step, log scale     -> Axes
    plot_attention        attention weights, source against target       -> Axes
    plot_confusion_matrix counts of true against predicted classes       -> Axes

All work headless (the Agg backend); those that return Axes take an optional `ax` to
draw into. Every heatmap has a colour bar, on a scale stated in its docstring.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator


def _axes(ax, figsize=(7, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_history(history, metrics=None, title=None):
    """Training curves: one panel per metric, training and validation together.

    Args:
        history: A `keras.callbacks.History` (what `fit` returns) or its `.history` dict.
        metrics: A name or names to plot (default: every name without a `val_` prefix).
        title: Optional figure title.

    Returns:
        The Figure; panel k holds metric k, with a `val_` line where one was logged.
    """
    logs = getattr(history, "history", history)
    if not logs:
        raise ValueError("The history is empty: nothing was trained.")
    if isinstance(metrics, str):
        metrics = [metrics]
    metrics = metrics or [name for name in logs if not name.startswith("val_")]
    missing = [m for m in metrics if m not in logs]
    if missing:
        raise ValueError(f"Unknown metrics {missing}; the history has {sorted(logs)}.")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.5), squeeze=False)
    for ax, name in zip(axes[0], metrics):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], label="train")
        validation = logs.get(f"val_{name}")
        if validation is not None:
            if len(validation) != len(epochs):  # fit(validation_freq=k) logs every k-th epoch
                raise ValueError(
                    f"`val_{name}` has {len(validation)} values for {len(epochs)} epochs of "
                    f"`{name}` (validation_freq?), so they cannot share the epoch axis; "
                    "plot them separately."
                )
            ax.plot(epochs, validation, label="validation")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
        ax.set_ylabel(name)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_forecast(x, truth, forecasts, boundary=None, ax=None, title=None, ylabel=None):
    """A series and forecasts of it, with the train/test boundary marked.

    Args:
        x: Positions of `truth` (dates or step numbers), `(n,)`.
        truth: The true values, `(n,)`.
        forecasts: `{label: (x_positions, values)}` for each forecast to draw.
        boundary: Position where the test part starts (a vertical dashed line).

    Returns:
        The Axes: line 0 is the truth, then one line per forecast.
    """
    ax = _axes(ax, figsize=(9, 4))
    ax.plot(x, truth, color="black", linewidth=1.2, label="truth")
    for label, (positions, values) in forecasts.items():
        if len(positions) != len(values):
            raise ValueError(
                f"Forecast {label!r} has {len(values)} values for {len(positions)} positions."
            )
        ax.plot(positions, values, linewidth=1.2, label=label)
    if boundary is not None:
        ax.axvline(boundary, color="grey", linestyle="--", linewidth=1, label="test starts")
    ax.legend()
    if title:
        ax.set_title(title)
    if ylabel:
        ax.set_ylabel(ylabel)
    return ax


GATE_NAMES = ("input_gate", "forget_gate", "output_gate", "candidate", "cell_state")


def _visible(token):
    """A token as a tick label: a space or an empty token would be an invisible label."""
    text = str(token)
    if text.strip():
        return text
    return text.replace(" ", "\u2423") or "''"  # \u2423 is the open-box space symbol


_GATE_MEANINGS = {
    "input_gate": "0 = block, 1 = write",
    "forget_gate": "0 = forget, 1 = keep",
    "output_gate": "0 = hide, 1 = show",
}


def _colour_scale(name, image):
    """(cmap, vmin, vmax, colour-bar label, ticks) for one panel of `plot_gates`.

    Gates of a sigmoid LSTM lie in 0 to 1; a tanh candidate in -1 to 1. Values
    outside those ranges (another activation) widen the scale rather than be
    clipped. Other entries (the cell state, unbounded) get a range symmetric about
    zero, so that the neutral colour is zero and the hue is the sign; its ends are
    written on the bar.
    """
    low, high = float(np.min(image)), float(np.max(image))
    if name.endswith("gate") and low >= 0.0 and high <= 1.0:
        return "viridis", 0.0, 1.0, _GATE_MEANINGS.get(name, "sigmoid, 0 to 1"), None
    if name == "candidate" and low >= -1.0 and high <= 1.0:
        return "coolwarm", -1.0, 1.0, "tanh, -1 to 1", None
    limit = max(abs(low), abs(high)) or 1.0
    return "coolwarm", -limit, limit, "blue < 0 < red", [-limit, 0.0, limit]


def _panel_per_gate(gates, names, panel_height):
    """One row of axes per name in `names` (each must be in `gates`), sharing the time axis."""
    missing = [n for n in names if n not in gates]
    if missing:
        raise ValueError(f"No entries {missing} in gates; it has {sorted(gates)}.")
    return plt.subplots(
        len(names),
        1,
        figsize=(9, panel_height * len(names) + 0.8),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )


def plot_gates(gates, labels=None, names=GATE_NAMES, sample=0, max_units=32):
    """Gate activations over time, one heatmap per gate (units down, steps across).

    Gates (sigmoids) are drawn from 0 to 1, the candidate (a tanh) from -1 to 1, and
    the cell state on a scale symmetric about zero (blue negative, red positive);
    each panel has its colour bar.

    Args:
        gates: The dict from `lstmkit.LSTM.gate_activations` (arrays
            `(batch, time, units)`), or `{name: (time, units)}`.
        labels: One label per step (tokens or step numbers) for the x axis;
            default the step numbers.
        names: Which entries to draw, in order.
        sample: Which sequence of the batch to draw.
        max_units: Draw at most this many units (the first ones; the title says so).

    Returns:
        The Figure; axes k shows `names[k]` as an image of shape `(units, time)` with
        its colour bar (`fig.axes[k].images[0].colorbar`).
    """
    fig, axes = _panel_per_gate(gates, names, panel_height=1.7)
    for ax, name in zip(axes[:, 0], names):
        values = np.asarray(gates[name])
        values = values[sample] if values.ndim == 3 else values  # (time, units)
        units = values.shape[1]
        image = values[:, :max_units].T  # (units shown, time)
        cmap, vmin, vmax, meaning, ticks = _colour_scale(name, image)
        drawn = ax.imshow(
            image, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest"
        )
        colour_bar = fig.colorbar(drawn, ax=ax, pad=0.01, aspect=8)
        if ticks is not None:
            colour_bar.set_ticks(ticks, labels=[f"{tick:.2g}" for tick in ticks])
        colour_bar.set_label(meaning, fontsize=8)
        colour_bar.ax.tick_params(labelsize=8)
        shown = f" (units 0-{image.shape[0] - 1} of {units})" if units > image.shape[0] else ""
        ax.set_title(name.replace("_", " ") + shown, loc="left", fontsize=10)
        ax.set_ylabel("unit")
        ax.yaxis.set_major_locator(plt.MaxNLocator(nbins=4, integer=True))
        steps = image.shape[1]
        if labels is not None:
            if len(labels) != steps:
                raise ValueError(f"{len(labels)} labels for {steps} steps.")
            ax.set_xticks(range(steps))
            ax.set_xticklabels([_visible(label) for label in labels], rotation=90, fontsize=8)
        else:
            ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    axes[-1, 0].set_xlabel("input token" if labels is not None else "time step")
    return fig


def plot_unit_traces(gates, names=("cell_state", "forget_gate"), labels=None, sample=0, marks=()):
    """A state or gate over time, one line per unit (the same colour for a unit in every panel).

    Where a heatmap shows the pattern, lines show the values: whether a unit's cell state
    stays flat between two inputs, and what its forget gate is meanwhile. Gates (0 to 1) are
    drawn on 0 to 1 with a dotted line at 1; anything else on a scale symmetric about 0,
    set by the values drawn, with a dotted line at 0.

    Args:
        gates: The dict from `lstmkit.LSTM.gate_activations` (arrays
            `(batch, time, units)`), or `{name: (time, units)}`.
        names: Which entries to draw, one panel each, in order.
        labels: One label per step (tokens) for the x axis; default the step numbers.
        sample: Which sequence of the batch to draw.
        marks: Steps to mark with a vertical line in every panel (e.g. the pulses).

    Returns:
        The Figure; axes k shows `names[k]`, with one line per unit.
    """
    fig, axes = _panel_per_gate(gates, names, panel_height=2.2)
    colours = plt.get_cmap("tab10")
    for ax, name in zip(axes[:, 0], names):
        values = np.asarray(gates[name])
        values = values[sample] if values.ndim == 3 else values  # (time, units)
        steps = np.arange(values.shape[0])
        for unit in range(values.shape[1]):
            ax.plot(
                steps,
                values[:, unit],
                color=colours(unit % 10),
                linewidth=1.2,
                marker=".",
                markersize=3,
                label=f"unit {unit}",
            )
        if name.endswith("gate") and values.min() >= 0.0 and values.max() <= 1.0:
            ax.set_ylim(-0.02, 1.02)
            ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
            ax.set_ylabel(f"{name.replace('_', ' ')}\n(0 to 1)")
        else:
            limit = 1.05 * float(np.abs(values).max()) or 1.0
            ax.set_ylim(-limit, limit)
            ax.axhline(0.0, color="grey", linestyle=":", linewidth=1)
            ax.set_ylabel(name.replace("_", " "))
        for step in marks:
            ax.axvline(step, color="black", linewidth=0.8, alpha=0.4)
        ax.set_title(name.replace("_", " ") + ", one line per unit", loc="left", fontsize=10)
    axes[0, 0].legend(fontsize=7, ncol=1, loc="center left", bbox_to_anchor=(1.01, 0.5))
    last = axes[-1, 0]
    if labels is not None:
        if len(labels) != values.shape[0]:
            raise ValueError(f"{len(labels)} labels for {values.shape[0]} steps.")
        last.set_xticks(range(len(labels)))
        last.set_xticklabels([_visible(label) for label in labels], rotation=90, fontsize=8)
        last.set_xlabel("input token")
    else:
        last.xaxis.set_major_locator(MaxNLocator(integer=True))
        last.set_xlabel("time step")
    return fig


def plot_gradient_norms(norms, ax=None, title=None, ylabel=r"$\|\partial h_T / \partial h_t\|$"):
    r"""Gradient norm against time step, log scale, one line per series.

    Args:
        norms: `{label: norms}` with `norms[t]` the norm at step t, or
            `{label: (steps, norms)}`.
        ylabel: What the norms are of; default the norm of dh_T/dh_t. Name what
            you measured (e.g. `r"$\|\partial h_T / \partial x_t\|$"`).

    Returns:
        The Axes (y on a log scale).
    """
    ax = _axes(ax)
    for label, series in norms.items():
        if isinstance(series, tuple):
            steps, values = series
        else:
            values = np.asarray(series)
            steps = np.arange(len(values))
        ax.plot(steps, values, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("time step t")
    ax.set_ylabel(ylabel)
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_attention(weights, source_tokens, target_tokens, ax=None, title=None):
    """Attention weights as a heatmap: target steps down, source steps across.

    Weights in [0, 1] are drawn on the fixed scale 0 to 1 (a row of softmax weights
    sums to 1), so two heatmaps compare; other values on their own range.

    Args:
        weights: `(target_len, source_len)`.
        source_tokens, target_tokens: Labels of the two axes.
        ax: Axes to draw into; default a new figure.
        title: Optional title.

    Returns:
        The Axes, holding one image of `weights` with a colour bar
        (`ax.images[0].colorbar`).
    """
    weights = np.asarray(weights)
    if weights.shape != (len(target_tokens), len(source_tokens)):
        raise ValueError(
            f"weights of shape {weights.shape} do not match {len(target_tokens)} target and "
            f"{len(source_tokens)} source tokens."
        )
    ax = _axes(ax, figsize=(0.35 * len(source_tokens) + 2.8, 0.35 * len(target_tokens) + 1.5))
    probabilities = weights.min() >= 0 and weights.max() <= 1
    vmin, vmax = (0.0, 1.0) if probabilities else (None, None)
    drawn = ax.imshow(weights, cmap="Blues", vmin=vmin, vmax=vmax, aspect="auto")
    ax.figure.colorbar(drawn, ax=ax, label="attention weight", fraction=0.05, pad=0.02)
    ax.set_xticks(range(len(source_tokens)))
    ax.set_xticklabels([_visible(t) for t in source_tokens], rotation=90)
    ax.set_yticks(range(len(target_tokens)))
    ax.set_yticklabels([_visible(t) for t in target_tokens])
    ax.set_xlabel("source token (attended to)")
    ax.set_ylabel("target token (being produced)")
    if title:
        ax.set_title(title)
    return ax


def confusion_matrix(y_true, y_pred, num_classes):
    """Counts `(num_classes, num_classes)`: row = true class, column = predicted.

    Labels are class indices: ints, or floats and bools holding whole numbers (labels
    stored as float32, thresholded predictions).
    """
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true labels for {len(y_pred)} predictions.")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.dtype.kind not in "biu" and not np.all(np.mod(labels, 1) == 0):
            raise ValueError(
                f"{name} must hold class indices, received {labels.dtype} values such as "
                f"{labels[np.mod(labels, 1) != 0][0]!r} (probabilities? take the argmax, "
                "or threshold them, first)."
            )
    y_true, y_pred = y_true.astype("int64"), y_pred.astype("int64")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        outside = labels[(labels < 0) | (labels >= num_classes)]
        if outside.size:  # np.add.at would count -1 in the last class
            raise ValueError(
                f"{name} has labels outside 0..{num_classes - 1}: {sorted(set(outside.tolist()))}."
            )
    matrix = np.zeros((num_classes, num_classes), dtype="int64")
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def plot_confusion_matrix(y_true, y_pred, class_names, ax=None, title=None):
    """A confusion matrix with its counts written in the cells and a colour bar.

    Args:
        y_true, y_pred: Class indices, any shape (flattened).
        class_names: One name per class, in index order.
        ax: Axes to draw into; default a new figure.
        title: Optional title.

    Returns:
        The Axes: one image of the matrix (rows true class, columns predicted), its
        colour bar (`ax.images[0].colorbar`) and one text per cell.
    """
    matrix = confusion_matrix(y_true, y_pred, len(class_names))
    ax = _axes(ax, figsize=(1.2 * len(class_names) + 2.8, 1.2 * len(class_names) + 1.5))
    drawn = ax.imshow(matrix, cmap="Blues", vmin=0)
    ax.figure.colorbar(drawn, ax=ax, label="count", fraction=0.05, pad=0.04)
    for (row, col), count in np.ndenumerate(matrix):
        color = "white" if count > matrix.max() / 2 else "black"
        ax.text(col, row, str(count), ha="center", va="center", color=color)
    ax.set_xticks(range(len(class_names)))
    ax.set_xticklabels(class_names)
    ax.set_yticks(range(len(class_names)))
    ax.set_yticklabels(class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        ax.set_title(title)
    return ax
