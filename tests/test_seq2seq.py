"""lstmkit.seq2seq on the active backend: the three models agree, the decoders are right."""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from lstmkit import seq2seq

SOURCE_VOCABULARY, TARGET_VOCABULARY, START, END = 9, 5, 1, 2
UNITS = 6


def models(attention=True, seed=0, score="dot"):
    keras.utils.set_random_seed(seed)
    return seq2seq.build_seq2seq(
        SOURCE_VOCABULARY, TARGET_VOCABULARY, 4, UNITS, attention, score=score
    )


def source_batch():
    source = np.random.default_rng(1).integers(3, SOURCE_VOCABULARY, size=(4, 7)).astype("int32")
    source[1, 5:] = source[2, 3:] = 0  # right padding
    return source


def step_through(m, source, tokens):
    """Probabilities of every step, feeding `tokens` (batch, steps) to the step model."""
    encoder_outputs, h, c = m.encoder.predict_on_batch(source)
    out, attention = [], []
    for t in range(tokens.shape[1]):
        probabilities, h, c, alpha = m.step.predict_on_batch(
            [tokens[:, t : t + 1], h, c, encoder_outputs, source]
        )
        out.append(probabilities[:, 0])
        attention.append(alpha[:, 0])
    return np.stack(out, axis=1), np.stack(attention, axis=1)


@pytest.mark.parametrize("attention, score", [(True, "dot"), (False, "dot"), (True, "additive")])
def test_step_model_reproduces_the_training_model(attention, score):
    m = models(attention, score=score)
    source = source_batch()
    tokens = np.random.default_rng(2).integers(3, TARGET_VOCABULARY, size=(4, 5)).astype("int32")
    tokens[:, 0] = START
    teacher_forced = ops.convert_to_numpy(m.training([source, tokens]))  # (4, 5, vocabulary)
    stepped, alpha = step_through(m, source, tokens)
    np.testing.assert_allclose(stepped, teacher_forced, rtol=1e-5, atol=1e-6)
    assert alpha.shape == (4, 5, 7)
    if attention:
        np.testing.assert_allclose(alpha.sum(axis=-1), 1.0, atol=1e-5)
        assert np.abs(alpha * (source == 0)[:, None, :]).max() < 1e-7  # padding gets none
    else:
        assert not alpha.any()


def test_attention_changes_with_the_source():
    # The context reads the encoder outputs: a different source, a different output.
    m = models()
    source = source_batch()
    tokens = np.full((4, 1), START, "int32")
    changed = source.copy()
    changed[:, 0] = np.where(changed[:, 0] == 3, 4, 3)
    probabilities = [ops.convert_to_numpy(m.training([x, tokens])) for x in (source, changed)]
    assert not np.allclose(*probabilities)


def test_training_loss_leaves_out_target_padding():
    m = models()
    source = source_batch()
    target = np.random.default_rng(3).integers(3, TARGET_VOCABULARY, size=(4, 6)).astype("int32")
    target[0, 2:] = target[3, 4:] = 0  # padded targets
    decoder_input = np.concatenate([np.full((4, 1), START, "int32"), target[:, :-1]], axis=1)
    real = decoder_input != 0  # the mask the decoder's embedding makes
    m.training.compile(loss="sparse_categorical_crossentropy")
    reported = m.training.evaluate([source, decoder_input], target, verbose=0)
    probabilities = ops.convert_to_numpy(m.training([source, decoder_input]))
    picked = np.take_along_axis(probabilities, target[:, :, None], axis=-1)[..., 0]
    assert reported == pytest.approx(-np.log(picked)[real].mean(), rel=1e-5)
    # Other targets at the padded steps: a loss that counted them would change.
    other = np.where(real, target, 4)
    assert m.training.evaluate([source, decoder_input], other, verbose=0) == pytest.approx(
        reported, rel=1e-6
    )
    picked_other = np.take_along_axis(probabilities, other[:, :, None], axis=-1)[..., 0]
    assert -np.log(picked_other).mean() != pytest.approx(-np.log(picked).mean(), rel=1e-6)


def test_beam_width_one_is_greedy():
    m = models()
    source = source_batch()
    greedy, greedy_log_probability, attention = seq2seq.greedy_decode(m, source, 6, START, END)
    beam, beam_log_probability = seq2seq.beam_search(m, source, 6, 1, START, END)
    np.testing.assert_array_equal(beam, greedy)
    np.testing.assert_allclose(beam_log_probability, greedy_log_probability, rtol=1e-5, atol=1e-5)
    assert attention.shape == (4, 6, 7)


def exhaustive_best(m, source, steps):
    """The most probable output of exactly `steps` tokens (padding after <end>), by brute force."""
    best_ids, best_scores = [], []
    for row in source:
        candidates = np.array(list(itertools.product(range(TARGET_VOCABULARY), repeat=steps)))
        ended = np.cumsum(candidates == END, axis=1) - (candidates == END) > 0  # after <end>
        keep = ~(ended & (candidates != 0)).any(axis=1)  # only padding after <end>
        candidates, ended = candidates[keep], ended[keep]
        tokens = np.concatenate([np.full((len(candidates), 1), START), candidates[:, :-1]], 1)
        repeated = np.repeat(row[None], len(candidates), axis=0)
        probabilities, _ = step_through(m, repeated, tokens.astype("int32"))
        picked = np.take_along_axis(probabilities, candidates[:, :, None], axis=-1)[..., 0]
        scores = np.where(ended, 0.0, np.log(picked)).sum(axis=1)
        best_ids.append(candidates[scores.argmax()])
        best_scores.append(scores.max())
    return np.array(best_ids), np.array(best_scores)


def test_wide_beam_finds_the_most_probable_output():
    # With beam_width = vocabulary ** (steps - 1) no prefix is ever dropped, so
    # beam search is exhaustive; a narrower beam may miss the best output.
    m = models(seed=3)
    source = source_batch()[:2]
    steps = 3
    expected_ids, expected_scores = exhaustive_best(m, source, steps)
    ids, scores = seq2seq.beam_search(
        m, source, steps, TARGET_VOCABULARY ** (steps - 1), START, END
    )
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-5)
    _, greedy_scores, _ = seq2seq.greedy_decode(m, source, steps, START, END)
    assert np.all(scores >= greedy_scores - 1e-5)


def test_additive_score_is_bahdanaus():
    # a_ts = v . tanh(h_t W + e_s U), softmax over the unpadded source, context sum_s alpha e_s.
    m = models(score="additive")
    source = source_batch()
    token = np.full((len(source), 1), START, "int32")
    encoder_outputs, h, c = m.encoder.predict_on_batch(source)
    _, h_1, _, alpha = m.step.predict_on_batch([token, h, c, encoder_outputs, source])
    W, U = (m.step.get_layer(name).get_weights()[0] for name in ("query", "key"))
    additive = next(
        layer for layer in m.step.layers if isinstance(layer, keras.layers.AdditiveAttention)
    )
    (scale,) = additive.get_weights()  # v
    scores = np.tanh((h_1 @ W)[:, None, :] + encoder_outputs @ U) @ scale  # (batch, S)
    scores = np.where(source != 0, scores, -np.inf)
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(alpha[:, 0], expected, rtol=1e-5, atol=1e-6)


def test_score_must_be_dot_or_additive():
    with pytest.raises(ValueError, match="score"):
        models(score="general")


def test_exact_matches_counts_only_whole_outputs():
    target = np.array([[5, 6, END], [5, 6, END], [5, END, 0]])
    ids = np.array([[5, 6, END], [5, 4, END], [5, END, 0]])
    np.testing.assert_array_equal(seq2seq.exact_matches(ids, target), [True, False, True])
    with pytest.raises(ValueError, match="shape"):
        seq2seq.exact_matches(ids[:, :2], target)


def dates_like_batch(size=8, steps=4, seed=5):
    rng = np.random.default_rng(seed)
    source = rng.integers(3, SOURCE_VOCABULARY, size=(size, 7)).astype("int32")
    target = rng.integers(3, TARGET_VOCABULARY, size=(size, steps)).astype("int32")
    target[:, -1] = END
    decoder_input = np.concatenate([np.full((size, 1), START, "int32"), target[:, :-1]], 1)
    return source, decoder_input, target


def test_greedy_exact_match_records_every_epoch_and_keeps_weights():
    m = models()
    source, decoder_input, target = dates_like_batch()
    tracker = seq2seq.GreedyExactMatch(m, source, target, START, END, keep_weights_after=[1])
    m.training.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    m.training.fit([source, decoder_input], target, epochs=2, verbose=0, callbacks=[tracker])
    assert len(tracker.correct) == len(tracker.exact_match) == 2
    ids = seq2seq.greedy_decode(m, source, target.shape[1], START, END)[0]
    np.testing.assert_array_equal(tracker.last[0], ids)  # after the last epoch
    assert tracker.exact_match[-1] == np.mean(seq2seq.exact_matches(ids, target))
    assert list(tracker.weights) == [1]
    assert not all(
        np.array_equal(a, b) for a, b in zip(tracker.weights[1], m.training.get_weights())
    )


def test_scheduled_sampling_mixes_true_and_predicted_inputs():
    m = models()
    source, decoder_input, _ = dates_like_batch()
    sampled = seq2seq.ScheduledSampling(m.training, seed=0)
    teacher_forced = ops.convert_to_numpy(m.training([source, decoder_input]))
    # Evaluation, and training at ratio 1.0: plain teacher forcing.
    for training in (False, True):
        np.testing.assert_allclose(
            ops.convert_to_numpy(sampled([source, decoder_input], training=training)),
            teacher_forced,
            rtol=1e-5,
            atol=1e-6,
        )
    # Ratio 0.0: every input after <start> is the first pass's own guess.
    sampled.teacher_forcing_ratio.assign(0.0)
    guesses = (teacher_forced[..., 1:].argmax(axis=-1) + 1).astype("int32")  # never padding
    own = np.concatenate([decoder_input[:, :1], guesses[:, :-1]], axis=1)
    np.testing.assert_allclose(
        ops.convert_to_numpy(sampled([source, decoder_input], training=True)),
        ops.convert_to_numpy(m.training([source, own])),
        rtol=1e-5,
        atol=1e-6,
    )


def test_scheduled_sampling_keeps_the_loss_on_the_real_target_steps():
    # Guesses fed at padded steps would mark them real, and their targets (padding) would
    # count in the loss; a guessed 0 at a real step would drop it.
    m = models(seed=3)
    source, decoder_input, target = dates_like_batch(steps=5)
    decoder_input[:4, 3:], target[:4, 2:] = 0, 0  # short outputs: <end> at step 2, padding after
    target[:4, 2] = END
    sampled = seq2seq.ScheduledSampling(m.training, seed=0)
    sampled.teacher_forcing_ratio.assign(0.0)
    probabilities = sampled([source, decoder_input], training=True)  # (batch, steps, vocabulary)
    picked = np.take_along_axis(ops.convert_to_numpy(probabilities), target[..., None], -1)[..., 0]
    real = decoder_input != 0
    masked = float(-np.log(picked[real]).mean())  # the mean over the real target steps only
    loss = keras.losses.SparseCategoricalCrossentropy()
    np.testing.assert_allclose(float(loss(target, probabilities)), masked, rtol=1e-5)
    # Whatever the targets at padded steps hold, the loss is the same.
    other = np.where(real, target, 3).astype("int32")
    np.testing.assert_allclose(float(loss(other, probabilities)), masked, rtol=1e-5)


def test_teacher_forcing_schedule_falls_linearly_then_holds():
    schedule = seq2seq.TeacherForcingSchedule(0.5, decay_epochs=3)
    assert [schedule.ratio(epoch) for epoch in range(5)] == [1.0, 0.75, 0.5, 0.5, 0.5]
    assert seq2seq.TeacherForcingSchedule(0.0, 1).ratio(0) == 0.0
    with pytest.raises(ValueError, match="final_ratio"):
        seq2seq.TeacherForcingSchedule(1.5, 3)
    with pytest.raises(ValueError, match="decay_epochs"):
        seq2seq.TeacherForcingSchedule(0.5, 0)


def test_continuation_accuracy_feeds_the_prefix_then_its_own_outputs():
    m = models(seed=2)
    source, _, target = dates_like_batch()
    position = 1
    wrong = np.where(target[:, position] == 3, 4, 3)
    for fed in (None, wrong):
        # By hand: true tokens up to `position` (or `fed` there), then greedy.
        encoder_outputs, h, c = m.encoder.predict_on_batch(source)
        token, written = np.full((len(source), 1), START, "int32"), []
        for t in range(target.shape[1]):
            probabilities, h, c, _ = m.step.predict_on_batch([token, h, c, encoder_outputs, source])
            written.append(probabilities[:, 0].argmax(axis=-1))
            if t < position or (t == position and fed is None):
                token = target[:, t : t + 1]
            elif t == position:
                token = fed[:, None]
            else:
                token = written[-1][:, None].astype("int32")
        expected = np.mean(np.stack(written, 1)[:, position + 1 :] == target[:, position + 1 :], 1)
        accuracy = seq2seq.continuation_accuracy(m, source, target, position, START, fed)
        np.testing.assert_array_equal(accuracy, expected)


def test_zero_steps_and_a_prefix_with_nothing_after_it():
    m = models()
    source, _, target = dates_like_batch()
    ids, log_probability, attention = seq2seq.greedy_decode(m, source, 0, START, END)
    beam_ids, beam_log_probability = seq2seq.beam_search(m, source, 0, 2, START, END)
    assert ids.shape == beam_ids.shape == (len(source), 0)
    assert attention.shape == (len(source), 0, source.shape[1])
    np.testing.assert_array_equal(log_probability, beam_log_probability)  # zeros
    for position in (target.shape[1] - 1, -1):
        with pytest.raises(ValueError, match="position"):
            seq2seq.continuation_accuracy(m, source, target, position, START)


def test_top_k_is_a_stable_argsort_cut_to_k():
    rng = np.random.default_rng(0)
    for _ in range(200):
        rows, columns = rng.integers(1, 5), rng.integers(1, 30)
        k = int(rng.integers(1, columns + 1))
        values = rng.integers(-3, 3, size=(rows, columns)).astype(float)  # many ties
        values[rng.random((rows, columns)) < 0.3] = -np.inf
        expected = np.argsort(-values, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(seq2seq._top_k(values, k), expected)


def test_length_penalty_picks_the_best_normalised_hypothesis_and_never_a_shorter_one():
    m = models(seed=3)
    source = source_batch()
    plain, plain_scores = seq2seq.beam_search(m, source, 5, 3, START, END)
    same, same_scores = seq2seq.beam_search(m, source, 5, 3, START, END, length_penalty=0.0)
    np.testing.assert_array_equal(same, plain)
    for alpha in (0.6, 2.0):
        ids, scores = seq2seq.beam_search(m, source, 5, 3, START, END, length_penalty=alpha)
        assert np.all(scores <= plain_scores + 1e-6)  # the plain choice is the most probable
        assert np.all((ids != 0).sum(axis=1) >= (plain != 0).sum(axis=1))
    with pytest.raises(ValueError, match="length_penalty"):
        seq2seq.beam_search(m, source, 5, 3, START, END, length_penalty=-1.0)


@pytest.mark.parametrize("dropped", ["source", "target"])
def test_a_dropped_mask_shows_where_padding_leaks(dropped):
    keras.utils.set_random_seed(0)
    m = seq2seq.build_seq2seq(SOURCE_VOCABULARY, TARGET_VOCABULARY, 4, UNITS, drop_mask=dropped)
    source = source_batch()
    tokens = np.random.default_rng(2).integers(3, TARGET_VOCABULARY, size=(4, 5)).astype("int32")
    tokens[:, 0] = START
    tokens[0, 3:] = 0  # a padded target
    _, alpha = step_through(m, source, tokens)
    padding_weight = np.abs(alpha * (source == 0)[:, None, :]).max()
    assert (padding_weight > 1e-3) == (dropped == "source")
    m.training.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    target = np.concatenate([tokens[:, 1:], np.full((4, 1), END, "int32")], axis=1)
    target[0, 2], target[0, 3:] = END, 0  # the decoder input's mask marks its real steps
    found = seq2seq.loss_by_hand(m, source, tokens, target, floor=0.0)
    counted = found["every_step"] if dropped == "target" else found["masked"]
    assert found["reported"] == pytest.approx(counted, rel=1e-4)
    assert found["padding_share"] == pytest.approx(2 / 20)
    with pytest.raises(ValueError, match="drop_mask"):
        seq2seq.build_seq2seq(9, 5, 4, 6, drop_mask="both")


def test_output_bias_starts_the_model_at_the_given_distribution():
    frequencies = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    log_frequencies = np.log(np.maximum(frequencies, 1e-9))
    keras.utils.set_random_seed(0)
    m = seq2seq.build_seq2seq(
        SOURCE_VOCABULARY, TARGET_VOCABULARY, 4, UNITS, output_bias=log_frequencies
    )
    output_layer = m.training.layers[-1]
    np.testing.assert_allclose(ops.convert_to_numpy(output_layer.bias), log_frequencies, rtol=1e-6)
    with pytest.raises(ValueError, match="output_bias"):
        seq2seq.build_seq2seq(SOURCE_VOCABULARY, TARGET_VOCABULARY, 4, UNITS, output_bias=[0.0])
