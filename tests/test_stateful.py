"""Stateful training (truncated backpropagation through time) with lstmkit.LSTM.

`stateful=True` carries the final state of batch k into batch k + 1 as its initial
state, values only: gradients stop at the batch boundary. So a stateful model trained
with `fit(shuffle=False)` must end with the same weights as a stateless model that is
handed the carried state explicitly through `initial_state` (computed with the weights
of that moment), batch after batch. That is the reference here. Keras 3.15's own LSTM
crashes on torch and carries nothing on JAX; lstmkit's must agree on all three.

Run as a script, this file prints the weights of one configuration after `fit`, so the
cross-backend test can train the same model under the other backends.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import ops

from lstmkit.layers import LSTM

BATCH, TIME, FEATURES, UNITS, BATCHES, EPOCHS = 4, 6, 3, 5, 3, 2
CONFIGS = {
    "single": dict(layers=1, return_sequences=True),
    "last_output": dict(layers=1, return_sequences=False),
    "stacked": dict(layers=2, return_sequences=True),
    "bidirectional": dict(layers=1, return_sequences=True, bidirectional=True),
    "dropout": dict(layers=1, return_sequences=True, dropout=0.2, recurrent_dropout=0.2),
}


def make_data(config):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCHES * BATCH, TIME, FEATURES)).astype("float32")
    target_shape = (TIME, 1) if config["return_sequences"] else (1,)
    y = rng.normal(size=(BATCHES * BATCH, *target_shape)).astype("float32")
    return x, y


def build(config, stateful, explicit_state=False):
    """The model, its LSTM layers, and (explicit_state) a model of the final states.

    With `explicit_state`, every layer takes its initial [h, c] from model inputs and
    the second model returns every layer's final [h, c].
    """
    x_in = keras.Input((TIME, FEATURES), batch_size=BATCH)
    hidden, state_inputs, final_states, layers = x_in, [], [], []
    for k in range(config["layers"]):
        sequences = config["return_sequences"] or k < config["layers"] - 1
        layer = LSTM(
            UNITS,
            stateful=stateful,
            return_sequences=sequences,
            return_state=explicit_state,
            dropout=config.get("dropout", 0.0),
            recurrent_dropout=config.get("recurrent_dropout", 0.0),
            seed=k,
        )
        if config.get("bidirectional"):
            layer = keras.layers.Bidirectional(layer)
        layers.append(layer)
        if explicit_state:
            h0 = keras.Input((UNITS,), batch_size=BATCH)
            c0 = keras.Input((UNITS,), batch_size=BATCH)
            state_inputs += [h0, c0]
            hidden, h_last, c_last = layer(hidden, initial_state=[h0, c0])
            final_states += [h_last, c_last]
        else:
            hidden = layer(hidden)
    outputs = keras.layers.Dense(1)(hidden)
    model = keras.Model([x_in, *state_inputs], outputs)
    rng = np.random.default_rng(1)  # the same start on every backend
    model.set_weights(
        [rng.uniform(-0.5, 0.5, size=w.shape).astype("float32") for w in model.get_weights()]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    state_model = keras.Model([x_in, *state_inputs], final_states) if explicit_state else None
    return model, layers, state_model


def lstm_layers(layers):
    """The LSTM layers themselves (both directions of a Bidirectional)."""
    found = []
    for layer in layers:
        if isinstance(layer, keras.layers.Bidirectional):
            found += [layer.forward_layer, layer.backward_layer]
        else:
            found.append(layer)
    return found


def reset_callback(layers):
    def reset(epoch, logs=None):
        for layer in lstm_layers(layers):
            layer.reset_states()

    return keras.callbacks.LambdaCallback(on_epoch_begin=reset)


def train_stateful(config, reset_each_epoch=False, stateful=True):
    x, y = make_data(config)
    model, layers, _ = build(config, stateful=stateful)
    callbacks = [reset_callback(layers)] if reset_each_epoch else []
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0, callbacks=callbacks)
    return model, layers


def train_with_explicit_state(config, reset_each_epoch=False):
    """Truncated BPTT by definition: the carried state goes in as an input."""
    x, y = make_data(config)
    model, _, state_model = build(config, stateful=False, explicit_state=True)
    zeros = [np.zeros((BATCH, UNITS), "float32") for _ in range(2 * config["layers"])]
    states = zeros
    for _ in range(EPOCHS):
        if reset_each_epoch:
            states = zeros
        for k in range(BATCHES):
            batch = slice(k * BATCH, (k + 1) * BATCH)
            # The state this batch hands on, from the weights before its update.
            carried = [ops.convert_to_numpy(s) for s in state_model([x[batch], *states])]
            model.train_on_batch([x[batch], *states], y[batch])
            states = carried
    return model, states


def weights(model):
    return [np.asarray(w) for w in model.get_weights()]


def assert_weights_close(a, b, atol=1e-5):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, atol=atol, rtol=0)


@pytest.mark.parametrize("name", ["single", "last_output", "stacked"])
@pytest.mark.parametrize("reset_each_epoch", [False, True])
def test_fit_equals_explicit_truncated_bptt(name, reset_each_epoch):
    config = CONFIGS[name]
    model, layers = train_stateful(config, reset_each_epoch)
    reference, reference_states = train_with_explicit_state(config, reset_each_epoch)
    assert_weights_close(weights(model), weights(reference))
    # The state after fit is the one carried out of the last batch.
    carried = [ops.convert_to_numpy(s.value) for layer in layers for s in layer.states]
    assert_weights_close(carried, reference_states)
    assert max(np.abs(s).max() for s in carried) > 1e-3  # a real state, not zeros


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_state_changes_training(name):
    config = CONFIGS[name]
    keras.utils.set_random_seed(0)
    stateful, layers = train_stateful(config)
    keras.utils.set_random_seed(0)
    stateless, _ = train_stateful(config, stateful=False)
    difference = max(np.abs(a - b).max() for a, b in zip(weights(stateful), weights(stateless)))
    assert difference > 1e-4, difference
    for layer in lstm_layers(layers):
        layer.reset_states()
        for state in layer.states:
            np.testing.assert_array_equal(ops.convert_to_numpy(state.value), 0.0)


def test_predict_and_evaluate_carry_state():
    config = CONFIGS["single"]
    x, y = make_data(config)
    model, layers = train_stateful(config)
    layers[0].reset_states()
    first = model.predict(x[:BATCH], batch_size=BATCH, verbose=0)
    second = model.predict(x[:BATCH], batch_size=BATCH, verbose=0)  # starts from the carried state
    assert np.abs(first - second).max() > 1e-4
    layers[0].reset_states()
    np.testing.assert_allclose(model.predict(x[:BATCH], verbose=0, batch_size=BATCH), first)
    layers[0].reset_states()
    fresh_loss = model.evaluate(x[:BATCH], y[:BATCH], batch_size=BATCH, verbose=0)
    carried_loss = model.evaluate(x[:BATCH], y[:BATCH], batch_size=BATCH, verbose=0)
    assert abs(fresh_loss - carried_loss) > 1e-6


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_state_is_carried_under_mixed_precision(policy):
    keras.config.set_dtype_policy(policy)
    try:
        model, layers, _ = build(CONFIGS["single"], stateful=True)
    finally:
        keras.config.set_dtype_policy("float32")
    x, y = make_data(CONFIGS["single"])
    first = ops.convert_to_numpy(model([x[:BATCH]])).astype("float32")
    carried = ops.convert_to_numpy(layers[0].states[0].value).astype("float32")
    assert np.abs(carried).max() > 1e-2  # the state was written
    second = ops.convert_to_numpy(model([x[:BATCH]])).astype("float32")
    assert np.abs(first - second).max() > 1e-3  # and read back by the next batch
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert np.abs(ops.convert_to_numpy(layers[0].states[0].value)).max() > 1e-2


def test_gate_activations_start_from_the_carried_state():
    model, layers, _ = build(CONFIGS["single"], stateful=True)
    layer = layers[0]
    x, _ = make_data(CONFIGS["single"])
    layer(x[:BATCH])  # carries a state into the next call
    before = [ops.convert_to_numpy(s.value) for s in layer.states]
    gates = layer.gate_activations(x[BATCH : 2 * BATCH])
    np.testing.assert_allclose(  # gate_activations leaves the state alone...
        [ops.convert_to_numpy(s.value) for s in layer.states], before
    )
    outputs = ops.convert_to_numpy(layer(x[BATCH : 2 * BATCH]))  # ...which call then uses
    np.testing.assert_allclose(gates["hidden_state"], outputs, atol=1e-5)


def test_state_stays_out_of_weights():
    # get_weights/set_weights and saving see the same weights as the stateless layer.
    stateful, _, _ = build(CONFIGS["single"], stateful=True)
    stateless, _, _ = build(CONFIGS["single"], stateful=False)
    assert [w.shape for w in stateful.get_weights()] == [w.shape for w in stateless.get_weights()]
    assert len(stateful.non_trainable_variables) > len(stateless.non_trainable_variables)


CROSS_BACKEND = ["stacked", "bidirectional"]


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="runs once, in the tensorflow session, where it trains under all three backends",
)
def test_same_weights_on_every_backend():
    ours = {name: weights(train_stateful(CONFIGS[name])[0]) for name in CROSS_BACKEND}
    for backend in ("jax", "torch"):
        env = dict(os.environ, KERAS_BACKEND=backend, OMP_NUM_THREADS="1")
        run = subprocess.run(
            [sys.executable, __file__, *CROSS_BACKEND],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        theirs = json.loads(run.stdout.strip().splitlines()[-1])
        for name in CROSS_BACKEND:
            assert_weights_close(ours[name], [np.array(w, "float32") for w in theirs[name]])


if __name__ == "__main__":
    trained = {name: weights(train_stateful(CONFIGS[name])[0]) for name in sys.argv[1:]}
    print(json.dumps({name: [w.tolist() for w in ws] for name, ws in trained.items()}))
