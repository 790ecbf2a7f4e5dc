"""lstmkit: the library behind the course.

lstmkit.LSTM / lstmkit.layers      the LSTM layer and cell, in keras.ops
lstmkit.SimpleRNN                  keras.layers.SimpleRNN, looped faster on torch
lstmkit.convert                    weights between PyTorch nn.LSTM / nn.GRU and Keras
lstmkit.datasets                   synthetic tasks and real datasets
lstmkit.gradients                  gradients on every backend
lstmkit.callbacks                  progress, gradient norms, step times, weight statistics
lstmkit.plots                      training curves, forecasts, gates, attention
lstmkit.compare                    one training run per backend, side by side
lstmkit.report                     key figures a notebook records for the runner
"""

from lstmkit import callbacks, compare, convert, datasets, gradients, layers, plots, report
from lstmkit.layers import LSTM, LSTMCell
from lstmkit.simple_rnn import SimpleRNN

__all__ = [
    "LSTM",
    "LSTMCell",
    "SimpleRNN",
    "callbacks",
    "compare",
    "convert",
    "datasets",
    "gradients",
    "layers",
    "plots",
    "report",
]
__version__ = "0.1.0"
