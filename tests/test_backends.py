"""lstmkit.backends: the same ops on the active backend against NumPy, and the device rule."""

import json

import keras
import numpy as np
import pytest

from lstmkit import backends


def test_numpy_inputs_are_the_same_draw_every_time():
    first, second = backends.numpy_inputs(3), backends.numpy_inputs(3)
    for name in ("a", "b", "x"):
        np.testing.assert_array_equal(first[name], second[name])
        assert first[name].dtype == np.float32
    assert [w.shape for w in first["lstm_weights"]] == [(3, 16), (4, 16), (16,)]
    assert backends.numpy_inputs(3, "float64")["x"].dtype == np.float64
    assert not np.array_equal(backends.numpy_inputs(4)["a"], first["a"])


def test_same_ops_agree_with_the_numpy_references():
    results, references = backends.same_ops(0), backends.numpy_references(0)
    assert results["dtype"] == "float32"
    assert results["dtypes"] == {name: "float32" for name in references}
    for name, reference in references.items():
        np.testing.assert_allclose(np.array(results[name]), reference, atol=1e-5, err_msg=name)
    assert np.array(results["seeded_draw"]).shape == (3,)


def test_same_ops_in_float64_are_as_precise_as_the_dtype_each_came_in():
    results, references = backends.same_ops(0, "float64"), backends.numpy_references(0, "float64")
    rounded = backends.through_float32(results["dtypes"])
    for name, reference in references.items():
        gap = np.abs(np.array(results[name]) - reference).max()
        if name in rounded:  # float32's size
            assert 1e-12 < gap < 1e-5, (name, results["dtypes"], gap)
        else:  # double precision
            assert gap < 1e-12, (name, results["dtypes"], gap)
    # Keras's type promotion keeps float64 only on TensorFlow (keras.backend.result_type).
    float64_kept = keras.backend.result_type("float64", "float64") == "float64"
    assert float64_kept == (keras.backend.backend() == "tensorflow")
    if float64_kept:
        assert results["dtype"] == "float64"


def test_through_float32_reads_each_result_by_its_own_dtype():
    # lstmkit's LSTM keeps float64 where torch's matmul or JAX's tanh would round it, so a
    # float32 matmul does not make the LSTM's float64 result a float32 one
    # (test_same_ops_in_float64_are_as_precise_as_the_dtype_each_came_in measures it).
    float64 = dict.fromkeys(["matmul", "sigmoid", "tanh", "softmax", "lstm"], "float64")
    assert backends.through_float32(float64) == set()
    assert backends.through_float32(dict(float64, matmul="float32")) == {"matmul"}
    assert backends.through_float32(dict(float64, lstm="float32")) == {"lstm"}


def test_numpy_lstm_is_not_fooled_by_a_swapped_gate_order():
    inputs = backends.numpy_inputs(1, "float64")
    kernel, recurrent_kernel, bias = inputs["lstm_weights"]
    right = backends.numpy_lstm(inputs["x"], kernel, recurrent_kernel, bias)
    swapped = [
        np.concatenate(np.split(w, 4, axis=-1)[::-1], axis=-1)
        for w in (kernel, recurrent_kernel, bias)
    ]
    assert np.abs(backends.numpy_lstm(inputs["x"], *swapped) - right).max() > 1e-2


@pytest.mark.parametrize(
    "listed, expected",
    [
        (["/device:CPU:0"], "/device:CPU:0"),
        (["/device:CPU:0", "/device:GPU:0", "/device:GPU:1"], "/device:GPU:0"),
        (["cuda:0", "cuda:1"], "cuda:0"),
        (["cpu", "mps:0"], "mps:0"),
        (["cpu"], "cpu"),
    ],
)
def test_expected_device_is_the_first_accelerator_else_the_cpu(listed, expected):
    assert backends.expected_device(listed) == expected


def test_framework_devices_and_where_keras_puts_a_tensor():
    listed, placed = backends.framework_devices()
    assert listed and all(isinstance(name, str) for name in listed)
    assert placed.endswith(backends.expected_device(listed)), (listed, placed)


def test_main_prints_one_line_of_json(capsys):
    backends.main(["2"])
    printed = json.loads(capsys.readouterr().out)
    assert printed["backend"] == keras.backend.backend()
    assert set(printed) >= {"devices", "matmul", "lstm", "seeded_draw", "dtype"}
