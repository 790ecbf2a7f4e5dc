"""Config round trips, .keras files, and a file saved under one backend loaded under the others."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import ops

from lstmkit.layers import LSTM, LSTMCell

BACKENDS = ("tensorflow", "jax", "torch")


def build_model():
    keras.utils.set_random_seed(1)
    inp = keras.Input((7, 3))
    x = keras.layers.Bidirectional(LSTM(6, return_sequences=True, dropout=0.1, seed=2))(inp)
    x = LSTM(5, recurrent_regularizer="l2", kernel_constraint="non_neg", unit_forget_bias=False)(x)
    return keras.Model(inp, keras.layers.Dense(1)(x))


def sample():
    return np.random.default_rng(0).normal(size=(4, 7, 3)).astype("float32")


def test_layer_config_round_trip():
    layer = LSTM(
        7,
        activation="relu",
        recurrent_activation="hard_sigmoid",
        use_bias=False,
        kernel_initializer="he_normal",
        recurrent_regularizer="l1",
        dropout=0.25,
        recurrent_dropout=0.125,
        seed=3,
        return_sequences=True,
        return_state=True,
        go_backwards=True,
        stateful=False,
        unroll=True,
        name="custom",
    )
    config = layer.get_config()
    clone = LSTM.from_config(config)
    assert clone.get_config() == config
    json.dumps(keras.saving.serialize_keras_object(layer))  # JSON-serialisable
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(again, LSTM) and again.get_config() == config


def test_config_keys_cover_keras_lstm():
    ours = set(LSTM(3).get_config())
    keras_keys = set(keras.layers.LSTM(3).get_config())
    assert keras_keys <= ours, keras_keys - ours


def test_cell_config_round_trip():
    cell = LSTMCell(4, dropout=0.5, seed=9)
    assert LSTMCell.from_config(cell.get_config()).get_config() == cell.get_config()


def test_keras_file_round_trip(tmp_path):
    model = build_model()
    x = sample()
    expected = ops.convert_to_numpy(model(x))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(x)), expected, atol=1e-6)
    assert any(isinstance(layer, LSTM) for layer in loaded.layers)


LOAD_AND_PREDICT = """
import sys, numpy as np, keras, lstmkit
model = keras.models.load_model(sys.argv[1])
x = np.load(sys.argv[2])
np.save(sys.argv[3], keras.ops.convert_to_numpy(model(x)))
print(keras.backend.backend())
"""


@pytest.mark.parametrize("other", [b for b in BACKENDS if b != keras.backend.backend()])
def test_saved_under_this_backend_loads_under_another(tmp_path, other):
    model = build_model()
    x = sample()
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "x.npy", x)
    env = dict(os.environ, KERAS_BACKEND=other)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_AND_PREDICT,
            str(tmp_path / "model.keras"),
            str(tmp_path / "x.npy"),
            str(tmp_path / "y.npy"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == other
    np.testing.assert_allclose(
        np.load(tmp_path / "y.npy"), ops.convert_to_numpy(model(x)), atol=1e-5
    )


@pytest.mark.parametrize(
    "options", [{}, {"recurrent_dropout": 0.2}, {"implementation": 1}, {"dropout": 0.3}]
)
def test_implementation_is_keras_value(options):
    """Keras's cell switches to implementation 1 under recurrent dropout (one mask per gate
    block); before, lstmkit's cell drew those four masks but kept reporting 2."""
    ours, theirs = LSTM(3, **options), keras.layers.LSTM(3, **options)
    assert ours.cell.implementation == theirs.cell.implementation
    assert ours.get_config()["implementation"] == theirs.cell.implementation
    assert LSTM.from_config(ours.get_config()).cell.implementation == theirs.cell.implementation
