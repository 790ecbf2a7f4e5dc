"""The course's plots. Each draws with Matplotlib and returns what it drew on.

    plot_history          loss and metrics, train against validation    -> Figure
    plot_forecast         forecasts against the truth, split marked      -> Axes
    plot_gates            gate activations over time as heatmaps         -> Figure
    plot_gradient_norms   gradient norm against time step, log scale     -> Axes
    plot_attention        attention weights, source against target       -> Axes
    plot_confusion_matrix counts of true against predicted classes       -> Axes

All work headless (the Agg backend) and take an optional `ax` to draw into.
"""

import matplotlib.pyplot as plt
import numpy as np


def _axes(ax, figsize=(7, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_history(history, metrics=None, title=None):
    """Training curves: one panel per metric, training and validation together.

    Args:
        history: A `keras.callbacks.History` (what `fit` returns) or its `.history` dict.
        metrics: Names to plot (default: every name without a `val_` prefix).
        title: Optional figure title.

    Returns:
        The Figure; panel k holds metric k, with a `val_` line where one was logged.
    """
    logs = getattr(history, "history", history)
    if not logs:
        raise ValueError("The history is empty: nothing was trained.")
    metrics = metrics or [name for name in logs if not name.startswith("val_")]
    missing = [m for m in metrics if m not in logs]
    if missing:
        raise ValueError(f"Unknown metrics {missing}; the history has {sorted(logs)}.")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.5), squeeze=False)
    for ax, name in zip(axes[0], metrics):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], label="train")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], label="validation")
        ax.set_xlabel("epoch")
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


def plot_gates(gates, labels=None, names=GATE_NAMES, sample=0, max_units=32):
    """Gate activations over time, one heatmap per gate (units down, steps across).

    Args:
        gates: The dict from `lstmkit.LSTM.gate_activations` (arrays
            `(batch, time, units)`), or `{name: (time, units)}`.
        labels: One label per step (tokens or step numbers) for the x axis.
        names: Which entries to draw, in order.
        sample: Which sequence of the batch to draw.
        max_units: Draw at most this many units.

    Returns:
        The Figure; axes k shows `names[k]` as an image of shape `(units, time)`.
    """
    missing = [n for n in names if n not in gates]
    if missing:
        raise ValueError(f"No entries {missing} in gates; it has {sorted(gates)}.")
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 1.6 * len(names) + 0.6), squeeze=False)
    for row, (ax, name) in enumerate(zip(axes[:, 0], names)):
        values = np.asarray(gates[name])
        values = values[sample] if values.ndim == 3 else values  # (time, units)
        image = values[:, :max_units].T  # (units, time)
        bounded = name.endswith("gate")
        ax.imshow(
            image,
            aspect="auto",
            cmap="viridis" if bounded else "coolwarm",
            vmin=0 if bounded else -np.abs(image).max(),
            vmax=1 if bounded else None,
            interpolation="nearest",
        )
        ax.set_ylabel(name.replace("_", " "), rotation=0, ha="right", va="center")
        ax.set_yticks([])
        steps = image.shape[1]
        if labels is not None:
            if len(labels) != steps:
                raise ValueError(f"{len(labels)} labels for {steps} steps.")
            ax.set_xticks(range(steps))
            if row == len(names) - 1:  # label the steps once, under the last panel
                ax.set_xticklabels([str(label) for label in labels], rotation=90, fontsize=8)
            else:
                ax.set_xticklabels([])
        else:
            ax.set_xticks([])
    fig.tight_layout()
    return fig


def plot_gradient_norms(norms, ax=None, title=None):
    """Gradient norm against time step, log scale, one line per series.

    Args:
        norms: `{label: norms}` with `norms[t]` the norm of dL/dh_t, or
            `{label: (steps, norms)}`.

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
    ax.set_ylabel(r"$\|\partial h_T / \partial h_t\|$")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_attention(weights, source_tokens, target_tokens, ax=None, title=None):
    """Attention weights as a heatmap: target steps down, source steps across.

    Args:
        weights: `(target_len, source_len)`.
        source_tokens, target_tokens: Labels of the two axes.

    Returns:
        The Axes, holding one image of `weights`.
    """
    weights = np.asarray(weights)
    if weights.shape != (len(target_tokens), len(source_tokens)):
        raise ValueError(
            f"weights of shape {weights.shape} do not match {len(target_tokens)} target and "
            f"{len(source_tokens)} source tokens."
        )
    ax = _axes(ax, figsize=(0.35 * len(source_tokens) + 2, 0.35 * len(target_tokens) + 1.5))
    ax.imshow(weights, cmap="Blues", vmin=0, aspect="auto")
    ax.set_xticks(range(len(source_tokens)))
    ax.set_xticklabels([str(t) for t in source_tokens], rotation=90)
    ax.set_yticks(range(len(target_tokens)))
    ax.set_yticklabels([str(t) for t in target_tokens])
    ax.set_xlabel("source")
    ax.set_ylabel("target")
    if title:
        ax.set_title(title)
    return ax


def confusion_matrix(y_true, y_pred, num_classes):
    """Counts `(num_classes, num_classes)`: row = true class, column = predicted."""
    matrix = np.zeros((num_classes, num_classes), dtype="int64")
    np.add.at(matrix, (np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()), 1)
    return matrix


def plot_confusion_matrix(y_true, y_pred, class_names, ax=None, title=None):
    """A confusion matrix with its counts written in the cells.

    Returns:
        The Axes: one image of the matrix and one text per cell.
    """
    matrix = confusion_matrix(y_true, y_pred, len(class_names))
    ax = _axes(ax, figsize=(1.2 * len(class_names) + 2, 1.2 * len(class_names) + 1.5))
    ax.imshow(matrix, cmap="Blues")
    for (row, col), count in np.ndenumerate(matrix):
        color = "white" if count > matrix.max() / 2 else "black"
        ax.text(col, row, str(count), ha="center", va="center", color=color)
    ax.set_xticks(range(len(class_names)))
    ax.set_xticklabels(class_names)
    ax.set_yticks(range(len(class_names)))
    ax.set_yticklabels(class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    return ax
