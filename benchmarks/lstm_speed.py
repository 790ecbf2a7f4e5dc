"""Speed of one training step: lstmkit's LSTM against keras.layers.LSTM (and plain nn.LSTM).

A benchmark, not a test. Each backend runs in its own process (the backend is fixed at
`import keras`); inside a process the layers are timed alternately, round after round,
so a noisy machine slows both alike, and the ratio of medians is what is reported.

    python benchmarks/lstm_speed.py                    # all three backends
    python benchmarks/lstm_speed.py --backends torch --rounds 30

Shape: batch 64 x 100 steps x 32 features -> 128 units, a Dense(1) head, MSE, SGD.
"""

import argparse
import json
import os
import subprocess
import sys
import time

BATCH, TIMESTEPS, FEATURES, UNITS = 64, 100, 32, 128


def _median(values):
    values = sorted(values)
    return values[len(values) // 2]


def measure(rounds, warmup):
    """Runs inside one backend's process; returns seconds per step for each contender."""
    import keras
    import numpy as np

    import lstmkit

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(BATCH, TIMESTEPS, FEATURES)).astype("float32")
    y = np.random.default_rng(1).normal(size=(BATCH, 1)).astype("float32")

    def keras_model(layer):
        inputs = keras.Input((TIMESTEPS, FEATURES), batch_size=BATCH)
        model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        return model

    models = {
        "lstmkit": keras_model(lstmkit.LSTM(UNITS)),
        "keras": keras_model(keras.layers.LSTM(UNITS)),
    }
    steps = {name: (lambda m=m: m.train_on_batch(x, y)) for name, m in models.items()}

    if keras.backend.backend() == "torch":
        import torch

        class TorchModel(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = torch.nn.LSTM(FEATURES, UNITS, batch_first=True)
                self.head = torch.nn.Linear(UNITS, 1)

            def forward(self, inputs):
                outputs, _ = self.lstm(inputs)
                return self.head(outputs[:, -1])

        torch_model = TorchModel()
        optimizer = torch.optim.SGD(torch_model.parameters(), lr=0.01)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)

        def torch_step():
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(torch_model(tx), ty)
            loss.backward()
            optimizer.step()
            return float(loss)

        steps["torch.nn.LSTM"] = torch_step

    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return {name: _median(t) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(measure(args.rounds, args.warmup)))
        return

    print(
        f"train step, batch {BATCH} x {TIMESTEPS} steps x {FEATURES} features -> {UNITS} units,"
        f" median of {args.rounds} alternating rounds"
    )
    print(
        f"{'backend':<11} {'lstmkit ms':>10} {'keras ms':>9} {'ratio':>6}"
        f" {'nn.LSTM ms':>10} {'ratio':>6}"
    )
    for backend in args.backends:
        env = dict(
            os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0"
        )
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--rounds",
                str(args.rounds),
                "--warmup",
                str(args.warmup),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            print(f"{backend:<11} failed:\n{out.stderr[-2000:]}")
            continue
        t = json.loads(out.stdout.strip().splitlines()[-1])
        row = (
            f"{backend:<11} {t['lstmkit'] * 1e3:>10.1f} {t['keras'] * 1e3:>9.1f}"
            f" {t['lstmkit'] / t['keras']:>6.2f}"
        )
        if "torch.nn.LSTM" in t:
            row += f" {t['torch.nn.LSTM'] * 1e3:>10.1f} {t['lstmkit'] / t['torch.nn.LSTM']:>6.2f}"
        print(row)


if __name__ == "__main__":
    main()
