"""lstmkit.memory (the gradient-through-time measurements) and the latch task."""

import keras
import numpy as np
import pytest

import lstmkit
from lstmkit import memory
from lstmkit.datasets import make_latch, steps_since_pulse


def by_hand(x, kernel, recurrent_kernel, bias):
    """g_t of sum(h_T) by the backward recursion g_{k-1} = (g_k * (1 - h_k^2)) U^T, float64."""
    h = np.zeros((x.shape[0], recurrent_kernel.shape[0]))
    states = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ kernel + h @ recurrent_kernel + bias)
        states.append(h)
    g = np.ones_like(h)
    per_step = []
    for k in reversed(range(x.shape[1])):
        per_step.append(g)
        g = (g * (1 - states[k] ** 2)) @ recurrent_kernel.T
    return np.stack(per_step[::-1], axis=1)


def test_rnn_state_gradients_equal_the_backward_recursion():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 9, 2)).astype("float32")
    weights = [rng.normal(0, 0.5, shape).astype("float32") for shape in ((2, 5), (5, 5), (5,))]
    got = memory.rnn_state_gradients(x, *weights)
    assert got.shape == (3, 9, 5) and got.dtype == np.float64
    expected = by_hand(x.astype("float64"), *(w.astype("float64") for w in weights))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("rho", [0.5, 1.0, 1.3])
def test_at_rest_with_a_scaled_orthogonal_matrix_each_step_back_multiplies_by_rho(rho):
    units, steps = 6, 25
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(units, units)))
    x = np.zeros((2, steps, 3), "float32")
    norms = memory.state_gradient_norms(
        x, np.zeros((3, units), "float32"), (rho * q).astype("float32"), np.zeros(units, "float32")
    )
    expected = np.sqrt(units) * rho ** np.arange(steps)[::-1]  # ||g_T|| = sqrt(units)
    np.testing.assert_allclose(norms, expected, rtol=1e-4)
    assert memory.long_run_rate(norms) == pytest.approx(np.log(rho), abs=1e-4)


def test_long_run_rate_skips_what_underflowed_and_needs_two_norms():
    norms = 0.5 ** np.arange(80.0)[::-1]  # g_T = 1, halving per step back
    norms[:5] = 0.0  # underflowed
    assert memory.long_run_rate(norms) == pytest.approx(np.log(0.5))
    with pytest.raises(ValueError, match="nothing to fit"):
        memory.long_run_rate([0.0, 0.0, 1.0])


def test_kept_per_step_reads_the_factor_per_step_back():
    assert memory.kept_per_step(0.8 ** np.arange(30.0)[::-1]) == pytest.approx(0.8)
    assert memory.kept_per_step(np.r_[0.0, 1.1 ** np.arange(20.0)[::-1]]) == pytest.approx(1.1)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_input_gradient_norms_of_a_simple_rnn(return_sequences):
    rng = np.random.default_rng(2)
    layer = keras.layers.SimpleRNN(4, return_sequences=return_sequences)
    memory.keras_default_weights(layer, 3, rng)
    x = rng.normal(size=(5, 7, 3)).astype("float32")
    norms = memory.input_gradient_norms(layer, x)
    kernel, recurrent_kernel, bias = layer.get_weights()
    # d sum(h_T) / d x_t = (g_t * (1 - h_t^2)) W^T: the state gradient times one more Jacobian
    g = by_hand(x.astype("float64"), kernel, recurrent_kernel, bias)
    h = np.zeros((5, 4))
    expected = []
    for t in range(7):
        h = np.tanh(x[:, t] @ kernel + h @ recurrent_kernel + bias)
        expected.append(np.linalg.norm((g[:, t] * (1 - h**2)) @ kernel.T, axis=-1).mean())
    np.testing.assert_allclose(norms, expected, rtol=1e-4)
    each = memory.input_gradient_norms(layer, x, per_sequence=True)  # (batch, time)
    assert each.shape == (5, 7)
    np.testing.assert_allclose(each.mean(axis=0), norms)
    alone = memory.input_gradient_norms(layer, x[2:3])  # one sequence on its own
    np.testing.assert_allclose(each[2], alone, rtol=1e-5)


def test_keras_default_weights_draws_keras_init_with_numpy():
    lstm = memory.keras_default_weights(lstmkit.LSTM(4), 3, np.random.default_rng(0))
    kernel, recurrent_kernel, bias = lstm.get_weights()
    assert kernel.shape == (3, 16) and np.abs(kernel).max() <= np.sqrt(6 / 19)
    np.testing.assert_allclose(recurrent_kernel @ recurrent_kernel.T, np.eye(4), atol=1e-5)
    np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    again = memory.keras_default_weights(lstmkit.LSTM(4), 3, np.random.default_rng(0))
    np.testing.assert_array_equal(again.get_weights()[0], kernel)  # the same on every backend
    no_bias = lstmkit.LSTM(4, unit_forget_bias=False)
    assert (
        not memory.keras_default_weights(no_bias, 3, np.random.default_rng(0))
        .get_weights()[2]
        .any()
    )
    three = memory.keras_default_weights(lstmkit.LSTM(4), 3, np.random.default_rng(0), 3.0)
    assert three.get_weights()[2][4:8].tolist() == [3.0] * 4
    with pytest.raises(ValueError, match="no forget gate"):
        memory.keras_default_weights(
            keras.layers.SimpleRNN(4), 3, np.random.default_rng(0), forget_bias=1.0
        )
    with pytest.raises(ValueError, match="SimpleRNN or an LSTM"):
        memory.keras_default_weights(keras.layers.GRU(4), 3, np.random.default_rng(0))


def test_latch_targets_follow_the_last_pulse():
    x, y = make_latch(200, 25, seed=3)
    assert x.shape == y.shape == (200, 25, 1)
    pulses, targets = x[..., 0], y[..., 0]
    assert set(np.unique(pulses)) == {-1.0, 0.0, 1.0} and set(np.unique(targets)) == {0.0, 1.0}
    since = steps_since_pulse(x)
    rows, steps = np.nonzero(since >= 0)
    last_pulse = pulses[rows, steps - since[rows, steps]]
    np.testing.assert_array_equal(targets[rows, steps], last_pulse > 0)
    np.testing.assert_array_equal(targets[since < 0], 0.0)  # reset before the first pulse
    np.testing.assert_array_equal(make_latch(200, 25, seed=3)[0], x)


def test_steps_since_pulse_counts_from_each_pulse():
    pulses = np.array([[0, 1, 0, 0, -1, 0], [0, 0, 0, 0, 0, 0]], "float32")
    np.testing.assert_array_equal(
        steps_since_pulse(pulses), [[-1, 0, 1, 2, 0, 1], [-1, -1, -1, -1, -1, -1]]
    )
    with pytest.raises(ValueError, match="num_samples, length"):
        steps_since_pulse(np.zeros(4))


def test_plot_unit_traces_draws_one_line_per_unit_on_the_right_scales():
    import matplotlib.pyplot as plt

    from lstmkit.plots import plot_unit_traces

    rng = np.random.default_rng(7)
    gates = {
        "cell_state": rng.uniform(-2.5, 1.0, size=(1, 6, 3)),
        "forget_gate": rng.uniform(0.1, 0.9, size=(1, 6, 3)),
    }
    fig = plot_unit_traces(gates, labels=list("abcdef"), marks=[2])
    cell, forget = fig.axes[:2]
    assert len([line for line in cell.lines if line.get_label().startswith("unit")]) == 3
    np.testing.assert_allclose(cell.lines[1].get_ydata(), gates["cell_state"][0, :, 1])
    limit = 1.05 * np.abs(gates["cell_state"]).max()
    np.testing.assert_allclose(cell.get_ylim(), (-limit, limit))  # symmetric about 0
    assert forget.get_ylim() == (-0.02, 1.02)
    assert forget.lines[0].get_color() == cell.lines[0].get_color()  # a unit keeps its colour
    assert [t.get_text() for t in forget.get_xticklabels()] == list("abcdef")
    assert any(list(line.get_xdata()) == [2, 2] for line in cell.lines)  # the mark
    with pytest.raises(ValueError, match="No entries"):
        plot_unit_traces(gates, names=("input_gate",))
    plt.close("all")


def test_how_units_hold_tells_the_four_ways_apart():
    time = 6
    ones = np.ones((1, time, 4))
    # unit 0 keeps by f = 1; 1 writes back (f = 0.5, i g = 0.5 c); 2 drifts; 3 rests at 0
    cell = np.stack(
        [np.full(time, 2.0), np.full(time, 1.0), np.arange(time) * 0.5, np.zeros(time)], axis=-1
    )[None]
    gates = {
        "cell_state": cell,
        "forget_gate": ones * [1.0, 0.5, 0.95, 0.3],
        "input_gate": ones * [0.0, 1.0, 1.0, 0.2],
        "candidate": ones * [0.3, 0.5, 0.5, 0.0],
    }
    steps = np.zeros((1, time), bool)
    steps[0, 2:] = True
    result = memory.how_units_hold(gates, steps)
    assert result["way"] == ["keeps: f ≈ 1, i g ≈ 0", "writes back", "drifts", "rests near 0"]
    np.testing.assert_allclose(result["change"], [0.0, 0.0, 0.5, 0.0])
    np.testing.assert_allclose(result["written"], [0.0, 0.5, 0.5, 0.0])
    steps[0, 0] = True
    with pytest.raises(ValueError, match="step 0"):
        memory.how_units_hold(gates, steps)
    with pytest.raises(ValueError, match="batch, time"):
        memory.how_units_hold(gates, np.ones(time, bool))
