"""lstmkit.char_lm and TimeBudget: the character model trained for a time budget, scored with
its state carried through held-out text, the n-grams scored on the same characters."""

import time

import keras
import numpy as np
import pytest

from lstmkit import char_lm
from lstmkit.callbacks import TimeBudget, warmup_cosine
from lstmkit.ngram import NGramModel

VOCABULARY = 7
TINY = char_lm.FULL_SIZE.replace(
    train_characters=None,
    units=8,
    embedding_dim=4,
    sequence_length=5,
    streams=3,
    learning_rate=1e-2,
    input_dropout=0.1,
    output_dropout=0.1,
    minutes=0.02,
)


def text(length, seed=0):
    """A stream with something to learn: a repeated word with a little noise."""
    rng = np.random.default_rng(seed)
    ids = np.tile([1, 2, 3, 4, 0], length // 5 + 1)[:length]
    noise = rng.random(length) < 0.1
    ids[noise] = rng.integers(0, VOCABULARY, noise.sum())
    return ids.astype("int32")


def test_warmup_cosine_rises_then_falls_to_zero():
    assert warmup_cosine(0.0, 0.1) == 0.0
    assert warmup_cosine(0.05, 0.1) == pytest.approx(0.5)
    assert warmup_cosine(0.1, 0.1) == pytest.approx(1.0)
    assert warmup_cosine(0.55, 0.1) == pytest.approx(0.5)
    assert warmup_cosine(1.0, 0.1) == pytest.approx(0.0)
    assert warmup_cosine(2.0, 0.1) == pytest.approx(0.0)  # past the budget: still 0


def test_stream_windows_tile_each_stream_in_order():
    ids = np.arange(101)
    x, y = char_lm.stream_windows(ids, sequence_length=4, streams=3)
    batches = len(x) // 3  # 8 windows per stream: 24 of the 24 windows fastbook's starts give
    assert x.shape == y.shape == (3 * batches, 4)
    for row in range(3):
        stream = x[row::3].reshape(-1)  # row j of every batch, in order
        start = row * batches * 4
        np.testing.assert_array_equal(stream, ids[start : start + len(stream)])
    np.testing.assert_array_equal(y, x + 1)


def test_too_few_windows_for_the_streams_names_streams():
    # make_stream_batches's own message named `batch_size`, which the caller never passed.
    ids = np.arange(3000) % 7  # 11 windows of 250
    for make in (
        lambda: char_lm.stream_windows(ids, 250, 16),
        lambda: char_lm.HeldOutText(ids, streams=16, sequence_length=250),
    ):
        with pytest.raises(ValueError, match=r"11 windows .* fewer than streams=16"):
            make()


def test_with_batch_shape_copies_the_weights_not_the_state():
    model = char_lm.build_model(VOCABULARY, TINY)
    x, _ = char_lm.stream_windows(text(200), TINY.sequence_length, TINY.streams)
    model.predict_on_batch(x[:3])  # the model now carries a state
    twin = char_lm.with_batch_shape(model, 1, 10)
    assert tuple(twin.inputs[0].shape) == (1, 10)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    lstm = [layer for layer in twin.layers if getattr(layer, "stateful", False)][0]
    state = keras.ops.convert_to_numpy(lstm.states[0])
    assert state.shape == (1, TINY.units)  # the new batch size, not the model's
    assert np.abs(state).max() == 0.0


def test_held_out_bits_are_each_stream_read_whole_in_text_order():
    model = char_lm.build_model(VOCABULARY, TINY)
    ids = text(203)
    held_out = char_lm.HeldOutText(ids, streams=2, sequence_length=10)
    assert held_out.count == 200 and len(held_out.scored) == 201  # 2 streams x 10 windows x 10
    bits = held_out.bits(model)
    assert bits.shape == (200,)
    # The reference: each stream read in one call, from a zero state.
    reader = char_lm.with_batch_shape(model, 1, 100)
    expected = []
    for stream in range(2):
        start = stream * 100
        char_lm.reset_states(reader)
        logits = keras.ops.convert_to_numpy(reader(ids[None, start : start + 100]))[0]
        logits = logits.astype("float64")
        log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        expected.append(-log_p[np.arange(100), ids[start + 1 : start + 101]] / np.log(2))
    np.testing.assert_allclose(bits, np.concatenate(expected), rtol=1e-4, atol=1e-4)
    assert held_out.bits_per_character(model) == pytest.approx(bits.mean())


def test_ngram_start_scores_only_the_later_positions():
    ids = text(300)
    model = NGramModel(3, VOCABULARY).fit(ids[:200])
    p = model.probabilities(ids[200:], 3)
    assert model.bits_per_token(ids[200:], start=1) == pytest.approx(-np.log2(p[1:]).mean())
    assert model.bits_by_order(ids[200:], start=1)[3] == pytest.approx(-np.log2(p[1:]).mean())
    with pytest.raises(ValueError, match="start"):
        model.bits_by_order(ids[200:], start=100)


def tiny_model_and_data():
    keras.utils.set_random_seed(0)
    model = char_lm.build_model(VOCABULARY, TINY)
    char_lm.compile_model(model, TINY)
    x, y = char_lm.stream_windows(text(600), TINY.sequence_length, TINY.streams)
    return model, x, y


def test_time_budget_stops_training_and_keeps_evaluations_off_the_clock():
    model, x, y = tiny_model_and_data()
    seen = []

    def slow_evaluation(model):
        time.sleep(0.3)
        return 1.0

    # One step first, so that compiling the train step (seconds on JAX) is not in the budget.
    model.fit(x[:3], y[:3], batch_size=TINY.streams, epochs=1, shuffle=False, verbose=0)
    budget = TimeBudget(
        1.5, 1e-2, evaluate=slow_evaluation, every_seconds=0.5, on_evaluation=seen.append
    )
    started = time.perf_counter()
    model.fit(x, y, batch_size=TINY.streams, epochs=10**6, shuffle=False, verbose=0,
              callbacks=[budget])  # fmt: skip
    wall = time.perf_counter() - started
    assert 1.5 <= budget.seconds_trained < 1.5 + 1.0  # stops at the first step past the budget
    assert wall >= budget.seconds_trained + 0.3 * (len(budget.curve) - 1)  # evaluations add
    assert seen == budget.curve and budget.curve[0]["seconds"] == 0.0
    assert len(budget.curve) >= 4  # the start, every 0.5 s, the end
    assert budget.curve[-1]["steps"] == budget.steps
    assert budget.curve[-1]["learning_rate"] < 0.05 * 1e-2  # annealed


def test_time_budget_keeps_the_first_step_of_each_later_pass_off_the_clock():
    # A pause at the start of every later pass (as TensorFlow's input pipeline can take):
    # the training time leaves it out, so a run that crosses passes loses nothing by it.
    model, x, y = tiny_model_and_data()
    model.fit(x[:3], y[:3], batch_size=TINY.streams, epochs=1, shuffle=False, verbose=0)
    pause = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: time.sleep(0.2) if epoch else None
    )
    budget = TimeBudget(0.6, 1e-2)
    started = time.perf_counter()
    model.fit(x, y, batch_size=TINY.streams, epochs=10**6, shuffle=False, verbose=0,
              callbacks=[pause, budget])  # fmt: skip
    wall = time.perf_counter() - started
    passes = len(budget.pass_start_seconds)
    assert passes >= 1 and budget.steps > passes * len(x) // TINY.streams
    assert min(budget.pass_start_seconds) >= 0.2
    assert 0.6 <= budget.seconds_trained < 0.6 + 0.5
    assert wall >= budget.seconds_trained + 0.2 * passes


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_time_budget_rate_reaches_the_train_step(share):
    # Compiled at rate 1e-2, the schedule says `share` of 1.0: with 0 the weights must stay
    # as they are (on JAX the rate travels in the trainer's state, which the callback syncs).
    model, x, y = tiny_model_and_data()
    before = [w.copy() for w in model.get_weights()]
    budget = TimeBudget(0.5, 1.0, schedule=lambda progress: share)
    model.fit(x, y, batch_size=TINY.streams, epochs=10**6, shuffle=False, verbose=0,
              callbacks=[budget])  # fmt: skip
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == share
    moved = max(np.abs(a - b).max() for a, b in zip(before, model.get_weights()))
    assert (moved == 0.0) == (share == 0.0), moved


def test_train_learns_the_text_within_its_budget():
    keras.utils.set_random_seed(0)
    ids = text(3000)
    model = char_lm.build_model(VOCABULARY, TINY)
    held_out = char_lm.HeldOutText(text(500, seed=1), streams=2, sequence_length=10)
    rows = []
    budget = char_lm.train(
        model, ids, TINY.replace(units=16, minutes=0.05), held_out, on_evaluation=rows.append
    )
    assert budget.seconds_trained >= 3.0 and budget.steps > 10
    assert rows == budget.curve and len(rows) == 2  # the start and the end
    assert rows[0]["value"] == pytest.approx(np.log2(VOCABULARY), abs=1.0)
    ngram = NGramModel(2, VOCABULARY).fit(ids).bits_per_token(held_out.scored, start=1)
    assert rows[-1]["value"] < ngram + 0.3  # far below its start, near the bigram's
    assert rows[-1]["items"] == budget.steps * TINY.streams * TINY.sequence_length


def test_settings_replace_and_reject_unknown_names():
    assert char_lm.FULL_SIZE.replace(minutes=40).minutes == 40
    assert char_lm.DEFAULT.units == char_lm.FULL_SIZE.units or char_lm.DEFAULT.minutes < 5
    with pytest.raises(TypeError):
        char_lm.FULL_SIZE.replace(epochs=3)
