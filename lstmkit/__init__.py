"""lstmkit: the library behind the course."""

from lstmkit.layers import LSTM, LSTMCell

__all__ = ["LSTM", "LSTMCell"]
__version__ = "0.1.0"
