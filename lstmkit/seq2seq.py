"""An encoder-decoder of two LSTMs with Luong attention; greedy and beam-search decoding.

Lesson 07 writes these out step by step and checks its own against them; lesson 08
uses them on English -> Spanish.

    models = build_seq2seq(source_vocabulary_size, target_vocabulary_size, 32, 64)
    models.training.fit([source, decoder_input], decoder_target)      # teacher forcing
    ids, log_probability, attention = greedy_decode(models, source, 10, start_id, end_id)
    ids, log_probability = beam_search(models, source, 10, 4, start_id, end_id)

The attention is Luong et al. (2015)'s global attention with the `dot` score and
its attentional hidden state, without input feeding. With row vectors, at output
step t, for decoder output `h_t` and encoder outputs `e_s`:

    a_ts = h_t . e_s                     score (keras.layers.Attention, score_mode="dot")
    alpha_t = softmax_s(a_ts)            padded source steps left out
    c_t = sum_s alpha_ts e_s             context
    h~_t = tanh([c_t ; h_t] W_c)         attentional hidden state (Dense, no bias)
    p(y_t | y_<t, x) = softmax(h~_t W_s + b_s)

Without attention, `h~_t = tanh(h_t W_c)`: the same layers, only the context is gone.
"""

import collections

import keras
import numpy as np
from keras import ops

from lstmkit.layers import LSTM

Seq2SeqModels = collections.namedtuple("Seq2SeqModels", ["training", "encoder", "step"])
Seq2SeqModels.__doc__ = """Three Keras models that share one set of layers.

training: `[source, decoder_input] -> probabilities (batch, target steps, vocabulary)`,
    all steps at once (teacher forcing).
encoder: `source -> [encoder_outputs (batch, source steps, units), h, c]`.
step: `[token (batch, 1), h, c, encoder_outputs, source] ->
    [probabilities (batch, 1, vocabulary), h, c, attention (batch, 1, source steps)]`,
    one decoder step; the attention is zeros without attention.
"""


def build_seq2seq(
    source_vocabulary_size,
    target_vocabulary_size,
    embedding_dim,
    units,
    attention=True,
    attentional_units=None,
    score="dot",
    drop_mask=None,
    output_bias=None,
):
    """Builds the encoder-decoder's layers once and wires them into three models.

    Id 0 is padding on both sides: `Embedding(mask_zero=True)` masks it, the
    source mask reaches the attention's softmax, and the target mask the loss.

    Args:
        source_vocabulary_size, target_vocabulary_size: Vocabulary sizes (ids).
        embedding_dim: Size of both embeddings.
        units: Units of the encoder and decoder LSTMs (`lstmkit.LSTM`).
        attention: Luong dot attention (`True`) or none (`False`).
        attentional_units: Size of the attentional hidden state `h~_t` (the
            columns of `W_c`); default `units`. Without input feeding it need
            not equal `units`; a wider one feeds a large output vocabulary better.
        score: `"dot"`, Luong's `a_ts = h_t . e_s` (`keras.layers.Attention`), or
            `"additive"`, Bahdanau's `a_ts = v . tanh(h_t W + e_s U)`
            (`keras.layers.AdditiveAttention` on the query and keys passed
            through `Dense(units, use_bias=False)` layers for `W` and `U`; the
            values stay `e_s`). Only with `attention=True`.
        drop_mask: `None` (default) passes both masks to the attention. `"source"` or
            `"target"` leaves that one out, to show what it does (lesson 08's exercise
            3): without the source mask padded source steps take attention weight;
            without the target mask padded target steps count in the loss.
        output_bias: Optional start of the output layer's bias `b_s`, one value per target
            token, e.g. the log-frequencies of the training targets: the untrained model
            then predicts the unigram distribution instead of a uniform one. Default zeros.

    Returns:
        `Seq2SeqModels(training, encoder, step)`.
    """
    if score not in ("dot", "additive"):
        raise ValueError(f"Argument `score` must be 'dot' or 'additive', received {score!r}.")
    if drop_mask not in (None, "source", "target"):
        raise ValueError(
            f"Argument `drop_mask` must be None, 'source' or 'target', received {drop_mask!r}."
        )
    source_embedding = keras.layers.Embedding(source_vocabulary_size, embedding_dim, mask_zero=True)
    encoder_lstm = LSTM(units, return_sequences=True, return_state=True)
    target_embedding = keras.layers.Embedding(target_vocabulary_size, embedding_dim, mask_zero=True)
    decoder_lstm = LSTM(units, return_sequences=True, return_state=True)
    if score == "dot":
        scorer = keras.layers.Attention()  # dot score, softmax, weighted sum
    else:
        scorer = keras.layers.AdditiveAttention()  # sum(scale * tanh(q + k)), softmax, sum
        query_layer = keras.layers.Dense(units, use_bias=False, name="query")  # W: h_t W
        key_layer = keras.layers.Dense(units, use_bias=False, name="key")  # U: e_s U
    attentional = keras.layers.Dense(
        attentional_units or units, activation="tanh", use_bias=False
    )  # W_c
    if output_bias is not None:
        output_bias = np.asarray(output_bias, dtype="float32")
        if output_bias.shape != (target_vocabulary_size,):
            raise ValueError(
                f"Argument `output_bias` must have shape ({target_vocabulary_size},), "
                f"received {output_bias.shape}."
            )
    output_layer = keras.layers.Dense(
        target_vocabulary_size,
        activation="softmax",
        bias_initializer="zeros"
        if output_bias is None
        else keras.initializers.Constant(output_bias),
    )  # W_s, b_s

    def decode(target_ids, state, encoder_outputs, source):
        decoder_outputs, h, c = decoder_lstm(target_embedding(target_ids), initial_state=state)
        if not attention:
            return output_layer(attentional(decoder_outputs)), h, c, None
        # Both masks explicitly: the source's keeps padding out of the softmax; the
        # target's is the one Attention passes on, so that, through Concatenate (a
        # layer, which joins masks; ops.concatenate drops them), padded target steps
        # stay out of the loss. Without it the context has no mask, Concatenate
        # keeps a step where any input does, and padding counts in the loss.
        if score == "dot":
            inputs = [decoder_outputs, encoder_outputs]  # query, value (= key)
        else:
            inputs = [query_layer(decoder_outputs), encoder_outputs, key_layer(encoder_outputs)]
        context, weights = scorer(
            inputs,
            mask=[
                None if drop_mask == "target" else ops.not_equal(target_ids, 0),
                None if drop_mask == "source" else ops.not_equal(source, 0),
            ],
            return_attention_scores=True,
        )  # (batch, target steps, units), (batch, target steps, source steps)
        combined = keras.layers.Concatenate()([context, decoder_outputs])  # [c_t ; h_t]
        return output_layer(attentional(combined)), h, c, weights

    source = keras.Input((None,), dtype="int32", name="source")
    decoder_input = keras.Input((None,), dtype="int32", name="decoder_input")
    encoder_outputs, h, c = encoder_lstm(source_embedding(source))
    probabilities = decode(decoder_input, [h, c], encoder_outputs, source)[0]
    training = keras.Model([source, decoder_input], probabilities)
    encoder = keras.Model(source, [encoder_outputs, h, c])

    token = keras.Input((1,), dtype="int32", name="token")
    state_h, state_c = keras.Input((units,), name="h"), keras.Input((units,), name="c")
    encoded = keras.Input((None, units), name="encoder_outputs")
    step_probabilities, next_h, next_c, weights = decode(token, [state_h, state_c], encoded, source)
    if weights is None:
        weights = ops.zeros_like(ops.sum(encoded, axis=-1, keepdims=True))  # (batch, source, 1)
        weights = ops.transpose(weights, (0, 2, 1))  # (batch, 1, source)
    step = keras.Model(
        [token, state_h, state_c, encoded, source], [step_probabilities, next_h, next_c, weights]
    )
    return Seq2SeqModels(training, encoder, step)


def greedy_decode(models, source, max_steps, start_id, end_id):
    """Feeds the most probable token back in, `max_steps` times, for a batch at once.

    Args:
        models: `Seq2SeqModels`.
        source: int `(batch, source steps)`.
        max_steps: Number of tokens to write (`<end>` included).
        start_id, end_id: Ids of `<start>` and `<end>` in the target vocabulary.

    Returns:
        ids `(batch, max_steps)`, padded with 0 after `<end>`; log-probabilities
        `(batch,)` of each output up to and including `<end>`; attention
        `(batch, max_steps, source steps)`.
    """
    source = np.asarray(source, dtype="int32")
    encoder_outputs, h, c = models.encoder.predict_on_batch(source)
    token = np.full((len(source), 1), start_id, dtype="int32")  # (batch, 1)
    finished = np.zeros(len(source), dtype=bool)
    log_probability = np.zeros(len(source))
    tokens, attention = [], []
    for _ in range(max_steps):
        probabilities, h, c, weights = models.step.predict_on_batch(
            [token, h, c, encoder_outputs, source]
        )
        probabilities = probabilities[:, 0]  # (batch, vocabulary)
        best = probabilities.argmax(axis=-1)  # (batch,)
        chosen = probabilities[np.arange(len(best)), best]
        log_probability += np.where(finished, 0.0, np.log(np.maximum(chosen, 1e-30)))
        best = np.where(finished, 0, best)  # padding after <end>, as beam_search writes
        finished |= best == end_id
        tokens.append(best)
        attention.append(weights[:, 0])  # (batch, source steps)
        token = best[:, None].astype("int32")
    if not tokens:  # max_steps 0: empty outputs, as beam_search gives
        empty = np.zeros((len(source), 0), dtype="int64")
        return empty, log_probability, np.zeros((len(source), 0, encoder_outputs.shape[1]))
    return np.stack(tokens, axis=1), log_probability, np.stack(attention, axis=1)


def _top_k(values, k):
    """Indices of the `k` largest entries of each row, largest first (ties: lower index).

    The same as `np.argsort(-values, kind="stable")[:, :k]`, without sorting whole rows
    of `beam * vocabulary` candidates: a partition finds the `k` largest, and only those
    are sorted. Rows with a tie at the k-th place are sorted in full, to keep the order.
    """
    columns = values.shape[1]
    if k >= columns:
        return np.argsort(-values, axis=1, kind="stable")
    chosen = np.argpartition(values, columns - k, axis=1)[:, columns - k :]  # (rows, k)
    kth = np.take_along_axis(values, chosen[:, :1], axis=1)  # (rows, 1), the k-th largest
    tied = np.flatnonzero(np.sum(values >= kth, axis=1) > k)  # a tie at the k-th place
    chosen.sort(axis=1)  # ascending index, so the stable sort below breaks ties by index
    order = np.argsort(-np.take_along_axis(values, chosen, axis=1), axis=1, kind="stable")
    chosen = np.take_along_axis(chosen, order, axis=1)
    if tied.size:
        chosen[tied] = np.argsort(-values[tied], axis=1, kind="stable")[:, :k]
    return chosen


def beam_search(models, source, max_steps, beam_width, start_id, end_id, length_penalty=0.0):
    """Keeps the `beam_width` most probable prefixes per input; returns the best output.

    The hypotheses of all inputs run as `batch * beam_width` rows of one batch. A
    hypothesis that has written `<end>` is finished: it is extended only by
    padding, at no cost, so its summed log-probability stays fixed. By default no
    length normalisation: the winner has the highest summed log-probability. With
    `beam_width=1` the result is `greedy_decode`'s.

    With `length_penalty=alpha > 0`, the final choice among the `beam_width`
    hypotheses divides each one's summed log-probability by Wu et al. (2016)'s
    `lp(Y) = ((5 + |Y|) / 6) ** alpha`, `|Y|` the tokens it wrote (`<end>` included);
    the search itself is unchanged. A log-probability is negative, so a larger divisor
    favours the longer hypotheses.

    Args:
        models: `Seq2SeqModels`.
        source: int `(batch, source steps)`.
        max_steps: Number of tokens to write (`<end>` included).
        beam_width: Hypotheses kept per input.
        start_id, end_id: Ids of `<start>` and `<end>` in the target vocabulary.
        length_penalty: `alpha` of the length penalty at the final choice; 0 for none.

    Returns:
        ids `(batch, max_steps)`, padded with 0 after a finished output, and their
        log-probabilities `(batch,)`.
    """
    if not length_penalty >= 0:
        raise ValueError(f"Argument `length_penalty` must be >= 0, received {length_penalty}.")
    source = np.asarray(source, dtype="int32")
    batch = len(source)
    encoder_outputs, h, c = models.encoder.predict_on_batch(source)
    encoder_outputs = np.repeat(encoder_outputs, beam_width, axis=0)  # (batch*beam, steps, units)
    h, c = np.repeat(h, beam_width, axis=0), np.repeat(c, beam_width, axis=0)
    repeated_source = np.repeat(source, beam_width, axis=0)  # (batch*beam, source steps)
    scores = np.full((batch, beam_width), -np.inf)
    scores[:, 0] = 0.0  # one live hypothesis at the start, or the beam would hold copies
    history = np.zeros((batch, beam_width, 0), dtype="int64")  # (batch, beam, steps so far)
    finished = np.zeros((batch, beam_width), dtype=bool)
    token = np.full((batch * beam_width, 1), start_id, dtype="int32")
    for _ in range(max_steps):
        probabilities, h, c, _ = models.step.predict_on_batch(
            [token, h, c, encoder_outputs, repeated_source]
        )
        log_p = np.log(np.maximum(probabilities[:, 0], 1e-30))  # (batch*beam, vocabulary)
        vocabulary_size = log_p.shape[-1]
        log_p = log_p.reshape(batch, beam_width, vocabulary_size)
        log_p[finished] = -np.inf
        log_p[finished, 0] = 0.0  # a finished hypothesis continues with padding, for free
        candidates = (scores[:, :, None] + log_p).reshape(batch, -1)  # (batch, beam*vocabulary)
        best = _top_k(candidates, beam_width)  # (batch, beam), best first
        parent, new_token = best // vocabulary_size, best % vocabulary_size
        scores = np.take_along_axis(candidates, best, axis=1)
        history = np.concatenate(
            [np.take_along_axis(history, parent[:, :, None], axis=1), new_token[:, :, None]], axis=2
        )
        finished = np.take_along_axis(finished, parent, axis=1) | (new_token == end_id)
        rows = (np.arange(batch)[:, None] * beam_width + parent).reshape(-1)  # parents' rows
        h, c = h[rows], c[rows]  # each survivor continues from its parent's state
        token = new_token.reshape(-1, 1).astype("int32")
        if finished.all():
            break
    best = np.zeros(batch, dtype="int64")  # beam 0 holds the most probable: sorted by score
    if length_penalty:
        lengths = np.sum(history != 0, axis=2)  # (batch, beam): tokens written, <end> included
        penalised = scores / ((5 + lengths) / 6) ** length_penalty
        best = np.argmax(penalised, axis=1)  # (batch,)
    rows = np.arange(batch)
    ids = np.zeros((batch, max_steps), dtype="int64")
    ids[:, : history.shape[2]] = history[rows, best]
    return ids, scores[rows, best]


def exact_matches(ids, target):
    """Whether each output equals its target exactly, `<end>` and the padding after it included.

    Args:
        ids: int `(batch, steps)`, as `greedy_decode` or `beam_search` write them.
        target: int `(batch, steps)`, the decoder's targets (the output, `<end>`, padding).

    Returns:
        bool `(batch,)`.
    """
    ids, target = np.asarray(ids), np.asarray(target)
    if ids.shape != target.shape:
        raise ValueError(f"`ids` {ids.shape} and `target` {target.shape} must have one shape.")
    return np.all(ids == target, axis=1)


class GreedyExactMatch(keras.callbacks.Callback):
    """Greedy-decodes a test set after every epoch: which outputs are exactly right.

    Attributes:
        correct: One bool array `(batch,)` per epoch so far: output `i` exactly right.
        exact_match: The share of exactly right outputs, one float per epoch.
        last: `(ids, log-probabilities, attention)` of greedy decoding after the last epoch.
        weights: `{epoch: the training model's weights after it}`, for each epoch (counted
            from 1) in `keep_weights_after`.

    Args:
        models: `Seq2SeqModels`.
        source, target: The test set: int `(batch, source steps)`, and the decoder's
            targets `(batch, steps)`, whose length is the number of steps decoded.
        start_id, end_id: Ids of `<start>` and `<end>`.
        keep_weights_after: Epochs (from 1) after which to keep a copy of the weights.
    """

    def __init__(self, models, source, target, start_id, end_id, keep_weights_after=()):
        super().__init__()
        self.seq2seq_models = models
        self.source, self.target = source, np.asarray(target)
        self.start_id, self.end_id = start_id, end_id
        self.keep_weights_after = set(keep_weights_after)
        self.correct, self.exact_match, self.last, self.weights = [], [], None, {}

    def on_epoch_end(self, epoch, logs=None):
        self.last = greedy_decode(
            self.seq2seq_models, self.source, self.target.shape[1], self.start_id, self.end_id
        )
        self.correct.append(exact_matches(self.last[0], self.target))
        self.exact_match.append(float(np.mean(self.correct[-1])))
        if epoch + 1 in self.keep_weights_after:
            self.weights[epoch + 1] = self.seq2seq_models.training.get_weights()


class ScheduledSampling(keras.Model):
    """Trains a seq2seq training model on a mix of true and predicted decoder inputs.

    Parallel scheduled sampling with one pass (Duckworth et al., 2019): a first pass
    without gradient predicts every next token from the true prefix; then each decoder
    input is the true token with probability `teacher_forcing_ratio` and that prediction
    otherwise, drawn per token and per example. Padding stays padding and a prediction is
    never padding, so the decoder input's mask, the one the loss uses, is unchanged. Only in
    training: evaluation and prediction are plain teacher forcing.

    Args:
        training_model: `Seq2SeqModels.training`, `[source, decoder_input] -> probabilities`.
        seed: Seed of the draws.

    Attributes:
        teacher_forcing_ratio: A non-trainable variable, 1.0 at first; a callback such as
            `TeacherForcingSchedule` lowers it.
    """

    def __init__(self, training_model, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.training_model = training_model
        self.teacher_forcing_ratio = keras.Variable(
            1.0, trainable=False, name="teacher_forcing_ratio"
        )
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        source, decoder_input = inputs  # decoder_input: <start> y_1 ... y_{T-1}
        if not training:
            return self.training_model([source, decoder_input])
        first_pass = ops.stop_gradient(self.training_model([source, decoder_input]))
        # Guesses of y_1 ... y_T among the real ids: a guessed 0 (padding) would mask a real
        # step out of the loss.
        predicted = ops.cast(ops.argmax(first_pass[..., 1:], axis=-1) + 1, "int32")
        own_input = ops.concatenate([decoder_input[:, :1], predicted[:, :-1]], axis=1)
        draws = keras.random.uniform(ops.shape(decoder_input), seed=self.seed_generator)
        # Padding stays padding: a guess there would mark the step real, and its target,
        # padding, would count in the loss.
        keep_true = ops.logical_or(
            draws < self.teacher_forcing_ratio, ops.equal(decoder_input, 0)
        )  # (batch, steps)
        return self.training_model([source, ops.where(keep_true, decoder_input, own_input)])


class TeacherForcingSchedule(keras.callbacks.Callback):
    """Lowers a `ScheduledSampling` model's ratio linearly, then holds it.

    The ratio is 1.0 in the first epoch and `final_ratio` from epoch `decay_epochs` (counted
    from 1) on, so the first `decay_epochs` epochs do not depend on how many follow; with
    `decay_epochs=1`, `final_ratio` from the start.
    """

    def __init__(self, final_ratio, decay_epochs):
        super().__init__()
        if not 0.0 <= final_ratio <= 1.0:
            raise ValueError(f"Argument `final_ratio` must be in [0, 1], received {final_ratio}.")
        if not isinstance(decay_epochs, int) or decay_epochs < 1:
            raise ValueError(
                f"Argument `decay_epochs` must be an int >= 1, received {decay_epochs!r}."
            )
        self.final_ratio, self.decay_epochs = final_ratio, decay_epochs

    def ratio(self, epoch):
        """The ratio in epoch `epoch` (counted from 0, as Keras counts)."""
        if self.decay_epochs == 1:
            return self.final_ratio
        progress = min(epoch, self.decay_epochs - 1) / (self.decay_epochs - 1)
        return 1.0 - (1.0 - self.final_ratio) * progress

    def on_epoch_begin(self, epoch, logs=None):
        self.model.teacher_forcing_ratio.assign(self.ratio(epoch))


def continuation_accuracy(models, source, target, position, start_id, fed_at_position=None):
    """How well a model goes on after a prefix: accuracy of each output's later tokens.

    The step model reads the true tokens up to `position` (with `fed_at_position`, e.g. a
    wrong token, in place of the true one there), then its own greedy outputs; the tokens it
    writes after `position` are compared with the target's.

    Args:
        models: `Seq2SeqModels`.
        source: int `(batch, source steps)`.
        target: int `(batch, steps)`, the decoder's targets.
        position: The last step of the forced prefix (from 0).
        start_id: Id of `<start>`.
        fed_at_position: Optional int `(batch,)`, the tokens fed back after step `position`.

    Returns:
        float `(batch,)`: the share of right tokens after `position`, per example.
    """
    target = np.asarray(target)
    if not 0 <= position < target.shape[1] - 1:
        raise ValueError(
            f"Argument `position` must leave a step to score, 0 <= position < "
            f"{target.shape[1] - 1} for targets of {target.shape[1]} steps, received {position}."
        )
    encoder_outputs, h, c = models.encoder.predict_on_batch(source)
    token = np.full((len(target), 1), start_id, dtype="int32")
    written = []
    for t in range(target.shape[1]):
        probabilities, h, c, _ = models.step.predict_on_batch(
            [token, h, c, encoder_outputs, source]
        )
        written.append(probabilities[:, 0].argmax(axis=-1))  # (batch,)
        if t == position and fed_at_position is not None:
            fed = np.asarray(fed_at_position)
        else:
            fed = target[:, t] if t <= position else written[-1]  # true prefix, then its own
        token = fed[:, None].astype("int32")
    written = np.stack(written, axis=1)  # (batch, steps)
    return np.mean(written[:, position + 1 :] == target[:, position + 1 :], axis=1)


def loss_by_hand(models, source, decoder_input, decoder_target, count=64, floor=1e-6):
    """Keras's loss on one batch beside the masked formula and the plain mean, by hand.

    The masked loss is the mean of `-log p(y_t)` over the real target steps only (the
    decoder input's mask: the steps whose target is a word or `<end>`); the plain mean
    takes every step, padding included. Keras's reported loss must equal the first and
    differ from the second when the target mask reaches the loss.

    Only pairs where every real target got a probability above `floor` are used: below
    `keras.config.epsilon()` (1e-7) the backends part ways (JAX and PyTorch clip the
    probability there, TensorFlow computes the loss from the logits and clips nothing).

    Args:
        models: `Seq2SeqModels`.
        source, decoder_input, decoder_target: int arrays, as for `models.training`.
        count: How many pairs to use (the first that pass the floor).
        floor: The smallest probability a real target may have.

    Returns:
        A dict: `reported` (Keras's loss on those pairs, one batch), `masked` and
        `every_step` (by hand), `padding_share` (of their target steps), `pairs` (used).
    """
    probabilities = models.training.predict_on_batch([source, decoder_input])  # (n, steps, V)
    picked = np.take_along_axis(probabilities, decoder_target[:, :, None], axis=-1)[..., 0]
    real = decoder_input != 0  # (n, steps)
    rows = np.flatnonzero(np.all(np.where(real, picked, 1.0) > floor, axis=1))[:count]
    if rows.size == 0:
        raise ValueError(f"No pair has every real target above {floor}.")
    reported = models.training.evaluate(
        [source[rows], decoder_input[rows]],
        decoder_target[rows],
        batch_size=len(rows),
        verbose=0,
        return_dict=True,
    )["loss"]  # one batch: evaluate averages per-batch means, each over that batch's real tokens
    negative_log = -np.log(np.clip(picked[rows], keras.config.epsilon(), 1.0))  # (pairs, steps)
    return {
        "reported": float(reported),
        "masked": float(negative_log[real[rows]].mean()),
        "every_step": float(negative_log.mean()),
        "padding_share": float(1 - real[rows].mean()),
        "pairs": int(len(rows)),
    }
