"""lstmkit.SimpleRNN equals keras.layers.SimpleRNN: outputs, states and gradients."""

import keras
import numpy as np
import pytest

import lstmkit
from lstmkit.gradients import weight_gradients


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_same_as_keras(go_backwards, return_sequences, masked):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 7, 2)).astype("float32")  # (batch, time, features)
    if masked:
        x[1, 4:] = 0.0  # padding at the end of one sequence
    options = dict(
        units=5, go_backwards=go_backwards, return_sequences=return_sequences, return_state=True
    )
    inputs = keras.Input((7, 2))
    masked_inputs = keras.layers.Masking(0.0)(inputs) if masked else inputs
    ours = keras.Model(inputs, lstmkit.SimpleRNN(**options)(masked_inputs))
    theirs = keras.Model(inputs, keras.layers.SimpleRNN(**options)(masked_inputs))
    theirs.set_weights(ours.get_weights())
    for a, b in zip(ours(x), theirs(x)):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-6
        )

    def loss(model):
        return lambda: keras.ops.sum(model(x)[0] ** 2)

    _, our_gradients = weight_gradients(loss(ours), ours.trainable_weights)
    _, their_gradients = weight_gradients(loss(theirs), theirs.trainable_weights)
    for a, b in zip(our_gradients, their_gradients):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_saves_and_loads(tmp_path):
    inputs = keras.Input((4, 2))
    model = keras.Model(inputs, lstmkit.SimpleRNN(3)(inputs))
    path = tmp_path / "model.keras"
    model.save(path)
    x = np.ones((1, 4, 2), "float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(keras.models.load_model(path)(x)),
        keras.ops.convert_to_numpy(model(x)),
    )
