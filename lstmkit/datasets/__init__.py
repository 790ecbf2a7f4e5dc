"""The course's data: seeded synthetic tasks, and real datasets loaded the real way.

One module per kind; every public name is also here, as `lstmkit.datasets.NAME`.

| module      | holds                                                                        |
|-------------|------------------------------------------------------------------------------|
| `synthetic` | `make_sine`, `make_adding_problem`, `make_tagging_task`, `make_dates`,       |
|             | `date_vocabularies` (NumPy, deterministic under `seed`)                      |
| `series`    | `load_airline_passengers`, `load_daily_min_temperatures`,                    |
|             | `load_monthly_sunspots` (`Series`); `chronological_split`, `Scaler`,         |
|             | `make_windows`, `prepare_series` (`PreparedSeries`)                          |
| `text`      | `load_sentence_polarity`, `load_spa_eng`, `load_imdb`; `CharVocabulary`,     |
|             | `make_text_vectorizer`                                                       |
| `cache`     | `RemoteFile`, `REMOTE_FILES`, `fetch`, `seed_cache`, `keras_home`,           |
|             | `cache_dir`, `DatasetUnavailableError`                                       |

Real data (`load_*`): each file is downloaded once from its official origin with
`keras.utils.get_file` and a pinned hash into the Keras cache (`$KERAS_HOME/datasets`,
default `~/.keras/datasets`); `seed_cache` copies the files from a local folder, for
machines without internet. Splits are named as in `SPLITS`.
"""

from lstmkit.datasets._checks import SPLITS
from lstmkit.datasets.cache import (
    REMOTE_FILES,
    DatasetUnavailableError,
    RemoteFile,
    cache_dir,
    fetch,
    keras_home,
    seed_cache,
)
from lstmkit.datasets.series import (
    PreparedSeries,
    Scaler,
    Series,
    chronological_split,
    load_airline_passengers,
    load_daily_min_temperatures,
    load_monthly_sunspots,
    make_windows,
    prepare_series,
)
from lstmkit.datasets.synthetic import (
    date_vocabularies,
    make_adding_problem,
    make_dates,
    make_sine,
    make_tagging_task,
)
from lstmkit.datasets.text import (
    CharVocabulary,
    load_imdb,
    load_sentence_polarity,
    load_spa_eng,
    make_text_vectorizer,
)

__all__ = [
    "REMOTE_FILES",
    "SPLITS",
    "CharVocabulary",
    "DatasetUnavailableError",
    "PreparedSeries",
    "RemoteFile",
    "Scaler",
    "Series",
    "cache_dir",
    "chronological_split",
    "date_vocabularies",
    "fetch",
    "keras_home",
    "load_airline_passengers",
    "load_daily_min_temperatures",
    "load_imdb",
    "load_monthly_sunspots",
    "load_sentence_polarity",
    "load_spa_eng",
    "make_adding_problem",
    "make_dates",
    "make_sine",
    "make_tagging_task",
    "make_text_vectorizer",
    "make_windows",
    "prepare_series",
    "seed_cache",
]
