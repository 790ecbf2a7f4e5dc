"""Lesson 06's tagging task: the tagger, padding on either side, and what reading left to
right can know.

    x, y, lengths = lstmkit.datasets.make_tagging_task(2048, 12, 4, min_length=4)
    model = build_tagger(num_classes=4, units=32, bidirectional=True)
    model.fit(x, y, epochs=8)
    ceiling = left_to_right_ceiling(lengths, x.shape[1], num_classes=4)   # a_t per step
    rule = previous_value_rule(x)           # "answer v[t-1]": reaches the ceiling
    left_vs_right, unpadded_vs_padded = padding_gaps(model, x, lengths)

The tag of step t is `(v[t-1] + v[t+reach]) % num_classes` (`make_tagging_task`). A model
that reads left to right knows `v[t+reach]` only when it lies past the end (it is 0 then),
and it cannot see where the end is; it knows its position, so the best it can do at step t
is `1/C + (1 - 1/C) q_t`, with `q_t` the share of the sequences reaching step t that end
within `reach` steps of it, by answering `v[t-1]`.
"""

import keras
import numpy as np

from lstmkit.layers import LSTM


def build_tagger(
    num_classes,
    units,
    bidirectional=True,
    merge_mode="concat",
    mask_zero=True,
    hidden_units=64,
    embedding_dim=16,
    learning_rate=5e-3,
):
    """Embedding -> (Bidirectional) `lstmkit.LSTM` -> Dense(relu) -> softmax, per step, compiled.

    Args:
        num_classes: Token values and tags; tokens are 1..num_classes, 0 is padding.
        units: Units of the LSTM (of each direction).
        bidirectional: Wrap the LSTM in `keras.layers.Bidirectional`.
        merge_mode: The `Bidirectional` merge mode (`"concat"`, `"sum"`, `"ave"`, `"mul"`).
        mask_zero: `Embedding(mask_zero=...)`: token 0 masked in the LSTMs and the loss.
        hidden_units: Units of the per-step `Dense(relu)` layer; 0 leaves it out.
        embedding_dim: Size of the token embedding.
        learning_rate: Adam's learning rate.

    Returns:
        A compiled `keras.Model`: int `(batch, time)` -> probabilities `(batch, time, classes)`.
    """
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(num_classes + 1, embedding_dim, mask_zero=mask_zero)(inputs)
    lstm = LSTM(units, return_sequences=True)
    if bidirectional:
        x = keras.layers.Bidirectional(lstm, merge_mode=merge_mode)(x)
    else:
        x = lstm(x)  # (batch, time, units)
    if hidden_units:
        x = keras.layers.Dense(hidden_units, activation="relu")(x)  # joins the two directions
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)  # (batch, time, classes)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy"
    )
    return model


def left_pad(x, lengths):
    """Moves each row's `lengths[i]` real tokens to its end: right padding becomes left padding."""
    x, lengths = np.asarray(x), np.asarray(lengths)
    shift = x.shape[1] - lengths  # (batch,)
    columns = (np.arange(x.shape[1])[None, :] - shift[:, None]) % x.shape[1]  # (batch, time)
    return np.take_along_axis(x, columns, axis=1)


def padding_gaps(model, x, lengths, batch_size=64):
    """How much padding changes a tagger's probabilities at the real steps.

    Args:
        model: A tagger: int `(batch, time)` -> `(batch, time, classes)`.
        x: Right-padded tokens `(batch, time)`, 0 = padding; `lengths` their real lengths.
        batch_size: Batch size of `predict`.

    Returns:
        `(left_vs_right, unpadded_vs_padded)`: the largest change of a probability at a
        real step when every row is padded on the left instead, and when the shortest row
        (the most padding) is given unpadded.
    """
    x, lengths = np.asarray(x), np.asarray(lengths)
    real = x != 0
    right = model.predict(x, batch_size=batch_size, verbose=0)  # (batch, time, classes)
    x_left = left_pad(x, lengths)
    left = model.predict(x_left, batch_size=batch_size, verbose=0)
    left_vs_right = float(np.abs(right[real] - left[x_left != 0]).max())
    row = int(np.argmin(lengths))
    n = int(lengths[row])
    unpadded = model.predict(x[row : row + 1, :n], verbose=0)[0]  # (n, classes)
    return left_vs_right, float(np.abs(unpadded - right[row, :n]).max())


def left_to_right_ceiling(lengths, length, num_classes=4, reach=1):
    """The expected best accuracy of a left-to-right reader at each step, from the lengths.

    At real step t the tag is known when the sequence ends within `reach` steps (its right
    neighbour is then 0) and a guess otherwise: `1/C + (1 - 1/C) q_t`, with `q_t` the share
    of the sequences reaching step t whose length is at most `t + reach`.

    Args:
        lengths: Real lengths `(batch,)`.
        length: The padded length.
        num_classes: Number of tag values C.
        reach: How far ahead the right neighbour is.

    Returns:
        `(per_step, overall)`: `(length,)` the ceiling at each step (NaN where no sequence
        reaches it), and the ceiling over all real steps together.
    """
    lengths = np.asarray(lengths)
    steps = np.arange(length)
    reaching = lengths[:, None] >= steps + 1  # (batch, time): a real step here
    knowable = reaching & (lengths[:, None] <= steps + reach)  # ... whose tag it can know
    chance = 1.0 / num_classes
    with np.errstate(invalid="ignore", divide="ignore"):
        per_step = chance + (1 - chance) * knowable.sum(axis=0) / reaching.sum(axis=0)
    overall = chance + (1 - chance) * knowable.sum() / reaching.sum()
    return per_step, float(overall)


def previous_value_rule(x):
    """The left-to-right rule "answer v[t-1]" (0 at step 0): `(batch, time)` tags."""
    x = np.asarray(x)
    previous = np.pad(x, ((0, 0), (1, 0)))[:, :-1]  # token of step t-1, 0 before the start
    return np.maximum(previous - 1, 0)  # token - 1 = v; padding (0) stays 0


def per_position_accuracy(predicted, y, real):
    """Accuracy at each step over the rows with a real step there: `(time,)`."""
    right = (np.asarray(predicted) == np.asarray(y)) & real
    with np.errstate(invalid="ignore", divide="ignore"):
        return right.sum(axis=0) / np.asarray(real).sum(axis=0)
