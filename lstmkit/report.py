"""Key figures a notebook records for the course runner's table, and its checks.

    from lstmkit.report import check, record
    record("test_mse", test_mse)          # returns test_mse, so it can sit in an expression
    check(check_lstm_learns, results, stand_ins={"the constant answer": {...}})

The runner (`python3 run.py course`) points `LSTMKIT_FIGURES` at a file for each
notebook and reads it back; in JupyterLab, with the variable unset, the figure is
only printed.
"""

import json
import os

FIGURES_ENV = "LSTMKIT_FIGURES"


def record(name, value, unit=""):
    """Records one key figure of the running notebook and prints it.

    Args:
        name: Short identifier, e.g. `"lstm_test_mse"`.
        value: A number (int, float, or a 0-d array/tensor) or a short string.
        unit: Optional unit for the table, e.g. `"s"` or `"%"`.

    Returns:
        `value`, unchanged.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"Argument `name` must be a non-empty string, received {name!r}.")
    shown = value
    if not isinstance(value, str):
        try:
            shown = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"record({name!r}, ...) takes a number or a string, "
                f"received {type(value).__name__}."
            ) from None
    path = os.environ.get(FIGURES_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"name": name, "value": shown, "unit": unit}) + "\n")
    text = f"{shown:.4g}" if isinstance(shown, float) else shown
    print(f"[figure] {name} = {text}{unit}")
    return value


def read(path):
    """The figures recorded into `path`, as a dict name -> (value, unit); later wins."""
    figures = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    item = json.loads(line)
                    if "name" in item:
                        figures[item["name"]] = (item["value"], item.get("unit", ""))
    return figures


def check(function, results, stand_ins):
    """Runs a lesson's check on its results, and on each trivial stand-in's, which must fail.

    A check about learning (the model beats the baseline, the regulariser helps, loss
    scaling prevents an underflow) is a function of the run's results that raises
    `AssertionError` when the claim is false. It means something only if it fails for the
    trivial stand-in: the constant answer, the plain model at the same budget, float16
    without loss scaling. `check` runs it on `results` (it must pass) and on `results`
    updated with each stand-in's figures (it must fail), prints one line saying so, and
    records the check (its source, results and stand-ins) for the tests, which re-run it.

        def check_lstm_learns(results):
            assert results["lstm_mse"] < 0.3 * results["baseline_mse"], results

        check(check_lstm_learns, {"lstm_mse": lstm_mse, "baseline_mse": 1 / 6},
              stand_ins={"the constant answer": {"lstm_mse": constant_answer_mse}})

    The tests re-run the recorded source outside the notebook, so a check uses only its
    argument (and `np`, `math`): every number it compares is one of the results.

    Args:
        function: The check: takes a dict of results, raises `AssertionError` if false.
        results: The run's results, a dict of names to numbers (or short strings).
        stand_ins: A dict from each stand-in's name to the results it replaces, e.g.
            `{"the constant answer": {"lstm_mse": 0.167}}`. At least one.

    Returns:
        `results`, unchanged.

    Raises:
        AssertionError: The check fails on `results`, or passes for a stand-in.
    """
    import inspect

    if not callable(function):
        raise TypeError(f"Argument `function` must be callable, received {function!r}.")
    if not isinstance(results, dict) or not results:
        raise ValueError(f"Argument `results` must be a non-empty dict, received {results!r}.")
    if not isinstance(stand_ins, dict) or not stand_ins:
        raise ValueError("Argument `stand_ins` must name at least one trivial stand-in.")
    for name, replaced in stand_ins.items():
        unknown = set(replaced) - set(results) if isinstance(replaced, dict) else None
        if unknown is None or not replaced or unknown:
            raise ValueError(
                f"Stand-in {name!r} must replace some of the results' entries "
                f"({sorted(results)}), received {replaced!r}."
            )
    function(results)  # the claim itself: an AssertionError here is the lesson failing
    failed_for = []
    for name, replaced in stand_ins.items():
        try:
            function({**results, **replaced})
        except AssertionError:
            failed_for.append(name)
        else:
            raise AssertionError(
                f"{function.__name__} also passes for {name} ({replaced}): it cannot tell "
                "the lesson's claim from the trivial stand-in, so it checks nothing."
            )
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        source = ""
    path = os.environ.get(FIGURES_ENV)
    if path:
        entry = {
            "check": function.__name__,
            "source": source,
            "results": _plain(results),
            "stand_ins": _plain(stand_ins),
        }
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
    print(f"[check] {function.__name__}: holds; fails for {', '.join(failed_for)}")
    return results


def _plain(value):
    """`value` with NumPy and backend scalars turned into Python numbers, for JSON."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, str | bool | int | float) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def read_checks(path):
    """The checks recorded into `path` by `check`, in the order they ran."""
    checks = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    item = json.loads(line)
                    if "check" in item:
                        checks.append(item)
    return checks
