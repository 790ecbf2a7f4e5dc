"""Argument checks shared by the dataset modules: each error names the argument.

`numbers.Integral` and `numbers.Real` take Python and NumPy numbers alike (a sweep
over `np.linspace` hands out `np.float32`), as the layers' checks do; bools are refused.
"""

import numbers

SPLITS = ("train", "validation", "test")


def positive_int(name, value, minimum=1):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"Argument `{name}` must be an integer >= {minimum}, received {value!r}.")
    return int(value)


def is_real(value):
    """A Python or NumPy real number, not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def fraction(name, value):
    if not is_real(value) or not 0 <= value < 1:
        raise ValueError(f"Argument `{name}` must be a fraction in [0, 1), received {value!r}.")
    return float(value)


def split_fractions(validation_fraction, test_fraction):
    validation_fraction = fraction("validation_fraction", validation_fraction)
    test_fraction = fraction("test_fraction", test_fraction)
    if validation_fraction + test_fraction >= 1:
        raise ValueError(
            "`validation_fraction + test_fraction` must leave data to train on, received "
            f"{validation_fraction} + {test_fraction}."
        )
    return validation_fraction, test_fraction
