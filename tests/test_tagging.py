"""lstmkit.tagging: lesson 06's tagger, padding helpers and the left-to-right ceiling."""

import keras
import numpy as np
import pytest

from lstmkit import datasets, tagging


def test_build_tagger_shapes_and_options():
    x, _, _ = datasets.make_tagging_task(4, length=6, min_length=3, seed=0)
    concat = tagging.build_tagger(4, 8)
    assert tuple(concat.predict(x, verbose=0).shape) == (4, 6, 4)
    summed = tagging.build_tagger(4, 8, merge_mode="sum")
    one_way = tagging.build_tagger(4, 8, bidirectional=False)
    flat = tagging.build_tagger(4, 8, hidden_units=0)

    def dense(model):
        return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]

    assert dense(concat)[0].count_params() == 2 * 8 * 64 + 64  # sees both directions side by side
    assert dense(summed)[0].count_params() == 8 * 64 + 64
    assert dense(one_way)[0].count_params() == 8 * 64 + 64
    assert len(dense(flat)) == 1
    unmasked = tagging.build_tagger(4, 8, mask_zero=False)
    assert not unmasked.layers[1].mask_zero


def test_left_pad_moves_the_real_tokens_to_the_end():
    x = np.array([[1, 2, 0, 0], [3, 4, 1, 0], [2, 2, 2, 2]])
    np.testing.assert_array_equal(
        tagging.left_pad(x, [2, 3, 4]), [[0, 0, 1, 2], [0, 3, 4, 1], [2, 2, 2, 2]]
    )


def test_a_masked_tagger_ignores_padding_an_unmasked_one_does_not():
    x, _, lengths = datasets.make_tagging_task(64, length=8, min_length=3, seed=1)
    keras.utils.set_random_seed(0)
    masked = tagging.build_tagger(4, 8)
    assert max(tagging.padding_gaps(masked, x, lengths)) < 1e-5
    unmasked = tagging.build_tagger(4, 8, mask_zero=False)
    unmasked.set_weights(masked.get_weights())
    assert min(tagging.padding_gaps(unmasked, x, lengths)) > 1e-4


@pytest.mark.parametrize("reach", [1, 2])
def test_the_previous_value_rule_reaches_the_ceiling(reach):
    # On many sequences the rule's score at each step is the ceiling's expectation.
    x, y, lengths = datasets.make_tagging_task(40_000, 10, 4, min_length=3, seed=2, reach=reach)
    real = x != 0
    rule = tagging.previous_value_rule(x)
    per_step = tagging.per_position_accuracy(rule, y, real)
    ceiling, overall = tagging.left_to_right_ceiling(lengths, 10, 4, reach=reach)
    np.testing.assert_allclose(per_step, ceiling, atol=0.02)
    assert (rule == y)[real].mean() == pytest.approx(overall, abs=0.005)
    # The formula: 1/4 + 3/4 * reach / E[L] over all steps (every sequence is longer than reach).
    assert overall == pytest.approx(0.25 + 0.75 * reach / lengths.mean(), rel=1e-9)
    assert ceiling[-1] == 1.0 and ceiling[0] == 0.25  # every sequence reaching the end ends there


def test_previous_value_rule_by_hand():
    x = np.array([[3, 1, 4, 0]])
    np.testing.assert_array_equal(tagging.previous_value_rule(x), [[0, 2, 0, 3]])
