"""lstmkit.probes: the probe sentences, their order, and the scores read from them."""

import numpy as np

from lstmkit import probes


def test_texts_are_family_by_family_first_then_second_pair_by_pair():
    texts = probes.probe_texts()
    pairs = len(probes.POSITIVE) * len(probes.NEGATIVE)
    assert len(texts) == len(probes.PROBES) * 2 * pairs
    assert texts[:2] == ["it is moving", "it is moving"]  # pairs (moving, bad), (moving, dull)
    assert texts[pairs] == "it is bad"  # the first family's second sentences start here
    families = probes.as_families(np.arange(len(texts)))
    assert families.shape == (len(probes.PROBES), 2, pairs)
    assert texts[int(families[2, 1, 0])] == "bad , not moving"


def test_every_same_words_family_has_a_control_with_the_same_words_in_the_same_places():
    for family, control in probes.CONTROLS.items():
        for template, control_template in zip(probes.PROBES[family], probes.PROBES[control]):
            words = template.format(p="P", n="N").split()
            control_words = control_template.format(p="P", n="N").split()
            assert [w for w in words if w in "PN"] == [w for w in control_words if w in "PN"]
            assert words[0] == control_words[0] and words[-1] == control_words[-1]
    assert set(probes.probe_words()) >= {"not", "but", "and", ",", "it", "is", "dull"}


def test_scores_from_probabilities():
    probabilities = np.zeros((len(probes.PROBES), 2, 4))
    probabilities[0, 0] = 0.9  # first higher in every pair
    probabilities[1, 1] = 0.9  # second higher
    probabilities[2, 0] = [0.9, 0.9, 0.1, 0.0]
    probabilities[2, 1] = [0.0, 0.0, 0.5, 0.0]  # higher, higher, lower, tie
    wins = probes.first_wins(probabilities)
    assert wins["words"] == 1.0 and wins["negation"] == 0.0
    assert wins["negation, same words"] == (1 + 1 + 0 + 0.5) / 4
    assert wins["contrast, same words"] == 0.5  # all ties
    np.testing.assert_allclose(probes.gaps(probabilities)["negation"], -0.9)
