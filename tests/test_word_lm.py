"""lstmkit.word_lm: lesson 05's Human Numbers models, schedule, training and measurements."""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

import lstmkit
from lstmkit import word_lm
from lstmkit.datasets import make_language_model_windows, make_stream_batches

VOCABULARY = 6


def counting_batches(sequence_length=4, batch_size=3):
    """A stream that counts 0 1 2 ... 5 0 1 ..., as stream batches (train, validation)."""
    ids = np.arange(400) % VOCABULARY
    x, y = make_language_model_windows(ids, sequence_length)
    split = len(x) * 3 // 4
    return (
        make_stream_batches(x[:split], y[:split], batch_size=batch_size),
        make_stream_batches(x[split:], y[split:], batch_size=batch_size),
    )


@pytest.mark.parametrize("kind", ["SimpleRNN", "GRU", "LSTM"])
def test_build_model_maps_ids_to_one_logit_per_token(kind):
    model = word_lm.build_model(VOCABULARY, kind, num_layers=2, units=5, batch_size=3)
    logits = model(np.zeros((3, 16), dtype="int32"))
    assert tuple(logits.shape) == (3, 16, VOCABULARY)
    recurrent = [layer for layer in model.layers if hasattr(layer, "cell")]
    assert len(recurrent) == 2 and all(layer.stateful for layer in recurrent)
    assert isinstance(recurrent[0], word_lm.RECURRENT[kind])
    assert word_lm.RECURRENT["LSTM"] is lstmkit.LSTM


def test_build_model_embedding_starts_like_pytorch_unless_told():
    keras.utils.set_random_seed(0)
    torch_like = word_lm.build_model(VOCABULARY, units=64)
    keras_like = word_lm.build_model(VOCABULARY, units=64, embeddings_initializer="uniform")
    assert ops.convert_to_numpy(torch_like.layers[1].embeddings).std() == pytest.approx(1, abs=0.1)
    assert np.abs(ops.convert_to_numpy(keras_like.layers[1].embeddings)).max() <= 0.05


def test_build_model_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        word_lm.build_model(VOCABULARY, "Transformer")


def test_gate_input_spread_is_the_spread_of_e_w_and_linear_in_the_scale():
    keras.utils.set_random_seed(0)
    model = word_lm.build_model(VOCABULARY, units=8)
    embeddings = ops.convert_to_numpy(model.layers[1].embeddings)
    kernel = ops.convert_to_numpy(model.layers[2].cell.kernel)
    expected = (embeddings @ kernel).std(axis=0).mean()
    assert word_lm.gate_input_spread(model) == pytest.approx(expected)
    model.layers[1].embeddings.assign(0.1 * embeddings)
    assert word_lm.gate_input_spread(model) == pytest.approx(0.1 * expected)


def test_one_cycle_warms_up_to_the_peak_then_decays_to_zero():
    schedule = word_lm.one_cycle(1e-2, 100)
    assert float(schedule(0)) == pytest.approx(1e-2 / 25)
    assert float(schedule(25)) == pytest.approx(1e-2)
    assert float(schedule(100)) == pytest.approx(0.0, abs=1e-9)
    assert float(schedule(10)) < float(schedule(20)) < 1e-2 and float(schedule(60)) < 1e-2


def test_train_learns_a_count_and_accuracy_by_position_agrees_with_fit():
    keras.utils.set_random_seed(0)
    data = counting_batches()
    model = word_lm.build_model(VOCABULARY, units=16, batch_size=3, sequence_length=4)
    history = word_lm.train(model, data, 8, "test", batch_size=3, learning_rate=3e-2)
    assert len(history["val_accuracy"]) == 8
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    x_valid, y_valid = data[1]
    by_position = word_lm.accuracy_by_position(model, x_valid, y_valid, batch_size=3)
    assert by_position.shape == (4,)
    # Validation reads the windows in order from a zeroed state, as accuracy_by_position does.
    assert by_position.mean() == pytest.approx(history["val_accuracy"][-1], abs=1e-6)


def test_one_token_ceiling_is_the_best_any_first_token_lookup_scores():
    # First tokens 0, 0, 0, 1: after 0 the next token is 2, 2, 3; after 1 it is 3.
    x = np.array([[0, 5], [0, 5], [0, 5], [1, 5]])
    y = np.array([[2, 0], [2, 0], [3, 0], [3, 0]])
    assert word_lm.one_token_ceiling(x, y, vocabulary_size=6) == pytest.approx(3 / 4)
    # No lookup of the first token does better: try every one.
    best = max(
        np.mean([table[first] == after for first, after in zip(x[:, 0], y[:, 0])])
        for table in itertools.product(range(6), repeat=2)
    )
    assert best == pytest.approx(3 / 4)
