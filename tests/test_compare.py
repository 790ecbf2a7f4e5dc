"""lstmkit.compare: the per-backend training run of notebook 11, checked in-process."""

import json
import os

import keras
import numpy as np

from lstmkit import compare

SIZES = dict(steps=3, batch_size=8, length=6, units=4, seed=0)


def test_run_writes_record_model_and_predictions(tmp_path):
    result = compare.run(str(tmp_path), **SIZES)
    backend = keras.backend.backend()
    assert result["backend"] == backend
    assert len(result["losses"]) == SIZES["steps"]
    assert all(np.isfinite(result["losses"])) and result["ms_per_step"] > 0
    with open(tmp_path / f"{backend}.json") as f:
        assert json.load(f)["losses"] == result["losses"]
    _, _, probe = compare.make_data(SIZES["steps"], SIZES["batch_size"], SIZES["length"], seed=0)
    loaded = keras.models.load_model(tmp_path / f"{backend}.keras")
    np.testing.assert_allclose(
        loaded.predict(probe, verbose=0), np.load(tmp_path / f"{backend}.npy"), atol=1e-6
    )


def test_starting_weights_do_not_depend_on_the_backend_generator():
    keras.utils.set_random_seed(123)
    first = compare.build_model(6, 4, seed=0).get_weights()
    keras.utils.set_random_seed(456)
    second = compare.build_model(6, 4, seed=0).get_weights()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    # Drawn by NumPy, so the same numbers on every backend: the first value is fixed.
    expected = np.random.default_rng(0).uniform(-0.1, 0.1, size=first[0].shape)
    np.testing.assert_allclose(first[0], expected.astype("float32"))


def test_main_parses_sizes(tmp_path):
    compare.main(
        [
            "--out",
            str(tmp_path),
            "--steps",
            "2",
            "--batch-size",
            "4",
            "--length",
            "5",
            "--units",
            "3",
        ]
    )
    assert os.path.exists(tmp_path / f"{keras.backend.backend()}.keras")
