"""Speed of one training step: lstmkit's LSTM against keras.layers.LSTM and plain nn.LSTM.

A benchmark, not a test. Each backend runs in its own process (the backend is fixed at
`import keras`); inside a process the contenders are timed in turns, one step each,
round after round, so a noisy machine slows them alike (each turn opens with an untimed
step, and each round starts with the next contender, so the cost of switching from one
contender to another falls on none in particular). A ratio is the ratio of the
medians over the rounds, with a 95 % paired-bootstrap interval over the rounds
(`lstmkit.verdict.paired_bootstrap`).

    python benchmarks/lstm_speed.py                    # all backends, all cases
    python benchmarks/lstm_speed.py --threads 1        # one thread per process
    python benchmarks/lstm_speed.py --backends torch --cases last mask --rounds 36
    python benchmarks/lstm_speed.py --profile          # where the time of a torch step goes

Shape: batch 64 x 100 steps x 32 features -> 128 units, MSE, SGD. The cases:

    last        LSTM -> Dense(1) on the last output
    sequences   return_sequences=True -> Dense(1) on every step
    mask        right-padded batch (lengths 50..100) through a mask
    dropout     dropout=0.2 on the inputs (one mask per sequence)

The contenders, each a Keras model trained with `train_on_batch` except the last:

    lstmkit      lstmkit.LSTM (its fused path where the configuration allows)
    reference    lstmkit.LSTM(use_fused=False), the step-by-step gate math
    keras        keras.layers.LSTM
    nn.LSTM      (torch only) plain PyTorch: `nn.LSTM` (`torch._VF.lstm`), a
                 `pack_padded_sequence` for the mask, a per-sequence input mask for
                 dropout
"""

import argparse
import json
import os
import subprocess
import sys

BATCH, TIMESTEPS, FEATURES, UNITS = 64, 100, 32, 128
CASES = ("last", "sequences", "mask", "dropout")
# (numerator, denominator, target): the ratios printed, and the targets of issue 26.
RATIOS = {
    "tensorflow": [("lstmkit", "keras", 0.9), ("reference", "keras", None)],
    "jax": [("lstmkit", "keras", 0.9), ("reference", "keras", None)],
    "torch": [
        ("lstmkit", "nn.LSTM", 1.1),
        ("lstmkit", "keras", None),
        ("reference", "nn.LSTM", None),
    ],
}


def one_thread_environment():
    """Environment variables that keep every backend to one thread (set before import)."""
    return {
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    }


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


def keras_step(make_layer, case, x, y):
    import keras

    options = {
        "return_sequences": case == "sequences",
        "dropout": 0.2 if case == "dropout" else 0.0,
    }
    inputs = keras.Input((TIMESTEPS, FEATURES), batch_size=BATCH)
    hidden = keras.layers.Masking(0.0)(inputs) if case == "mask" else inputs
    hidden = make_layer(UNITS, **options)(hidden)
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
    """Runs inside one backend's process: {case: {contender: [seconds of each round]}}."""
    import functools

    import keras

    import lstmkit
    from lstmkit import compare

    keras.utils.set_random_seed(0)
    results = {}
    for case in cases:
        x, y, lengths = make_data(case)
        steps = {
            "lstmkit": keras_step(lstmkit.LSTM, case, x, y),
            "reference": keras_step(functools.partial(lstmkit.LSTM, use_fused=False), case, x, y),
            "keras": keras_step(keras.layers.LSTM, case, x, y),
        }
        if keras.backend.backend() == "torch":
            steps["nn.LSTM"] = torch_step(case, x, y, lengths)
        contenders = {name: compare.timed_steps(step) for name, step in steps.items()}
        for run_steps in contenders.values():
            run_steps(warmup)
        # An untimed step opens each turn, and the rounds follow a balanced order
        # (compare.balanced_orders): every contender in every position, and within a
        # round after every other, equally often.
        timing = compare.time_in_turns(
            contenders, rounds, steps_per_round=1, untimed_steps=1, balanced=True
        )
        results[case] = {name: run["seconds"] for name, run in timing.items()}
    return results


def threads_in_use():
    """What this process's backend reports as its thread count (torch) or the setting."""
    import keras

    if keras.backend.backend() == "torch":
        import torch

        return torch.get_num_threads()
    return os.environ.get("TF_NUM_INTRAOP_THREADS") or "default"


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


def report(backend, results):
    """The table rows and the verdict sentences of one backend's results."""
    import numpy as np

    from lstmkit.verdict import paired_bootstrap

    rows, sentences = [], []
    for case, seconds in results.items():
        medians = {name: 1e3 * float(np.median(s)) for name, s in seconds.items()}
        cells = [f"{name} {ms:.1f}" for name, ms in medians.items()]
        for numerator, denominator, target in RATIOS[backend]:
            verdict = paired_bootstrap(
                seconds[numerator],
                seconds[denominator],
                names=(numerator, denominator),
                metric=f"seconds per training step ({backend}, {case})",
                unit="rounds",
                statistic=np.median,
                relative=True,
                higher_is_better=False,
            )
            mark = "" if target is None else (" ok" if verdict.estimate <= target else " MISS")
            cells.append(
                f"{numerator}/{denominator} {verdict.estimate:.2f}"
                f" [{verdict.low:.2f}, {verdict.high:.2f}]{mark}"
            )
            sentences.append(str(verdict))
        rows.append(f"{backend:<11} {case:<10} " + " | ".join(cells))
    return rows, sentences


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument(
        "--rounds",
        type=int,
        default=24,
        help="a multiple of 12 balances fully: cycles of 6 rounds (3 contenders), 4 (torch's 4)",
    )
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, choices=[1], help="1: one thread per process (default: all)"
    )
    parser.add_argument("--profile", action="store_true", help="torch: profile lstmkit's step")
    parser.add_argument("--json", help="also write the seconds of every round to this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.profile:
        os.environ["KERAS_BACKEND"] = "torch"
        profile(args.cases[0], args.rounds)
        return
    if args.child:
        results = measure(args.cases, args.rounds, args.warmup)
        print(json.dumps({"threads": threads_in_use(), "results": results}))
        return

    threads = "one thread" if args.threads == 1 else "the default threads"
    print(
        f"train step, batch {BATCH} x {TIMESTEPS} steps x {FEATURES} features -> {UNITS} units,"
        f" {threads}, {os.cpu_count()} CPUs; ms = median of {args.rounds} rounds;"
        " ratio of medians [95 % paired-bootstrap interval over the rounds]"
    )
    everything, all_sentences = {}, []
    for backend in args.backends:
        env = dict(
            os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0"
        )
        if args.threads == 1:
            env.update(one_thread_environment())
        command = [sys.executable, __file__, "--child", "--cases", *args.cases]
        command += ["--rounds", str(args.rounds), "--warmup", str(args.warmup)]
        if args.threads:
            command += ["--threads", str(args.threads)]
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{backend:<11} failed:\n{out.stderr[-2000:]}")
            continue
        child = json.loads(out.stdout.strip().splitlines()[-1])
        everything[backend] = child
        rows, sentences = report(backend, child["results"])
        all_sentences += sentences
        print("\n".join(rows), flush=True)
    print()
    print("\n".join(all_sentences))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads or "default", "backends": everything}, f)


if __name__ == "__main__":
    main()
