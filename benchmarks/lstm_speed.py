"""Speed of one training step: lstmkit's LSTM against keras.layers.LSTM (and plain nn.LSTM).

A benchmark, not a test. Each backend runs in its own process (the backend is fixed at
`import keras`); inside a process the contenders are timed alternately, round after
round, so a noisy machine slows them alike, and the ratio of medians is what is reported.

    python benchmarks/lstm_speed.py                    # all backends, all cases
    python benchmarks/lstm_speed.py --backends torch --cases last mask --rounds 30
    python benchmarks/lstm_speed.py --profile          # where the time of a step goes

Shape: batch 64 x 100 steps x 32 features -> 128 units, MSE, SGD. The cases:

    last        LSTM -> Dense(1) on the last output
    sequences   return_sequences=True -> Dense(1) on every step
    mask        right-padded batch (lengths 50..100) through a mask
    dropout     dropout=0.2 on the inputs (one mask per sequence)

On torch, a plain PyTorch model does the same work: `nn.LSTM` (cuDNN-free C++ on a
CPU, `torch._VF.lstm`), a `pack_padded_sequence` for the mask, and a per-sequence
input mask for dropout.
"""

import argparse
import json
import os
import subprocess
import sys

BATCH, TIMESTEPS, FEATURES, UNITS = 64, 100, 32, 128
CASES = ("last", "sequences", "mask", "dropout")


def _median(values):
    values = sorted(values)
    return values[len(values) // 2]


def make_data(case):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH, TIMESTEPS, FEATURES)).astype("float32")
    lengths = np.full(BATCH, TIMESTEPS)
    if case == "mask":
        lengths = rng.integers(TIMESTEPS // 2, TIMESTEPS + 1, size=BATCH)
        lengths[0] = TIMESTEPS  # pack_padded_sequence's longest sequence is the full length
        x[np.arange(TIMESTEPS)[None, :] >= lengths[:, None]] = 0.0  # zero padding on the right
    target_shape = (TIMESTEPS, 1) if case == "sequences" else (1,)
    y = rng.normal(size=(BATCH, *target_shape)).astype("float32")
    return x, y, lengths


def keras_step(layer_class, case, x, y):
    import keras

    options = {
        "return_sequences": case == "sequences",
        "dropout": 0.2 if case == "dropout" else 0.0,
    }
    inputs = keras.Input((TIMESTEPS, FEATURES), batch_size=BATCH)
    hidden = keras.layers.Masking(0.0)(inputs) if case == "mask" else inputs
    hidden = layer_class(UNITS, **options)(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    return lambda: model.train_on_batch(x, y)


def torch_step(case, x, y, lengths):
    import torch

    class TorchModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(FEATURES, UNITS, batch_first=True)
            self.head = torch.nn.Linear(UNITS, 1)

        def forward(self, inputs):
            if case == "dropout":  # one input mask per sequence, as Keras draws it
                keep = torch.ones_like(inputs[:, :1, :])  # (batch, 1, features)
                inputs = inputs * torch.nn.functional.dropout(keep, 0.2, training=True)
            if case == "mask":
                packed = torch.nn.utils.rnn.pack_padded_sequence(
                    inputs, torch.as_tensor(lengths), batch_first=True, enforce_sorted=False
                )
                _, (h_n, _) = self.lstm(packed)
                return self.head(h_n[-1])  # (batch, 1): each sequence's last real step
            outputs, _ = self.lstm(inputs)  # (batch, time, units)
            if case == "sequences":
                return self.head(outputs)  # (batch, time, 1)
            return self.head(outputs[:, -1])  # (batch, 1)

    model = TorchModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(tx), ty)
        loss.backward()
        optimizer.step()
        return float(loss)

    return step


def measure(cases, rounds, warmup):
    """Runs inside one backend's process: {case: {contender: seconds per step}}."""
    import keras

    import lstmkit
    from lstmkit import compare

    keras.utils.set_random_seed(0)
    results = {}
    for case in cases:
        x, y, lengths = make_data(case)
        steps = {
            "lstmkit": keras_step(lstmkit.LSTM, case, x, y),
            "keras": keras_step(keras.layers.LSTM, case, x, y),
        }
        if keras.backend.backend() == "torch":
            steps["nn.LSTM"] = torch_step(case, x, y, lengths)
        contenders = {name: compare.timed_steps(step) for name, step in steps.items()}
        for run_steps in contenders.values():
            run_steps(warmup)
        timing = compare.time_in_turns(contenders, rounds, steps_per_round=1)
        results[case] = {name: _median(run["seconds"]) for name, run in timing.items()}
    return results


def profile(case, steps):
    """Prints the operations that take the time of `steps` lstmkit training steps (torch)."""
    import keras
    import torch

    import lstmkit

    x, y, _ = make_data(case)
    step = keras_step(lstmkit.LSTM, case, x, y)
    for _ in range(3):
        step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    print(f"torch profile, lstmkit, case {case!r}, {steps} steps (Keras {keras.__version__})")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="torch: profile lstmkit's step")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.profile:
        os.environ["KERAS_BACKEND"] = "torch"
        profile(args.cases[0], args.rounds)
        return
    if args.child:
        print(json.dumps(measure(args.cases, args.rounds, args.warmup)))
        return

    print(
        f"train step, batch {BATCH} x {TIMESTEPS} steps x {FEATURES} features -> {UNITS} units,"
        f" median of {args.rounds} alternating rounds"
    )
    print(
        f"{'backend':<11} {'case':<10} {'lstmkit ms':>10} {'keras ms':>9} {'ratio':>6}"
        f" {'nn.LSTM ms':>10} {'ratio':>6}"
    )
    for backend in args.backends:
        env = dict(
            os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0"
        )
        command = [sys.executable, __file__, "--child", "--cases", *args.cases]
        command += ["--rounds", str(args.rounds), "--warmup", str(args.warmup)]
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{backend:<11} failed:\n{out.stderr[-2000:]}")
            continue
        results = json.loads(out.stdout.strip().splitlines()[-1])
        for case, t in results.items():
            row = (
                f"{backend:<11} {case:<10} {t['lstmkit'] * 1e3:>10.1f} {t['keras'] * 1e3:>9.1f}"
                f" {t['lstmkit'] / t['keras']:>6.2f}"
            )
            if "nn.LSTM" in t:
                row += f" {t['nn.LSTM'] * 1e3:>10.1f} {t['lstmkit'] / t['nn.LSTM']:>6.2f}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
