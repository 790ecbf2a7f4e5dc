"""Key figures a notebook records for the course runner's table.

    from lstmkit.report import record
    record("test_mse", test_mse)          # returns test_mse, so it can sit in an expression

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
                    figures[item["name"]] = (item["value"], item.get("unit", ""))
    return figures
