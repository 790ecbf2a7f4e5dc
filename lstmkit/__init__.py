"""lstmkit: the library behind the course.

lstmkit.LSTM / lstmkit.layers      the LSTM layer and cell, in keras.ops
lstmkit.SimpleRNN / .stateful      Keras's SimpleRNN and GRU, with stateful training on every
                                   backend (and SimpleRNN's loop cheaper on torch)
lstmkit.convert                    weights between PyTorch nn.LSTM / nn.GRU and Keras
lstmkit.datasets                   synthetic tasks and real datasets
lstmkit.adding                     the adding problem as a workbench: model, fit, memory probes
lstmkit.forecasting                the linear (AR) baseline, a seasonal-skip LSTM, the recursion
lstmkit.ngram                      n-gram language models (Kneser-Ney, Witten-Bell)
lstmkit.sampling                   the next token: greedy, temperature, top-k; generate
lstmkit.gradients                  gradients on every backend
lstmkit.memory                     how far back a recurrent layer's gradient reaches (01, 02)
lstmkit.backends                   devices, and the same ops on every backend (00)
lstmkit.callbacks                  progress, gradient norms, step times, weight statistics
lstmkit.plots                      training curves, forecasts, gates, attention
lstmkit.seq2seq                    encoder-decoder with Luong attention; greedy and beam search;
                                   scheduled sampling
lstmkit.tagging                    lesson 06's tagger, padding helpers, the left-to-right ceiling
lstmkit.translation                English-Spanish pairs, word-by-word and memory baselines, BLEU
lstmkit.probes                     probe sentences for a sentiment classifier, with controls
lstmkit.compare                    one training run per backend, side by side
lstmkit.report                     key figures a notebook records for the runner
lstmkit.verdict                    which of two models wins, with its interval, as a sentence
"""

from lstmkit import (
    adding,
    backends,
    callbacks,
    compare,
    convert,
    datasets,
    forecasting,
    gradients,
    layers,
    memory,
    ngram,
    plots,
    probes,
    report,
    sampling,
    seq2seq,
    stateful,
    tagging,
    translation,
    verdict,
)
from lstmkit.layers import LSTM, LSTMCell
from lstmkit.stateful import GRU, SimpleRNN

__all__ = [
    "LSTM",
    "LSTMCell",
    "GRU",
    "SimpleRNN",
    "adding",
    "backends",
    "callbacks",
    "compare",
    "convert",
    "datasets",
    "forecasting",
    "gradients",
    "layers",
    "memory",
    "ngram",
    "plots",
    "probes",
    "report",
    "sampling",
    "seq2seq",
    "stateful",
    "tagging",
    "translation",
    "verdict",
]
__version__ = "0.1.0"
