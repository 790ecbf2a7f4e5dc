"""The course's data: seeded synthetic tasks, and real datasets loaded the real way.

One module per kind; every public name is also here, as `lstmkit.datasets.NAME`.

| module      | holds                                                                        |
|-------------|------------------------------------------------------------------------------|
| `synthetic` | `make_sine`, `make_adding_problem`, `make_latch`, `make_tagging_task`,       |
|             | `make_dates`, `date_vocabularies`, `make_date_splits`, `encode_dates`        |
|             | (NumPy, deterministic under `seed`); `steps_since_pulse`                     |
| `series`    | `load_airline_passengers`, `load_daily_min_temperatures`,                    |
|             | `load_monthly_sunspots` (`Series`); `chronological_split`, `Scaler`,         |
|             | `make_windows`, `prepare_series` (`PreparedSeries`)                          |
| `text`      | `load_sentence_polarity`, `load_spa_eng`, `load_imdb`; `CharVocabulary`,     |
|             | `make_text_vectorizer`; `read_sentence_polarity`, `read_spa_eng` (unsplit)   |
| `language`  | `make_human_numbers` (`HumanNumbers`, fastbook ch. 12's data and split),     |
|             | `load_char_corpus` (`CharCorpus`, real sentences as character streams),      |
|             | `Vocabulary`, `make_language_model_windows`, `make_stream_batches`,          |
|             | `number_in_words`                                                            |
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
from lstmkit.datasets.language import (
    CHAR_CORPUS_SOURCES,
    HUMAN_NUMBERS_TRAIN,
    HUMAN_NUMBERS_VALID,
    UNKNOWN_CHARACTER,
    CharCorpus,
    HumanNumbers,
    Vocabulary,
    load_char_corpus,
    make_human_numbers,
    make_language_model_windows,
    make_stream_batches,
    number_in_words,
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
    encode_dates,
    make_adding_problem,
    make_date_splits,
    make_dates,
    make_latch,
    make_sine,
    make_tagging_task,
    steps_since_pulse,
)
from lstmkit.datasets.text import (
    CharVocabulary,
    load_imdb,
    load_sentence_polarity,
    load_spa_eng,
    make_text_vectorizer,
    read_sentence_polarity,
    read_spa_eng,
)

__all__ = [
    "CHAR_CORPUS_SOURCES",
    "HUMAN_NUMBERS_TRAIN",
    "HUMAN_NUMBERS_VALID",
    "REMOTE_FILES",
    "SPLITS",
    "UNKNOWN_CHARACTER",
    "CharCorpus",
    "CharVocabulary",
    "DatasetUnavailableError",
    "HumanNumbers",
    "PreparedSeries",
    "RemoteFile",
    "Scaler",
    "Series",
    "Vocabulary",
    "cache_dir",
    "chronological_split",
    "date_vocabularies",
    "encode_dates",
    "fetch",
    "keras_home",
    "load_char_corpus",
    "load_airline_passengers",
    "load_daily_min_temperatures",
    "load_imdb",
    "load_monthly_sunspots",
    "load_sentence_polarity",
    "load_spa_eng",
    "make_adding_problem",
    "make_date_splits",
    "make_dates",
    "make_human_numbers",
    "make_language_model_windows",
    "make_latch",
    "make_sine",
    "make_stream_batches",
    "make_tagging_task",
    "make_text_vectorizer",
    "make_windows",
    "number_in_words",
    "prepare_series",
    "read_sentence_polarity",
    "read_spa_eng",
    "seed_cache",
    "steps_since_pulse",
]
