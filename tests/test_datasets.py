"""lstmkit.datasets: generators, real loaders from the seeded cache, helpers, error paths."""

import datetime
import hashlib
import os
import shutil
import zipfile

import keras
import numpy as np
import pytest
from conftest import requires_data

from lstmkit import datasets

# --- synthetic ---------------------------------------------------------------------------------


def test_sine_shapes_noise_and_determinism():
    clean = datasets.make_sine(200, period=20)
    assert clean.shape == (200,) and clean.dtype == np.float32
    np.testing.assert_allclose(clean[:21:5], [0, 1, 0, -1, 0], atol=1e-6)
    noisy = datasets.make_sine(200, period=20, noise_std=0.1, seed=3)
    assert 0.07 < np.std(noisy - clean) < 0.13
    np.testing.assert_array_equal(noisy, datasets.make_sine(200, period=20, noise_std=0.1, seed=3))
    assert not np.array_equal(noisy, datasets.make_sine(200, period=20, noise_std=0.1, seed=4))


def test_adding_problem():
    x, y = datasets.make_adding_problem(2000, length=50, seed=1)
    assert x.shape == (2000, 50, 2) and y.shape == (2000, 1) and x.dtype == y.dtype == np.float32
    markers = x[:, :, 1]
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :25].sum(axis=1) == 1)  # one marker in each half
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
    # Always answering the mean 1.0 scores about 1/6.
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.015)
    np.testing.assert_array_equal(x, datasets.make_adding_problem(2000, length=50, seed=1)[0])


def test_tagging_task_needs_the_next_step():
    x, y, lengths = datasets.make_tagging_task(3000, length=12, num_classes=4, seed=2)
    assert x.shape == y.shape == (3000, 12) and x.dtype == np.int32
    assert x.min() == 1 and x.max() == 4 and np.all(lengths == 12)
    v = x - 1
    expected_middle = (v[:, :-2] + v[:, 2:]) % 4
    np.testing.assert_array_equal(y[:, 1:-1], expected_middle)
    np.testing.assert_array_equal(y[:, 0], v[:, 1] % 4)
    np.testing.assert_array_equal(y[:, -1], v[:, -2] % 4)
    # Knowing everything up to t (all past tokens) tells nothing about the tag at t:
    # for a fixed past, the tags are spread evenly over the classes.
    same_past = (x[:, 0] == 1) & (x[:, 1] == 2) & (x[:, 2] == 3)
    counts = np.bincount(y[same_past, 2], minlength=4)
    assert counts.min() > 0.6 * counts.mean()
    again = datasets.make_tagging_task(3000, length=12, num_classes=4, seed=2)
    assert np.array_equal(again[0], x) and np.array_equal(again[1], y)  # deterministic


def test_tagging_task_padding():
    x, y, lengths = datasets.make_tagging_task(500, length=15, min_length=5, seed=3)
    assert lengths.min() >= 5 and lengths.max() <= 15 and len(set(lengths)) > 5
    for row in range(20):
        n = lengths[row]
        assert np.all(x[row, n:] == 0) and np.all(y[row, n:] == 0) and np.all(x[row, :n] > 0)
        assert y[row, n - 1] == (x[row, n - 2] - 1) % 4  # last real step: no right neighbour


def test_tagging_task_reach():
    x, y, lengths = datasets.make_tagging_task(500, length=10, min_length=4, seed=5, reach=2)
    v = np.where(x > 0, x - 1, 0)  # 0 beyond the end, as the tags count it
    previous = np.pad(v, ((0, 0), (1, 0)))[:, :-1]
    two_ahead = np.pad(v, ((0, 0), (0, 2)))[:, 2:]
    np.testing.assert_array_equal(y, np.where(x > 0, (previous + two_ahead) % 4, 0))
    # reach=1 is the default task, the same draws.
    default = datasets.make_tagging_task(500, length=10, min_length=4, seed=5)
    again = datasets.make_tagging_task(500, length=10, min_length=4, seed=5, reach=1)
    assert all(np.array_equal(a, b) for a, b in zip(default, again))
    np.testing.assert_array_equal(default[0], x)  # same tokens, other tags


def test_date_splits_hold_out_seen_inputs_and_encode():
    (train_inputs, train_targets), (test_inputs, test_targets) = datasets.make_date_splits(
        400, 300, seed=1
    )
    assert (train_inputs, train_targets) == datasets.make_dates(400, seed=2)
    everything = dict(zip(*datasets.make_dates(300, seed=3)))
    assert not set(test_inputs) & set(train_inputs)
    assert all(everything[text] == iso for text, iso in zip(test_inputs, test_targets))
    source, decoder_input, decoder_target = datasets.encode_dates(test_inputs, test_targets)
    _, target_vocabulary = datasets.date_vocabularies()
    assert source.shape == (len(test_inputs), 27) and decoder_input.shape == (len(test_inputs), 11)
    assert np.all(decoder_input[:, 0] == target_vocabulary.START)
    np.testing.assert_array_equal(decoder_input[:, 1:], decoder_target[:, :-1])  # shifted by one
    assert np.all(decoder_target[:, -1] == target_vocabulary.END)
    assert target_vocabulary.decode(decoder_target) == test_targets


def test_dates_and_vocabularies_round_trip():
    inputs, targets = datasets.make_dates(500, seed=4)
    assert len(inputs) == len(targets) == 500
    assert len(set(inputs)) > 450
    for text, iso in zip(inputs, targets):
        date = datetime.date.fromisoformat(iso)
        assert datetime.date(1950, 1, 1) <= date <= datetime.date(2049, 12, 31)
        assert str(date.day) in text
    start, end = datetime.date(1969, 7, 20), datetime.date(1969, 7, 21)
    assert set(datasets.make_dates(5, start=start, end=end)[1]) <= {"1969-07-20", "1969-07-21"}
    source, target = datasets.date_vocabularies()
    encoded = source.encode(inputs, length=30)
    assert encoded.shape == (500, 30) and encoded.dtype == np.int32
    assert source.decode(encoded) == inputs
    t = target.encode(targets, length=12, start=True, end=True)
    assert np.all(t[:, 0] == target.START) and np.all(t[:, 11] == target.END)
    assert target.decode(t) == targets
    assert source.decode(source.encode(["März 3"], 10)) == ["M?rz 3"]  # unknown character


def test_formats_are_varied():
    inputs, _ = datasets.make_dates(300, seed=5)
    assert any("/" in s for s in inputs) and any("," in s for s in inputs)
    assert any(s[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun") for s in inputs)


# --- real datasets from the seeded cache --------------------------------------------------------


@requires_data("airline-passengers.csv")
def test_airline_passengers():
    series = datasets.load_airline_passengers()
    assert len(series) == 144 and series.values.dtype == np.float32 and series.period == 12
    assert series.dates[0] == np.datetime64("1949-01-01") and series.dates[-1] == np.datetime64(
        "1960-12-01"
    )
    assert (
        series.values.min() == 104 and series.values.max() == 622 and series.values.sum() == 40363
    )


@requires_data("daily-min-temperatures.csv")
def test_daily_min_temperatures():
    series = datasets.load_daily_min_temperatures()
    assert len(series) == 3650
    assert series.dates[0] == np.datetime64("1981-01-01") and series.dates[-1] == np.datetime64(
        "1990-12-31"
    )
    assert series.values.min() == 0.0 and series.values.max() == pytest.approx(26.3)
    assert np.all(np.diff(series.dates).astype(int) >= 1)


@requires_data("monthly-sunspots.csv")
def test_monthly_sunspots():
    series = datasets.load_monthly_sunspots()
    assert len(series) == 2820 and series.period == 132
    assert series.dates[0] == np.datetime64("1749-01-01") and series.dates[-1] == np.datetime64(
        "1983-12-01"
    )
    assert series.values.max() == pytest.approx(253.8)


@requires_data("rt-polaritydata.tar.gz")
def test_sentence_polarity():
    splits = datasets.load_sentence_polarity()
    assert set(splits) == set(datasets.SPLITS)
    sizes = {k: len(v[0]) for k, v in splits.items()}
    assert sizes == {"train": 8530, "validation": 1066, "test": 1066}
    labels = np.concatenate([v[1] for v in splits.values()])
    assert labels.dtype == np.int32 and labels.sum() == 5331 and len(labels) == 10662
    texts = np.concatenate([v[0] for v in splits.values()])
    # cp1252, decoded as such: byte 0x85 is an ellipsis there (latin-1 would give a
    # control character); é alone would not tell the two apart.
    assert any("\u2026" in t for t in texts) and not any("\x85" in t for t in texts)
    again = datasets.load_sentence_polarity()
    assert list(again["test"][0][:5]) == list(splits["test"][0][:5])
    other = datasets.load_sentence_polarity(seed=1)
    assert list(other["test"][0][:5]) != list(splits["test"][0][:5])


@requires_data("spa-eng.zip")
def test_spa_eng():
    splits = datasets.load_spa_eng()
    total = sum(len(v[0]) for v in splits.values())
    assert total == 118964
    english, spanish = splits["train"]
    assert len(english) == len(spanish) and isinstance(english[0], str)
    # Split by English sentence: whole groups, so the shares hold to within one group.
    for split in ("validation", "test"):
        assert abs(len(splits[split][0]) - 11896) < 50
    small = datasets.load_spa_eng(max_pairs=1000)
    assert sum(len(v[0]) for v in small.values()) == 1000


@requires_data("spa-eng.zip")
def test_spa_eng_keeps_held_out_english_sentences_out_of_training():
    splits = datasets.load_spa_eng()
    train_english = set(splits["train"][0])
    for split in ("validation", "test"):
        assert not train_english & set(splits[split][0])
    assert not set(splits["validation"][0]) & set(splits["test"][0])
    # Every pair is kept exactly once.
    pairs = sorted(p for english, spanish in splits.values() for p in zip(english, spanish))
    random_splits = datasets.load_spa_eng(group_by_english=False)
    assert pairs == sorted(p for e, s in random_splits.values() for p in zip(e, s))
    # The random split, still on offer, leaks: about a fifth of its test pairs.
    assert len(random_splits["test"][0]) == 11896
    random_train_english = set(random_splits["train"][0])
    leaked = np.mean([e in random_train_english for e in random_splits["test"][0]])
    assert 0.15 < leaked < 0.25
    # Deterministic under the seed, and the seed matters.
    again = datasets.load_spa_eng()
    assert list(again["test"][0][:20]) == list(splits["test"][0][:20])
    assert list(datasets.load_spa_eng(seed=1)["test"][0][:20]) != list(splits["test"][0][:20])


def test_imdb_without_network_names_the_file():
    with pytest.raises(datasets.DatasetUnavailableError, match="imdb.npz.*seed-cache"):
        datasets.load_imdb(num_words=1000)


def test_seed_cache_needs_a_folder_and_names_files_with_another_hash(tmp_path):
    with pytest.raises(FileNotFoundError, match="No folder"):
        datasets.seed_cache(tmp_path / "missing")
    (tmp_path / "airline-passengers.csv").write_text("not the real file")
    with pytest.warns(UserWarning, match="airline-passengers.csv"):
        assert datasets.seed_cache(tmp_path, destination=tmp_path / "cache") == []


# --- language-model data ------------------------------------------------------------------------

# Figures that fastbook prints in 12_nlp_dive.ipynb (fastai/fastbook, commit 098e12d):
FASTBOOK_LINES = 9998  # `lines` after reading train.txt and valid.txt: "(#9998)"
FASTBOOK_TOKENS = 63095  # `nums`: "(#63095) [0,1,2,1,3,1,4,1,5,1...]"
FASTBOOK_VOCAB_HEAD = ["one", ".", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
FASTBOOK_TEXT_HEAD = (  # text[:100]
    "one . two . three . four . five . six . seven . eight . nine . ten . eleven . twelve . "
    "thirteen . fo"
)
FASTBOOK_THREE_TOKEN_WINDOWS = 21031  # `m,bs,len(seqs)`: "(328, 64, 21031)"
FASTBOOK_BASELINE = 0.15165200855716662  # "(tensor(29), 'thousand', 0.15165200855716662)"
# fastai/course-v3 nbs/dl1/lesson7-human-numbers.ipynb joins valid.txt with ", " and prints
# `len(data.valid_ds[0][0].data)`: its tokens, plus one "xxbos".
COURSE_V3_VALID_TOKENS = 13017


def test_human_numbers_is_fastbooks_stream():
    data = datasets.make_human_numbers()
    assert len(data.numbers) == FASTBOOK_LINES and 8000 not in data.numbers
    assert data.numbers[0] == 1 and data.numbers[7998] == 7999 and data.numbers[7999] == 8001
    assert len(data.tokens) == len(data.ids) == FASTBOOK_TOKENS and data.ids.dtype == np.int32
    assert " ".join(data.tokens).startswith(FASTBOOK_TEXT_HEAD)
    assert len(data.vocabulary) == 30 and data.vocabulary.tokens[:10] == FASTBOOK_VOCAB_HEAD
    np.testing.assert_array_equal(data.ids[:10], [0, 1, 2, 1, 3, 1, 4, 1, 5, 1])
    assert data.vocabulary.decode(data.ids) == data.tokens
    words = {"thousand", "hundred", ".", "ten", "eleven", "twelve", "thirteen", "fourteen"}
    words |= {"fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
    words |= set("one two three four five six seven eight nine".split())
    words |= set("twenty thirty forty fifty sixty seventy eighty ninety".split())
    assert set(data.vocabulary.tokens) == words  # no "and", no hyphenated forms
    valid_words = sum(
        len(datasets.number_in_words(n).split()) for n in datasets.HUMAN_NUMBERS_VALID
    )
    assert 1 + valid_words + len(datasets.HUMAN_NUMBERS_VALID) - 1 == COURSE_V3_VALID_TOKENS
    # Word forms as fastai's files have them (shown in course-v3's lesson7-human-numbers).
    assert datasets.number_in_words(8121) == "eight thousand one hundred twenty one"
    assert datasets.number_in_words(9999) == "nine thousand nine hundred ninety nine"
    assert datasets.number_in_words(8000) == "eight thousand"
    assert datasets.number_in_words(40) == "forty"
    assert datasets.number_in_words(105) == "one hundred five"
    last_two = "nine thousand nine hundred ninety eight . nine thousand nine hundred ninety nine"
    assert " ".join(data.tokens).endswith(last_two)


def test_human_numbers_windows_and_baseline_as_fastbook():
    data = datasets.make_human_numbers()
    # Three-token windows: fastbook's first models predict the token after each.
    three = data.windows(sequence_length=3)
    num_windows = len(three["train"][0]) + len(three["validation"][0])
    assert num_windows == FASTBOOK_THREE_TOKEN_WINDOWS and num_windows // 64 == 328
    assert len(three["train"][0]) == int(num_windows * 0.8)
    # fastbook's baseline: the most frequent target over the validation windows.
    targets = three["validation"][1][:, -1]
    counts = np.bincount(targets, minlength=len(data.vocabulary))
    assert counts.argmax() == 29 and data.vocabulary.tokens[29] == "thousand"
    assert counts.max() / len(targets) == pytest.approx(FASTBOOK_BASELINE, abs=1e-12)
    assert round(counts.max() / len(targets), 3) == 0.152
    # Sequence length 16: seqs[0] as fastbook shows it, y shifted by one.
    windows = data.windows()
    x, y = windows["train"]
    assert x.shape == (3154, 16) and windows["validation"][0].shape == (789, 16)
    assert " ".join(data.vocabulary.decode(x[0])).startswith("one . two . three . four . five .")
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    np.testing.assert_array_equal(x[1:, 0], y[:-1, -1])  # the windows tile the stream
    assert x.dtype == y.dtype == np.int32


def test_stream_batches_continue_each_row_across_batches():
    data = datasets.make_human_numbers()
    x, y = data.windows(sequence_length=16)["train"]
    batch_size = 64
    xs, ys = datasets.make_stream_batches(x, y, batch_size=batch_size)
    batches = len(x) // batch_size  # 49: fastbook's group_chunks keeps m * bs windows
    assert xs.shape == ys.shape == (batches * batch_size, 16)
    xs, ys = xs.reshape(batches, batch_size, 16), ys.reshape(batches, batch_size, 16)
    # Row j of batch k + 1 starts where row j of batch k's target ends ...
    np.testing.assert_array_equal(xs[1:, :, 0], ys[:-1, :, -1])
    # ... and each row, read across batches, is one contiguous stretch of the text.
    for row in range(batch_size):
        stream = xs[:, row].reshape(-1)
        start = row * batches * 16
        np.testing.assert_array_equal(stream, data.ids[start : start + len(stream)])
    # Any batch size; the windows that fill no stream are the last ones, dropped.
    windows = np.arange(100)
    kept = datasets.make_stream_batches(windows, batch_size=7)
    assert len(kept) == 98 and set(kept) == set(range(98))
    np.testing.assert_array_equal(kept[:7], [0, 14, 28, 42, 56, 70, 84])
    np.testing.assert_array_equal(kept[7:14], [1, 15, 29, 43, 57, 71, 85])


def test_vocabulary_encodes_and_decodes():
    words = datasets.Vocabulary(["<unk>", "a", "b"], unknown="<unk>")
    np.testing.assert_array_equal(words.encode(["b", "a", "zzz"]), [2, 1, 0])
    assert words.decode([[2, 1]]) == ["b", "a"]
    characters = datasets.Vocabulary(["?", "a", "é", "\n"], unknown="?")
    ids = characters.encode("aé\nx")  # the vectorised path for strings
    np.testing.assert_array_equal(ids, [1, 2, 3, 0])
    np.testing.assert_array_equal(ids, characters.encode(list("aé\nx")))
    assert "".join(characters.decode(ids)) == "aé\n?"


@requires_data("spa-eng.zip")
def test_char_corpus_hashed_split_and_training_vocabulary():
    corpus = datasets.load_char_corpus()
    assert corpus.source == "tatoeba_english"
    sizes = {split: len(corpus.sentences[split]) for split in datasets.SPLITS}
    assert sum(sizes.values()) == 102904  # the distinct English sentences
    assert 0.09 < sizes["validation"] / 102904 < 0.11 and 0.09 < sizes["test"] / 102904 < 0.11
    seen = [set(corpus.sentences[split]) for split in datasets.SPLITS]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    vocabulary = corpus.vocabulary
    assert vocabulary.tokens[0] == datasets.UNKNOWN_CHARACTER == vocabulary.unknown
    assert set(vocabulary.tokens[1:]) == set(corpus.text["train"])  # training text only
    for split in datasets.SPLITS:
        text, ids = corpus.text[split], corpus.ids[split]
        assert text == "".join(s + "\n" for s in corpus.sentences[split])
        assert ids.shape == (len(text),) and ids.dtype == np.int32
        unknown = {c for c in text if c not in vocabulary.index}
        assert np.sum(ids == 0) == sum(c in unknown for c in text)
    assert "".join(vocabulary.decode(corpus.ids["train"][:500])) == corpus.text["train"][:500]
    # Windows shifted by one, and the stream layout works on them too.
    x, y = corpus.windows("validation", sequence_length=100)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    np.testing.assert_array_equal(x[1:, 0], y[:-1, -1])
    xs, ys = datasets.make_stream_batches(x, y, batch_size=32)
    xs, ys = xs.reshape(-1, 32, 100), ys.reshape(-1, 32, 100)
    np.testing.assert_array_equal(xs[1:, :, 0], ys[:-1, :, -1])
    # The split depends on each sentence's text only: the same on every load.
    assert datasets.load_char_corpus().sentences["test"][:50] == corpus.sentences["test"][:50]


@requires_data("rt-polaritydata.tar.gz")
def test_char_corpus_from_sentence_polarity():
    corpus = datasets.load_char_corpus(
        "sentence_polarity", validation_fraction=0.2, test_fraction=0.1
    )
    sizes = {split: len(corpus.sentences[split]) for split in datasets.SPLITS}
    assert sum(sizes.values()) == 10662 and 0.17 < sizes["validation"] / 10662 < 0.23
    assert corpus.vocabulary.tokens[0] == datasets.UNKNOWN_CHARACTER
    with pytest.raises(ValueError, match="`split` must be one of"):
        corpus.windows("dev", 10)


# --- helpers ---------------------------------------------------------------------------------


def test_chronological_split_and_scaler():
    values = np.arange(100, dtype="float32")
    train, validation, test = datasets.chronological_split(values, 0.1, 0.2)
    assert (len(train), len(validation), len(test)) == (70, 10, 20)
    assert train[-1] < validation[0] and validation[-1] < test[0]
    scaler = datasets.Scaler().fit(train)
    scaled = scaler.transform(train)
    assert abs(scaled.mean()) < 1e-6 and abs(scaled.std() - 1) < 1e-5
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test, rtol=1e-6)
    minmax = datasets.Scaler("minmax").fit(train)
    assert minmax.transform(train).min() == 0 and minmax.transform(train).max() == 1


def test_make_windows_equals_keras_timeseries_dataset():
    values = np.arange(30, dtype="float32")
    x, y = datasets.make_windows(values, window=5, horizon=2)
    assert x.shape == (24, 5, 1) and y.shape == (24, 2)
    np.testing.assert_array_equal(x[3, :, 0], [3, 4, 5, 6, 7])
    np.testing.assert_array_equal(y[3], [8, 9])
    dataset = keras.utils.timeseries_dataset_from_array(
        values[:-2], targets=values[5:], sequence_length=5, batch_size=100
    )
    keras_x, keras_y = next(iter(dataset))
    np.testing.assert_array_equal(np.asarray(keras_x), x[:, :, 0])
    np.testing.assert_array_equal(np.asarray(keras_y), y[:, 0])


def test_prepare_series_fits_scaler_on_train_only():
    values = np.concatenate([np.zeros(70), np.full(30, 100.0)]).astype("float32")
    prepared = datasets.prepare_series(values, window=4, validation_fraction=0.1, test_fraction=0.2)
    assert prepared.scaler.offset == 0.0  # the jump in the later parts did not leak in
    assert prepared.boundaries == (70, 80)
    x_test, y_test = prepared.test
    assert len(y_test) == 20  # every test value is a target exactly once
    np.testing.assert_allclose(prepared.scaler.inverse_transform(y_test), 100.0)
    assert len(prepared.validation[1]) == 10 and len(prepared.train[1]) == 66


def test_text_vectorizer_pads_with_zero():
    vectorizer = datasets.make_text_vectorizer(["a good film", "a bad film"], sequence_length=5)
    ids = np.asarray(vectorizer(["good film", "unknownword"]))
    assert ids.shape == (2, 5) and ids[0, 2] == 0 and ids[1, 0] == 1


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: datasets.make_sine(1), "`length` must be an integer >= 2, received 1"),
        (lambda: datasets.make_sine(10, period=0), "`period` must be positive"),
        (
            lambda: datasets.make_adding_problem(0),
            "`num_samples` must be an integer >= 1, received 0",
        ),
        (lambda: datasets.make_adding_problem(5, length=1), "`length` must be an integer >= 2"),
        (
            lambda: datasets.make_tagging_task(5, length=-3),
            "`length` must be an integer >= 2, received -3",
        ),
        (
            lambda: datasets.make_tagging_task(5, length=10, min_length=11),
            "`min_length` \\(11\\) must be <=",
        ),
        (
            lambda: datasets.make_tagging_task(5, length=10, reach=0),
            "`reach` must be an integer >= 1, received 0",
        ),
        (lambda: datasets.make_dates(-1), "`num_samples` must be an integer >= 1, received -1"),
        (lambda: datasets.chronological_split(np.ones(9), 0.6, 0.5), "must leave data to train on"),
        (
            lambda: datasets.chronological_split(np.ones(9), -0.1, 0.1),
            "`validation_fraction` must be a fraction",
        ),
        (lambda: datasets.make_windows(np.ones(4), window=4), "too short for window=4"),
        (lambda: datasets.Scaler("robust"), "`method` must be 'standard' or 'minmax'"),
        (lambda: datasets.Scaler().transform([1.0]), "not fitted yet"),
        (lambda: datasets.fetch("mnist"), "Unknown dataset 'mnist'"),
        (
            lambda: datasets.load_sentence_polarity(test_fraction=1.5),
            "`test_fraction` must be a fraction",
        ),
        (
            lambda: datasets.load_spa_eng(group_by_english="yes"),
            "`group_by_english` must be True or False",
        ),
        (
            lambda: datasets.make_language_model_windows(np.arange(10), 0),
            "`sequence_length` must be an integer >= 1, received 0",
        ),
        (
            lambda: datasets.make_language_model_windows(np.arange(10), 9),
            "gives no window of `sequence_length`=9",
        ),
        (
            lambda: datasets.make_language_model_windows(np.ones(10), 2),
            "`ids` must be a 1-D array of integer ids",
        ),
        (
            lambda: datasets.make_stream_batches(np.zeros((5, 3)), batch_size=0),
            "`batch_size` must be an integer >= 1, received 0",
        ),
        (
            lambda: datasets.make_stream_batches(np.zeros((5, 3)), batch_size=6),
            "`batch_size` \\(6\\) is larger than the 5 windows",
        ),
        (
            lambda: datasets.make_stream_batches(np.zeros((5, 3)), np.zeros((4, 3)), batch_size=2),
            "the same number each; received \\[5, 4\\]",
        ),
        (lambda: datasets.make_stream_batches(batch_size=2), "at least one array"),
        (
            lambda: datasets.make_human_numbers().windows(sequence_length=-1),
            "`sequence_length` must be an integer >= 1",
        ),
        (
            lambda: datasets.make_human_numbers().windows(train_fraction=1.0),
            "`train_fraction` must be a fraction in \\(0, 1\\)",
        ),
        (
            lambda: datasets.make_human_numbers().windows(sequence_length=63094),
            "gives no window of `sequence_length`=63094",
        ),
        (lambda: datasets.number_in_words(0), "`number` must be an integer in 1..9999"),
        (lambda: datasets.number_in_words(10000), "`number` must be an integer in 1..9999"),
        (lambda: datasets.load_char_corpus("wikipedia"), "`source` must be one of"),
        (
            lambda: datasets.load_char_corpus(validation_fraction=0.6, test_fraction=0.5),
            "must leave data to train on",
        ),
        (
            lambda: datasets.load_char_corpus(test_fraction=-0.1),
            "`test_fraction` must be a fraction",
        ),
        (lambda: datasets.Vocabulary([]), "`tokens` must not be empty"),
        (lambda: datasets.Vocabulary(["a", "a"]), "`tokens` must hold each token once"),
        (lambda: datasets.Vocabulary(["a"], unknown="?"), "`unknown` \\('\\?'\\) must be one of"),
        (
            lambda: datasets.Vocabulary(["a", "b"]).encode("abc"),
            "\\['c'\\] are not in the vocabulary",
        ),
        (
            lambda: datasets.Vocabulary(["aa", "b"]).encode(["aa", "c"]),
            "\\['c'\\] are not in the vocabulary",
        ),
    ],
)
def test_invalid_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_missing_file_without_network_names_file_url_and_folder(tmp_path):
    cached = os.path.join(datasets.cache_dir(), "monthly-sunspots.csv")
    moved = tmp_path / "monthly-sunspots.csv"
    if os.path.exists(cached):
        shutil.move(cached, moved)
    try:
        with pytest.raises(datasets.DatasetUnavailableError) as info:
            datasets.load_monthly_sunspots()
        text = str(info.value)
        assert "monthly-sunspots.csv" in text
        assert datasets.REMOTE_FILES["monthly_sunspots"].origin in text
        assert datasets.cache_dir() in text
        # Both offline ways to seed the cache are named.
        assert "python3 run.py seed-cache DIR" in text
        assert "python3 run.py course --data DIR" in text
    finally:
        if os.path.exists(moved):
            shutil.move(moved, cached)


def test_cached_file_with_wrong_hash_is_refused():
    path = os.path.join(datasets.cache_dir(), "airline-passengers.csv")
    backup = open(path, "rb").read() if os.path.exists(path) else None
    try:
        with open(path, "wb") as f:
            f.write(b'"Month","Passengers"\r\n"1949-01",1\r\n')
        with pytest.raises(
            ValueError, match=r"has sha256 .* expected 8cb51be7.*damaged or not the genuine"
        ):
            datasets.load_airline_passengers()
        assert os.path.exists(path)  # refused, not silently deleted
    finally:
        if backup is None:
            os.remove(path)
        else:
            with open(path, "wb") as f:
                f.write(backup)


def test_seed_cache_copies_only_genuine_files(tmp_path):
    source = tmp_path / "mirror"
    source.mkdir()
    (source / "airline-passengers.csv").write_bytes(b"not the real file")
    (source / "unrelated.txt").write_text("hello")
    assert datasets.seed_cache(source, tmp_path / "cache") == []


def _served_file(tmp_path, monkeypatch, content, file_hash):
    """Registers a dataset whose origin is a local file:// URL: a download without network."""
    origin_file = tmp_path / "origin.csv"
    origin_file.write_bytes(content)
    remote = datasets.RemoteFile("lstmkit-test-origin.csv", origin_file.as_uri(), file_hash)
    monkeypatch.setitem(datasets.REMOTE_FILES, "test_origin", remote)
    return os.path.join(datasets.cache_dir(), remote.fname)


def test_download_with_the_pinned_hash_is_kept(tmp_path, monkeypatch):
    content = b"month,value\n2000-01,1\n"
    cached = _served_file(tmp_path, monkeypatch, content, hashlib.sha256(content).hexdigest())
    try:
        assert datasets.fetch("test_origin") == cached
        assert open(cached, "rb").read() == content
    finally:
        if os.path.exists(cached):
            os.remove(cached)


def test_download_with_another_hash_is_a_value_error_naming_both_hashes(tmp_path, monkeypatch):
    content = b"month,value\n2000-01,1\n"
    expected = hashlib.sha256(b"the genuine bytes").hexdigest()
    cached = _served_file(tmp_path, monkeypatch, content, expected)
    with pytest.raises(ValueError) as info:
        datasets.fetch("test_origin")
    assert not isinstance(info.value, datasets.DatasetUnavailableError)
    text = str(info.value)
    assert expected in text and hashlib.sha256(content).hexdigest() in text
    assert "Could not download" not in text
    assert not os.path.exists(cached)  # the wrong bytes are not left in the cache


def test_numpy_numbers_are_accepted_like_python_ones():
    """A sweep over np.linspace hands out NumPy numbers: np.float32 fractions were refused
    (np.float64, a subclass of float, was accepted), as the layers accept both."""
    values = np.arange(10.0)
    expected = [len(part) for part in datasets.chronological_split(values, 0.2, 0.1)]
    for fraction in (np.float32(0.2), np.float64(0.2), np.float16(0.2)):
        parts = datasets.chronological_split(values, fraction, np.float32(0.1))
        assert [len(part) for part in parts] == expected
    data = datasets.make_human_numbers()
    assert len(data.windows(train_fraction=np.float32(0.8))["train"][0]) == len(
        data.windows(train_fraction=0.8)["train"][0]
    )
    x, y = datasets.make_windows(np.arange(10.0), window=np.int32(3), horizon=np.int64(1))
    assert x.shape == (7, 3, 1)
    for bad in (True, "0.2", None):
        with pytest.raises(ValueError, match="must be a fraction"):
            datasets.chronological_split(values, bad, 0.1)


def test_scaler_is_what_its_docstring_says():
    minmax = datasets.Scaler("minmax").fit([2.0, 4.0, 6.0])
    assert (minmax.offset, minmax.scale) == (2.0, 4.0)  # the minimum and the range
    np.testing.assert_allclose(minmax.transform([4.0, 10.0]), [0.5, 2.0])  # later ones may leave
    standard = datasets.Scaler().fit([1.0, 3.0])
    assert (standard.offset, standard.scale) == (2.0, 1.0)  # the mean and standard deviation
    assert datasets.Scaler("minmax").fit([5.0, 5.0]).scale == 1.0  # a constant sample


def test_dates_outside_the_two_digit_window_keep_four_digits():
    """Two-digit years read as 1950-2049: before, a 1921 date was written "03/03/21"
    (which reads as 2021) with the target 1921-03-03, and some inputs had two targets."""
    start, end = datetime.date(1900, 1, 1), datetime.date(2049, 12, 31)
    inputs, targets = datasets.make_dates(5000, start=start, end=end, seed=0)
    targets_of = {}
    for text, iso in zip(inputs, targets):
        targets_of.setdefault(text, set()).add(iso)
        year = int(iso[:4])
        if text.count("/") == 2 and len(text) == 8:  # "dd/mm/yy"
            assert 1950 <= year <= 2049 and text.endswith(iso[2:4]), (text, iso)
    assert all(len(isos) == 1 for isos in targets_of.values())


def test_char_vocabulary_refuses_one_string_for_a_list():
    """Before, `encode("3 May", 8)` gave 5 rows, one per character."""
    source, _ = datasets.date_vocabularies()
    with pytest.raises(ValueError, match=r"list of strings, received one string"):
        source.encode("3 May", 8)
    assert source.encode(["3 May"], 8).shape == (1, 8)


def test_chronological_split_refuses_to_leave_nothing_to_train_on():
    """Before, 2 steps split 0.4 / 0.4 gave an empty training part (and a Scaler fit on it
    gave nan)."""
    with pytest.raises(ValueError, match="nothing to train on"):
        datasets.chronological_split(np.arange(2.0), 0.4, 0.4)


def test_an_archive_is_extracted_once_and_then_read_where_it_lies(tmp_path, monkeypatch):
    # Keras extracts again on every get_file call, over the files a notebook running
    # beside this one may be reading: fetch extracts once, under a lock, then reuses it.
    archive = tmp_path / "origin.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("pairs/pairs.txt", "go .\tve .\n")
    file_hash = hashlib.sha256(archive.read_bytes()).hexdigest()
    remote = datasets.RemoteFile(
        "lstmkit-test-pairs.zip", archive.as_uri(), file_hash, extract=True
    )
    monkeypatch.setitem(datasets.REMOTE_FILES, "test_archive", remote)
    calls = []
    get_file = keras.utils.get_file
    monkeypatch.setattr(keras.utils, "get_file", lambda **kw: calls.append(kw) or get_file(**kw))
    folder = datasets.fetch("test_archive")
    try:
        assert open(os.path.join(folder, "pairs", "pairs.txt")).read() == "go .\tve .\n"
        assert datasets.fetch("test_archive") == folder
        assert len(calls) == 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for name in (remote.fname, f".{remote.fname}.extracted", f".{remote.fname}.extracted.lock"):
            path = os.path.join(datasets.cache_dir(), name)
            if os.path.exists(path):
                os.remove(path)
