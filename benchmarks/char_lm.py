"""Lesson 05's full-size character model against the n-gram ladder fit on the same characters.

Trains `lstmkit.char_lm.FULL_SIZE` (lstmkit's LSTM under Keras, `fit`) under whatever
KERAS_BACKEND is set, for a wall-clock budget, and prints the held-out bits per character
at regular intervals of training time next to the Kneser-Ney n-grams of orders 1..16 fit
on exactly the characters the LSTM trains on and scored on exactly the characters it
predicts. It ends with one line:

    bits/char: lstm 1.612, best n-gram 1.731 (order 12), after 842 s

    KERAS_BACKEND=jax python benchmarks/char_lm.py                  # the full-size run
    KERAS_BACKEND=torch python benchmarks/char_lm.py --minutes 2 --seed 1
    KERAS_BACKEND=tensorflow python benchmarks/char_lm.py --text full   # the whole split
    KERAS_BACKEND=torch python benchmarks/char_lm.py --set output_dropout=0.35  # other settings

Text: the Tatoeba English training split (`load_char_corpus("tatoeba_english")`), its
first `--text` characters (`300k`, `1m`, a number, or `full`: all 2,735,633); held out:
the first 60,000 characters of the test split, read as 8 streams with the state carried.
The time is training time (from the end of the first step, which compiles); the
evaluations run off the clock,
and the wall time with them is printed too. The budget shapes the learning-rate schedule
(`lstmkit.callbacks.TimeBudget`), so a shorter `--minutes` is a shorter run, annealed,
not the first minutes of the long one.

TensorFlow runs its CPU matrix products through oneDNN by default; with
TF_ENABLE_ONEDNN_OPTS=0 (as the test suite sets it) this model trains about half as fast.
"""

import argparse
import dataclasses
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402  (after the environment above)
import numpy as np  # noqa: E402

from lstmkit import char_lm  # noqa: E402
from lstmkit.datasets import load_char_corpus  # noqa: E402
from lstmkit.ngram import NGramModel  # noqa: E402

HELD_OUT_CHARACTERS = 60_000
MAX_ORDER = 16
TEXTS = {"300k": 300_000, "1m": 1_000_000, "full": None}


def text_size(value):
    if value.lower() in TEXTS:
        return TEXTS[value.lower()]
    try:
        return int(value.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--text takes {', '.join(TEXTS)} or a number of characters, received {value!r}"
        ) from None


def setting(value):
    name, _, number = value.partition("=")
    fields = {field.name: field.type for field in dataclasses.fields(char_lm.CharModelSettings)}
    if name not in fields or name in ("train_characters", "minutes") or not number:
        raise argparse.ArgumentTypeError(
            f"--set takes NAME=VALUE with NAME one of "
            f"{', '.join(n for n in fields if n not in ('train_characters', 'minutes'))}"
            f" (--text and --minutes set the others), received {value!r}"
        )
    convert = int if fields[name] in (int, "int") else float
    try:
        return name, convert(number)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--set {name} takes a number, received {number!r}"
        ) from None


def orders_beaten(bits, ladder):
    beaten = [n for n, b in ladder.items() if bits < b]
    return f"below orders 1-{max(beaten)}" if beaten else "below no order"


def main():
    settings = char_lm.FULL_SIZE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=settings.minutes)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--text", type=text_size, default=settings.train_characters)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between evaluations")
    parser.add_argument(
        "--set",
        type=setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change one of char_lm.FULL_SIZE's settings, e.g. --set output_dropout=0.3",
    )
    args = parser.parse_args()
    settings = settings.replace(train_characters=args.text, minutes=args.minutes, **dict(args.set))

    corpus = load_char_corpus("tatoeba_english")
    vocabulary_size = len(corpus.vocabulary)
    train_ids = corpus.ids["train"][: settings.train_characters]
    held_out = char_lm.HeldOutText(corpus.ids["test"][:HELD_OUT_CHARACTERS])
    print(f"backend {keras.backend.backend()}, seed {args.seed}, {os.cpu_count()} CPUs")
    print(f"text: {len(train_ids):,} training characters; {held_out.count:,} held out")
    print(f"settings: {settings}")

    started = time.perf_counter()
    ngrams = NGramModel(MAX_ORDER, vocabulary_size).fit(train_ids)
    ladder = ngrams.bits_by_order(held_out.scored, start=1)
    best_order = min(ladder, key=ladder.get)
    print(f"Kneser-Ney n-grams on the same characters ({time.perf_counter() - started:.0f} s):")
    print("  " + "  ".join(f"{n}: {b:.3f}" for n, b in ladder.items()))
    print(f"  best: order {best_order}, {ladder[best_order]:.3f} bits/char")

    keras.utils.set_random_seed(args.seed)
    model = char_lm.build_model(vocabulary_size, settings)
    print("training seconds | characters | chars/s | learning rate | held-out bits/char")

    def show(row):
        rate = row["items"] / row["seconds"] if row["seconds"] else 0.0
        print(
            f"{row['seconds']:7.0f} s  {row['items'] / 1e6:7.2f} M  {rate:8,.0f}  "
            f"{row['learning_rate']:9.2e}  {row['value']:.3f}  "
            f"({orders_beaten(row['value'], ladder)}; wall {row['wall_seconds']:.0f} s)",
            flush=True,
        )

    budget = char_lm.train(
        model, train_ids, settings, held_out, every_seconds=args.every, on_evaluation=show
    )
    final = budget.curve[-1]
    passes = final["items"] / len(train_ids)
    print(f"{budget.steps} steps, {final['items']:,} characters ({passes:.1f} passes)")
    print(
        f"bits/char: lstm {final['value']:.3f}, best n-gram {ladder[best_order]:.3f} "
        f"(order {best_order}), after {budget.seconds_trained:.0f} s"
    )
    return 0 if np.isfinite(final["value"]) else 1


if __name__ == "__main__":
    sys.exit(main())
