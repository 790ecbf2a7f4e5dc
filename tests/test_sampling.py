"""lstmkit.sampling: the next-token distribution under temperature and top-k, draws, generation."""

import keras
import numpy as np
import pytest
from keras import ops

import lstmkit
from lstmkit.sampling import generate, next_token_probabilities, sample_next_token

LOGITS = np.array([[2.0, 1.0, 0.5, -1.0, 0.0], [0.0, 3.0, -2.0, 1.0, 1.0]])


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def entropy(p):
    return float(-np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)))


def test_temperature_one_is_the_model_softmax():
    expected = ops.convert_to_numpy(ops.softmax(ops.convert_to_tensor(LOGITS), axis=-1))
    np.testing.assert_allclose(next_token_probabilities(LOGITS), expected, atol=1e-6)


def test_temperature_divides_the_logits():
    np.testing.assert_allclose(next_token_probabilities(LOGITS, 0.5), softmax(LOGITS / 0.5))
    np.testing.assert_allclose(next_token_probabilities(LOGITS, 1.5), softmax(LOGITS / 1.5))


def test_temperature_orders_the_entropy_from_greedy_to_uniform():
    entropies = [entropy(next_token_probabilities(LOGITS[0], t)) for t in (0, 0.5, 1, 1.5, 100)]
    assert entropies[0] == 0.0  # greedy: one token
    assert all(a < b for a, b in zip(entropies, entropies[1:]))
    assert entropies[-1] == pytest.approx(np.log(5), abs=1e-3)  # near uniform


def test_greedy_is_the_argmax():
    probabilities = next_token_probabilities(LOGITS, temperature=0)
    np.testing.assert_array_equal(probabilities, np.eye(5)[LOGITS.argmax(axis=-1)])
    np.testing.assert_array_equal(sample_next_token(LOGITS, temperature=0), [0, 1])


def test_top_k_keeps_the_k_largest_renormalised():
    probabilities = next_token_probabilities(LOGITS, top_k=2)
    np.testing.assert_array_equal(probabilities > 0, [[1, 1, 0, 0, 0], [0, 1, 0, 1, 0]])
    expected = softmax(np.array([2.0, 1.0]))
    np.testing.assert_allclose(probabilities[0, :2], expected)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0)


def test_masked_logits_stay_impossible():
    logits = np.array([1.0, -np.inf, 0.0])
    for temperature in (0.5, 1.0, 3.0):
        assert next_token_probabilities(logits, temperature)[1] == 0.0
    assert not np.any(sample_next_token(np.tile(logits, (500, 1)), seed=0) == 1)


def test_draws_follow_the_distribution():
    logits = np.tile(LOGITS[0], (40_000, 1))
    for temperature, top_k in ((1.0, None), (0.5, None), (1.5, 3)):
        ids = sample_next_token(logits, temperature, top_k, seed=0)  # (40000,)
        frequencies = np.bincount(ids, minlength=5) / len(ids)
        expected = next_token_probabilities(LOGITS[0], temperature, top_k)
        np.testing.assert_allclose(frequencies, expected, atol=0.01)


def test_seeded_draws_repeat_and_differ_between_seeds():
    logits = np.tile(LOGITS[1], (50, 1))
    first = sample_next_token(logits, seed=3)
    np.testing.assert_array_equal(first, sample_next_token(logits, seed=3))
    assert (first != sample_next_token(logits, seed=4)).any()
    assert first.shape == (50,) and first.dtype == np.int32


def test_backend_tensors_are_accepted():
    tensor = ops.convert_to_tensor(LOGITS.astype("float32"))
    np.testing.assert_allclose(
        next_token_probabilities(tensor, 0.5), softmax(LOGITS / 0.5), atol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(temperature=-0.1),
        dict(temperature=float("nan")),
        dict(temperature=float("inf")),
        dict(temperature="hot"),
        dict(temperature=True),
        dict(top_k=0),
        dict(top_k=6),
        dict(top_k=2.5),
        dict(top_k=True),
    ],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        next_token_probabilities(LOGITS, **kwargs)
    with pytest.raises(ValueError):
        sample_next_token(LOGITS, seed=0, **kwargs)


@pytest.mark.parametrize(
    "logits", [np.float64(1.0), np.zeros((2, 0)), np.array([1.0, np.nan]), [-np.inf, -np.inf]]
)
def test_bad_logits_raise(logits):
    with pytest.raises(ValueError):
        sample_next_token(logits, seed=0)


def test_bad_seed_raises():
    with pytest.raises(ValueError):
        sample_next_token(LOGITS, seed="zero")


# ----------------------------------------------------------------------------
# generate
# ----------------------------------------------------------------------------

VOCABULARY, UNITS = 7, 8


def language_model(batch_size=None, stateful=False, seed=0, remember=False):
    ids = keras.Input((None,), batch_size=batch_size, dtype="int32")
    hidden = keras.layers.Embedding(VOCABULARY, 4)(ids)
    hidden = lstmkit.LSTM(UNITS, return_sequences=True, stateful=stateful)(hidden)
    logits = keras.layers.Dense(VOCABULARY)(hidden)  # (batch, time, vocabulary)
    model = keras.Model(ids, logits)
    rng = np.random.default_rng(seed)  # large weights: the text so far changes the distribution
    weights = [rng.normal(0, 1.0, w.shape).astype("float32") for w in model.get_weights()]
    if remember:  # forget gates open: a state left over from an earlier call changes the tokens
        weights[3][UNITS : 2 * UNITS] = 4.0  # the LSTM's bias, forget block
    model.set_weights(weights)
    return model


PROMPTS = np.array([[1, 2, 3, 4], [6, 5, 0, 2]], dtype="int32")


@pytest.mark.parametrize("temperature", [0, 1.0])
def test_a_stateful_model_generates_what_the_stateless_one_does(temperature):
    """Fed one token at a time, the carried state stands for the whole text so far."""
    stateless = language_model()
    stateful = language_model(batch_size=2, stateful=True)
    expected = generate(stateless, PROMPTS, 8, temperature=temperature, seed=0)
    produced = generate(stateful, PROMPTS, 8, temperature=temperature, seed=0)
    np.testing.assert_array_equal(produced, expected)
    assert produced.shape == (2, 8) and produced.dtype == np.int32
    # generate resets the state first: a second call repeats the first.
    np.testing.assert_array_equal(generate(stateful, PROMPTS, 8, temperature, seed=0), produced)


def test_a_stateful_sequential_without_an_input_layer():
    """`model.inputs` raised AttributeError for a Sequential built without an `Input`."""

    def sequential(stateful):
        return keras.Sequential(
            [
                keras.layers.Embedding(VOCABULARY, 4),
                lstmkit.LSTM(UNITS, return_sequences=True, stateful=stateful),
                keras.layers.Dense(VOCABULARY),
            ]
        )

    stateless, stateful = sequential(False), sequential(True)
    stateless(PROMPTS[:1])  # built
    generate(stateful, PROMPTS[:1], 2, temperature=0)  # builds it, batch size 1
    stateful.set_weights(stateless.get_weights())
    np.testing.assert_array_equal(
        generate(stateful, PROMPTS[:1], 8, temperature=0),
        generate(stateless, PROMPTS[:1], 8, temperature=0),
    )


def test_the_prompt_matters():
    model = language_model(batch_size=1, stateful=True)
    first = generate(model, PROMPTS[:1], 12, temperature=1.0, seed=0)
    other = generate(model, PROMPTS[1:], 12, temperature=1.0, seed=0)
    assert (first != other).any()


def test_generate_one_prompt_and_top_k():
    model = language_model(batch_size=1, stateful=True)
    new = generate(model, PROMPTS[0], 20, top_k=2, seed=1)
    assert new.shape == (20,)
    greedy = generate(model, PROMPTS[0], 20, temperature=0)
    np.testing.assert_array_equal(generate(model, PROMPTS[0], 20, top_k=1, seed=5), greedy)


@pytest.mark.parametrize(
    "prompt, num_tokens",
    [
        (PROMPTS.astype("float32"), 3),
        (PROMPTS[:, :0], 3),
        (PROMPTS[None], 3),
        (PROMPTS, 0),
        (PROMPTS, 2.0),
    ],
)
def test_generate_bad_arguments_raise(prompt, num_tokens):
    with pytest.raises(ValueError):
        generate(language_model(), prompt, num_tokens)


def test_generate_checks_the_stateful_batch_size():
    with pytest.raises(ValueError, match="batches of 2"):
        generate(language_model(batch_size=2, stateful=True), PROMPTS[:1], 3)


@pytest.mark.parametrize("wrapping", ["sequential", "functional"])
def test_a_stateful_layer_inside_a_sub_model_is_found_and_reset(wrapping):
    """A trained body reused inside a new model: its stateful LSTM sits one level down.

    Before, `generate` looked at the top-level layers only, took the stateless path,
    and called the model on the whole text at every step while the LSTM carried its
    state from the previous call: other tokens, and a second call differed from the first.
    """
    stateless = language_model(seed=1, remember=True)
    body = language_model(batch_size=2, stateful=True, seed=1, remember=True)
    ids = keras.Input((None,), batch_size=2, dtype="int32")
    if wrapping == "sequential":
        wrapped = keras.Sequential([ids, body])
    else:
        wrapped = keras.Model(ids, body(ids))
    expected = generate(stateless, PROMPTS, 8, temperature=0)
    np.testing.assert_array_equal(generate(wrapped, PROMPTS, 8, temperature=0), expected)
    np.testing.assert_array_equal(generate(wrapped, PROMPTS, 8, temperature=0), expected)


@pytest.mark.parametrize("stateful", [False, True])
@pytest.mark.parametrize("bad_id", [VOCABULARY, 99, -1])
def test_prompt_ids_outside_the_vocabulary_are_named(stateful, bad_id):
    """Before, TensorFlow and PyTorch failed inside Embedding.call and JAX (whose gather
    fills an out-of-range row with NaN) reported NaN logits."""
    model = language_model(batch_size=1, stateful=True) if stateful else language_model()
    prompt = np.array([1, 2, bad_id])
    with pytest.raises(ValueError, match=rf"holds id {bad_id} at index \(2,\), outside"):
        generate(model, prompt, 3, seed=0)


def test_a_model_of_the_last_step_only_is_named():
    """A model returning logits (batch, vocabulary) (return_sequences=False): before, an
    IndexError "invalid index to scalar variable" after reading the vocabulary axis as time."""
    ids = keras.Input((None,), dtype="int32")
    hidden = lstmkit.LSTM(UNITS)(keras.layers.Embedding(VOCABULARY, 4)(ids))
    model = keras.Model(ids, keras.layers.Dense(VOCABULARY)(hidden))
    with pytest.raises(ValueError, match=r"logits \(batch, time, vocabulary\).*return_sequences"):
        generate(model, PROMPTS, 3, seed=0)
