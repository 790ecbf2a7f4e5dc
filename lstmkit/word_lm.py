"""The Human Numbers language models of lesson 05, shared with its worked solutions.

    build_model            Embedding -> stateful SimpleRNN / GRU / LSTM layer(s) -> Dense
    one_cycle              fastai's fit_one_cycle shape as a Keras schedule
    train                  fits as the lesson does: AdamW, one cycle, state zeroed every epoch
    gate_input_spread      how much each token's input term e W differs across the vocabulary
    accuracy_by_position   validation accuracy at each position of the windows
    one_token_ceiling      the best accuracy at position 0 of any model that read one token

The lesson writes each of these in its own cells, to teach them, and checks that
`build_model` here builds the same layers; its exercises' worked solutions call these, so
they train exactly the lesson's models without copying its cells.
"""

import keras
import numpy as np
from keras import ops

from lstmkit.callbacks import ProgressLine
from lstmkit.char_lm import reset_states
from lstmkit.layers import LSTM
from lstmkit.stateful import GRU, SimpleRNN

RECURRENT = {"SimpleRNN": SimpleRNN, "GRU": GRU, "LSTM": LSTM}


def build_model(
    vocabulary_size,
    kind="LSTM",
    num_layers=1,
    stateful=True,
    embeddings_initializer=None,
    units=64,
    batch_size=64,
    sequence_length=16,
):
    """fastbook's language model: Embedding -> `num_layers` recurrent layers -> Dense.

    Args:
        vocabulary_size: Number of token ids.
        kind: `"SimpleRNN"`, `"GRU"` (`lstmkit.stateful`'s) or `"LSTM"` (`lstmkit.LSTM`).
        num_layers: How many recurrent layers, each returning every step.
        stateful: Whether the recurrent layers carry their state from batch to batch.
        embeddings_initializer: The embedding's start; default N(0, 1), PyTorch's
            `nn.Embedding` start (Keras's own, `"uniform"`, is U(-0.05, 0.05)).
        units: Embedding size and every recurrent layer's units.
        batch_size, sequence_length: The fixed batch shape a stateful layer needs.

    Returns:
        An uncompiled `keras.Model` from ids `(batch, time)` to logits
        `(batch, time, vocabulary_size)`.
    """
    if kind not in RECURRENT:
        raise ValueError(f"Argument `kind` must be one of {sorted(RECURRENT)}, received {kind!r}.")
    if embeddings_initializer is None:
        embeddings_initializer = keras.initializers.RandomNormal(0.0, 1.0)
    ids = keras.Input((sequence_length,), batch_size=batch_size, dtype="int32")
    embedding = keras.layers.Embedding(
        vocabulary_size, units, embeddings_initializer=embeddings_initializer
    )
    hidden = embedding(ids)  # (batch, time, units)
    for _ in range(num_layers):
        layer = RECURRENT[kind](units, return_sequences=True, stateful=stateful)
        hidden = layer(hidden)  # (batch, time, units)
    logits = keras.layers.Dense(vocabulary_size)(hidden)  # (batch, time, vocabulary)
    return keras.Model(ids, logits, name=f"{kind}_{num_layers}")


def one_cycle(learning_rate, steps):
    """Up from `learning_rate / 25` over a quarter of the steps, then a cosine down to 0."""
    warmup = steps // 4
    return keras.optimizers.schedules.CosineDecay(
        learning_rate / 25, steps - warmup, warmup_target=learning_rate, warmup_steps=warmup
    )


def train(model, data, epochs, label, batch_size=64, learning_rate=1e-2, weight_decay=0.01):
    """Fits `model` as lesson 05 does; returns the history dict (`loss`, `val_accuracy`, ...).

    AdamW with `one_cycle` over all the steps, the cross-entropy of every position, the
    batches in stream order (`shuffle=False`) and the carried state zeroed at the start of
    every epoch and of every validation pass (fastbook's `ModelResetter`).

    Args:
        model: From `build_model`.
        data: `((x_train, y_train), (x_valid, y_valid))`, laid out by `make_stream_batches`.
        epochs: Passes over the training batches.
        label: The progress line's label.
        batch_size, learning_rate, weight_decay: As the lesson's defaults.
    """
    (x, y), validation = data
    schedule = one_cycle(learning_rate, epochs * (len(x) // batch_size))
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    reset = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda *_: reset_states(model), on_test_begin=lambda *_: reset_states(model)
    )
    history = model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=False,  # the batches must stay in stream order
        validation_data=validation,
        verbose=0,
        callbacks=[reset, ProgressLine(label)],
    )
    return history.history


def gate_input_spread(model):
    """Std across the vocabulary of each token's input term `e W` in the first recurrent
    layer's gates, averaged over the gate units: how different the tokens look to it."""
    embedding = next(layer for layer in model.layers if isinstance(layer, keras.layers.Embedding))
    recurrent = next(layer for layer in model.layers if hasattr(layer, "cell"))
    embeddings = ops.convert_to_numpy(embedding.embeddings)  # (vocabulary, units)
    kernel = ops.convert_to_numpy(recurrent.cell.kernel)  # (units, gates * units)
    return float((embeddings @ kernel).std(axis=0).mean())


def accuracy_by_position(model, x, y, batch_size=64):
    """float `(time,)`: the share of windows whose next token is right at each position.

    The state is zeroed first and the batches read in order, as in validation.
    """
    reset_states(model)
    logits = model.predict(x, batch_size=batch_size, verbose=0)  # (windows, time, vocabulary)
    return (np.asarray(logits).argmax(axis=-1) == y).mean(axis=0)  # (time,)


def one_token_ceiling(x, y, vocabulary_size):
    """The best accuracy any model that has read only the first token of each window can
    score at position 0: for each first token, the most frequent next token among these
    very windows (an oracle, fit on the answers it is scored on).

    Args:
        x, y: int `(windows, time)` token ids, read and next.
        vocabulary_size: The number of token ids.
    """
    pairs = np.zeros((vocabulary_size, vocabulary_size))  # (token read, token next): counts
    np.add.at(pairs, (np.asarray(x)[:, 0], np.asarray(y)[:, 0]), 1)
    return float(pairs.max(axis=1).sum() / len(x))
