"""lstmkit: the library behind the course.

lstmkit.LSTM / lstmkit.layers      the LSTM layer and cell, in keras.ops
lstmkit.convert                    weights between PyTorch nn.LSTM and Keras
lstmkit.datasets                   synthetic tasks and real datasets
lstmkit.report                     key figures a notebook records for the runner
"""

from lstmkit import convert, datasets, layers, report
from lstmkit.layers import LSTM, LSTMCell

__all__ = ["LSTM", "LSTMCell", "convert", "datasets", "layers", "report"]
__version__ = "0.1.0"
