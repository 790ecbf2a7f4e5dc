"""lstmkit.compare: the per-backend training run of notebook 11, and its timing helpers."""

import json

import keras
import numpy as np
import pytest

import lstmkit
from lstmkit import compare, fused

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
    backend = keras.backend.backend()
    with open(tmp_path / f"{backend}.json") as f:
        assert len(json.load(f)["losses"]) == 2  # --steps
    model = keras.models.load_model(tmp_path / f"{backend}.keras")
    assert model.input_shape == (None, 5, 2)  # --length
    assert model.get_layer("lstm").units == 3  # --units
    assert np.load(tmp_path / f"{backend}.npy").shape == (32, 1)


def test_losses_are_each_steps_own_not_the_running_mean(tmp_path):
    # With learning rate 0 every step's loss is its batch's loss under the start weights.
    x, y, _ = compare.make_data(4, 8, 6, seed=0)
    model = compare.build_model(6, 4, seed=0)
    own = [
        float(
            np.mean(
                (model.predict(x[k * 8 : (k + 1) * 8], verbose=0) - y[k * 8 : (k + 1) * 8]) ** 2
            )
        )
        for k in range(4)
    ]
    keras_sgd = keras.optimizers.SGD

    class Frozen(keras_sgd):
        def __init__(self, *args, **kwargs):
            super().__init__(0.0)

    try:
        keras.optimizers.SGD = Frozen
        _, losses, _ = compare.train(x, y, 6, 4, 0, 8)
    finally:
        keras.optimizers.SGD = keras_sgd
    np.testing.assert_allclose(losses, own, rtol=1e-4)
    assert compare.per_step_losses([1.0, 2.0], [2, 1]) == [1.0, 4.0]


def _timing_model(length, units, seed, learning_rate):
    model = compare.build_model(length, units, seed)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model


def test_nn_lstm_process_takes_keras_steps_in_a_torch_only_process():
    x, y, _ = compare.make_data(1, 8, 6, seed=0)
    model = _timing_model(6, 4, seed=0, learning_rate=0.1)
    with compare.NNLSTMProcess(x, y, model.get_weights(), learning_rate=0.1) as nn_lstm:
        seconds, torch_losses = nn_lstm(3)
        assert nn_lstm.frameworks == ["torch"]  # no Keras, TensorFlow or JAX in the child
    keras_losses = [float(model.train_on_batch(x, y)) for _ in range(3)]
    assert len(seconds) == 3 and all(s > 0 for s in seconds)
    # The same model, batch and SGD steps: bias_hh stays out of the update, or the
    # second loss would already differ.
    np.testing.assert_allclose(torch_losses, keras_losses, rtol=1e-5)
    assert keras_losses[-1] < keras_losses[0]


def test_nn_lstm_process_reports_a_failing_child():
    x, y, _ = compare.make_data(1, 8, 6, seed=0)
    weights = compare.build_model(6, 4, seed=0).get_weights()[:2]  # the bias and head missing
    with pytest.raises(RuntimeError, match="nn.LSTM process failed"):
        with compare.NNLSTMProcess(x, y, weights, learning_rate=0.1) as nn_lstm:
            nn_lstm(1)


def test_time_in_turns_alternates_and_keeps_every_step():
    calls = []

    def contender(name):
        def run_steps(n):
            calls.append((name, n))
            return [0.001] * n, [float(len(calls))] * n

        return run_steps

    seen_rounds = []
    results = compare.time_in_turns(
        {"a": contender("a"), "b": contender("b")},
        rounds=3,
        steps_per_round=2,
        on_round=lambda i, r: seen_rounds.append(i),
    )
    assert calls == [("a", 2), ("b", 2)] * 3
    assert seen_rounds == [0, 1, 2]
    assert results["a"]["losses"] == [1.0, 1.0, 3.0, 3.0, 5.0, 5.0]
    assert len(results["b"]["seconds"]) == 6


def test_time_in_turns_drops_the_untimed_steps_of_each_turn():
    # Each turn's first step is slow (the switch); with one untimed step no time of it is kept.
    def contender(run_steps_log):
        def run_steps(n):
            run_steps_log.append(n)
            return [1.0] + [0.001] * (n - 1), list(range(n))

        return run_steps

    log = []
    results = compare.time_in_turns(
        {"a": contender(log), "b": contender(log)}, rounds=3, steps_per_round=2, untimed_steps=1
    )
    assert log == [3] * 6
    assert results["a"]["seconds"] == [0.001] * 6  # rounds * steps_per_round, none of the slow
    assert results["b"]["losses"] == [0, 1, 2] * 3  # every step's loss, untimed ones too


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6])
def test_balanced_orders_put_everyone_everywhere_and_after_everyone_equally(count):
    orders = compare.balanced_orders(count)
    assert len(orders) == (count if count % 2 == 0 else 2 * count)
    assert all(sorted(order) == list(range(count)) for order in orders)
    for position in range(count):  # every contender in every position, equally often
        seen = [order[position] for order in orders]
        assert all(seen.count(k) == len(orders) // count for k in range(count))
    pairs = [(a, b) for order in orders for a, b in zip(order, order[1:])]
    if count > 1:  # every contender directly after every other, equally often
        expected = len(pairs) // (count * (count - 1))
        assert all(
            pairs.count((a, b)) == expected for a in range(count) for b in range(count) if a != b
        )


def test_time_in_turns_balances_the_order():
    calls = []

    def contender(name):
        def run_steps(n):
            calls.append(name)
            return [0.001] * n, [0.0] * n

        return run_steps

    results = compare.time_in_turns(
        {name: contender(name) for name in "abcd"}, rounds=4, steps_per_round=1, balanced=True
    )
    assert calls == list("abdcbcadcdbadacb")  # a Williams square
    assert list(results) == list("abcd") and len(results["c"]["seconds"]) == 4


def test_timed_steps_times_each_step():
    losses = iter([3.0, 2.0])
    seconds, recorded = compare.timed_steps(lambda: next(losses))(2)
    assert recorded == [3.0, 2.0] and len(seconds) == 2 and all(s >= 0 for s in seconds)


def test_keras_process_times_each_contender_from_the_same_weights():
    x, y, _ = compare.make_data(1, 8, 6, seed=0)
    weights = _timing_model(6, 4, seed=0, learning_rate=0.1).get_weights()
    layers = list(compare.KERAS_LAYERS)
    backend = keras.backend.backend()
    with compare.KerasProcess(x, y, weights, 0.1, layers, backend) as process:
        losses = {name: process.contender(name)(2)[1] for name in layers}
        # The same path as here: the backend's fast path where one is on.
        assert process.paths["lstmkit.LSTM"] == fused.path_taken(lstmkit.LSTM(4))
        assert process.paths["lstmkit.LSTM(use_fused=False)"].startswith("reference: ")
        assert "torch" not in process.frameworks or backend == "torch"
        with pytest.raises(ValueError, match="is not among"):
            process.contender("nn.LSTM")
    for name in layers:  # the same model, batch and SGD steps
        np.testing.assert_allclose(losses[name], losses["keras.layers.LSTM"], rtol=1e-5)


def test_keras_process_refuses_an_unknown_layer():
    with pytest.raises(ValueError, match="unknown layers"):
        compare.KerasProcess(np.zeros((1, 2, 2)), np.zeros((1, 1)), [], 0.1, ["GRU"], "jax")
