"""Choosing the next token from a language model's logits: greedy, temperature, top-k.

    probabilities = next_token_probabilities(logits, temperature=0.5, top_k=5)
    ids = sample_next_token(logits, temperature=1.0, seed=0)       # one draw per row
    ids = sample_next_token(logits, temperature=0)                 # greedy: the argmax
    text_ids = generate(model, prompt_ids, 200, temperature=0.8, seed=0)

With logits z over a vocabulary of V tokens, temperature T > 0 and the set K of the
k largest logits (all V without `top_k`):

    p_i = exp(z_i / T) / sum_{j in K} exp(z_j / T)   for i in K, and 0 outside K

T = 1 is the model's own distribution, T < 1 sharpens it towards the most likely
token (T -> 0 is greedy decoding), T > 1 flattens it towards uniform.

Backend-neutral: logits may be a tensor of any backend or a NumPy array; the
arithmetic is NumPy float64 and the draws come from `numpy.random.Generator`, so the
same seed draws the same tokens on every backend (from the same logits).
"""

import numbers

import numpy as np
from keras import ops


def _check_temperature(temperature):
    if (
        not isinstance(temperature, numbers.Real)
        or isinstance(temperature, bool)
        or not np.isfinite(temperature)
        or temperature < 0
    ):
        raise ValueError(
            "Argument `temperature` must be a finite number >= 0 (0 is greedy), "
            f"received {temperature!r}."
        )
    return float(temperature)


def _check_logits(logits):
    logits = np.asarray(ops.convert_to_numpy(logits), dtype="float64")
    if logits.ndim < 1 or logits.shape[-1] < 1:
        raise ValueError(
            "Argument `logits` must have a last axis over the vocabulary, received shape "
            f"{logits.shape}."
        )
    if np.isnan(logits).any() or np.isposinf(logits).any():
        raise ValueError("Argument `logits` holds NaN or +inf.")
    return logits


def _check_top_k(top_k, vocabulary_size):
    if top_k is None:
        return None
    if (
        not isinstance(top_k, numbers.Integral)
        or isinstance(top_k, bool)
        or not 1 <= top_k <= vocabulary_size
    ):
        raise ValueError(
            f"Argument `top_k` must be None or an integer in 1..{vocabulary_size} (the "
            f"vocabulary size), received {top_k!r}."
        )
    return int(top_k)


def _top_k_mask(logits, top_k):
    """True for the `top_k` largest logits of each row (ties: the lower id)."""
    order = np.argsort(-logits, axis=-1, kind="stable")[..., :top_k]  # (..., k)
    keep = np.zeros(logits.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=-1)
    return keep


def next_token_probabilities(logits, temperature=1.0, top_k=None):
    """The distribution the next token is drawn from.

    Args:
        logits: `(..., vocabulary)`, the model's unnormalised log-probabilities.
        temperature: Divides the logits; 1 keeps the model's distribution, below 1
            sharpens it, above 1 flattens it; 0 puts all the mass on the argmax.
        top_k: If given, only the `top_k` most likely tokens keep probability.

    Returns:
        float64 NumPy array `(..., vocabulary)`, each row summing to 1.
    """
    logits = _check_logits(logits)
    temperature = _check_temperature(temperature)
    top_k = _check_top_k(top_k, logits.shape[-1])
    if temperature == 0:
        top_k = 1  # greedy: the most likely token only
    keep = np.isfinite(logits)  # -inf logits (masked tokens) stay impossible
    if top_k is not None:
        keep &= _top_k_mask(logits, top_k)
    if not keep.any(axis=-1).all():
        raise ValueError("Every logit of a row is -inf: nothing to choose from.")
    scaled = np.where(keep, logits / (temperature or 1.0), -np.inf)
    scaled -= scaled.max(axis=-1, keepdims=True)  # exp of at most 0: no overflow
    weights = np.where(keep, np.exp(scaled), 0.0)
    return weights / weights.sum(axis=-1, keepdims=True)


def _generator(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
        raise ValueError(
            f"Argument `seed` must be None, an int or a numpy Generator, received {seed!r}."
        )
    return np.random.default_rng(seed)


def sample_next_token(logits, temperature=1.0, top_k=None, seed=None):
    """One token per row of `logits`, drawn from `next_token_probabilities`.

    Args:
        logits, temperature, top_k: As for `next_token_probabilities`;
            `temperature=0` is greedy decoding (no draw, the argmax).
        seed: An int, a `numpy.random.Generator` (to continue one stream of draws
            over many calls, as `generate` does) or None (fresh entropy).

    Returns:
        int32 NumPy array `logits.shape[:-1]`: the chosen ids.
    """
    probabilities = next_token_probabilities(logits, temperature, top_k)  # (..., vocab)
    rng = _generator(seed)
    if temperature == 0:
        return np.argmax(probabilities, axis=-1).astype("int32")
    cumulative = np.cumsum(probabilities, axis=-1)  # (..., vocab)
    cumulative /= cumulative[..., -1:]  # exactly 1 at the end
    draws = 1.0 - rng.random(probabilities.shape[:-1] + (1,))  # (..., 1) in (0, 1]
    # The first id whose cumulative probability reaches the draw; an id of zero
    # probability has an empty interval and is never chosen.
    return np.sum(cumulative < draws, axis=-1).astype("int32")


def _stateful_layers(model):
    """Every layer of `model` with `stateful=True`, at any depth.

    A stateful layer may sit inside a sub-model (a trained body wrapped in a
    new `Sequential`) or a wrapper (`Bidirectional`): each must be found, or
    `generate` would take the stateless path and the layer would carry its
    state from one call into the next. Keras's `_flatten_layers` walks every
    tracked sublayer, however deep.
    """
    return [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if getattr(layer, "stateful", False)
    ]


def _check_prompt_ids(prompt, vocabulary_size):
    """Refuses an id below 0 or, when the vocabulary size is known, past its end."""
    outside = prompt < 0
    if vocabulary_size is not None:
        outside |= prompt >= vocabulary_size
    if outside.any():
        where = tuple(int(i) for i in np.argwhere(outside)[0])
        known = f"0..{vocabulary_size - 1}" if vocabulary_size is not None else "ids >= 0"
        raise ValueError(
            f"Argument `prompt_ids` holds id {prompt[where]} at index {where}, outside "
            f"the model's vocabulary ({known})."
        )


def generate(model, prompt_ids, num_tokens, temperature=1.0, top_k=None, seed=None):
    """Continues each prompt with `num_tokens` tokens chosen one at a time.

    The model maps int ids `(batch, time)` to logits `(batch, time, vocabulary)`.

    - A stateful model (any layer with `stateful=True`, its batch size the number
      of prompts) is reset, then reads one token per call, the prompt first: its
      carried state holds the whole text so far. Each call is the same small
      `predict_on_batch`, compiled once on JAX and TensorFlow.
    - A stateless model is called on the whole text so far at every step (slower:
      the work grows with the length, and every length is a new shape).

    Args:
        model: A Keras model as above.
        prompt_ids: int `(batch, time)`, or `(time,)` for one prompt.
        num_tokens: How many tokens to add (>= 1).
        temperature, top_k: As for `next_token_probabilities` (0: greedy).
        seed: As for `sample_next_token`; one generator serves all steps.

    Returns:
        int32 NumPy array `(batch, num_tokens)` (or `(num_tokens,)` for one 1-D
        prompt): the new tokens only.
    """
    prompt = np.asarray(prompt_ids)
    if prompt.ndim not in (1, 2) or not np.issubdtype(prompt.dtype, np.integer):
        raise ValueError(
            "Argument `prompt_ids` must be int ids (time,) or (batch, time), received "
            f"{prompt.dtype} {prompt.shape}."
        )
    if prompt.shape[-1] < 1:
        raise ValueError("Argument `prompt_ids` must hold at least one token.")
    if (
        not isinstance(num_tokens, numbers.Integral)
        or isinstance(num_tokens, bool)
        or num_tokens < 1
    ):
        raise ValueError(
            f"Argument `num_tokens` must be a positive integer, received {num_tokens!r}."
        )
    temperature = _check_temperature(temperature)
    rng = _generator(seed)
    # The ids the model writes are the ids it reads: a prompt id outside its
    # vocabulary is refused here, by name, before the model sees it (JAX's
    # Embedding would give NaN rows, reported as NaN logits).
    outputs = getattr(model, "outputs", None)
    vocabulary_size = outputs[0].shape[-1] if outputs else None
    _check_prompt_ids(prompt, vocabulary_size)
    texts = prompt.reshape(-1, prompt.shape[-1]).astype("int32")  # (batch, time)
    stateful_layers = _stateful_layers(model)
    stateful = bool(stateful_layers)
    if stateful:
        inputs = getattr(model, "inputs", None)  # a Sequential without an Input: none yet
        expected = inputs[0].shape[0] if inputs else None
        if expected is not None and expected != len(texts):
            raise ValueError(
                f"The stateful model takes batches of {expected}; received {len(texts)} "
                "prompts. Build the generating model with one row per prompt."
            )
        if not model.built:  # a Sequential without an Input: built here, before the reset,
            model(texts[:, :1], training=False)  # as JAX's predict_on_batch cannot build it
        for layer in stateful_layers:
            layer.reset_states()
        for t in range(texts.shape[1]):  # the prompt, one token per call
            logits = model.predict_on_batch(texts[:, t : t + 1])  # (batch, 1, vocab)
    else:
        logits = model(texts, training=False)  # (batch, time, vocab)
    if len(logits.shape) != 3 or logits.shape[0] != len(texts):
        raise ValueError(
            "The model must map ids (batch, time) to logits (batch, time, vocabulary); for "
            f"ids of shape {texts[:, -1:].shape} it returned shape {tuple(logits.shape)}. A "
            "model that returns the last step only needs `return_sequences=True` in its "
            "last recurrent layer."
        )
    if vocabulary_size is None:  # a model without symbolic outputs: known now
        _check_prompt_ids(prompt, logits.shape[-1])
    new = []
    for step in range(num_tokens):
        ids = sample_next_token(logits[:, -1], temperature, top_k, seed=rng)  # (batch,)
        new.append(ids)
        texts = np.concatenate([texts, ids[:, None]], axis=1)
        if step + 1 < num_tokens:
            if stateful:
                logits = model.predict_on_batch(ids[:, None])
            else:
                logits = model(texts, training=False)
    result = np.stack(new, axis=1)  # (batch, num_tokens)
    return result[0] if prompt.ndim == 1 else result
