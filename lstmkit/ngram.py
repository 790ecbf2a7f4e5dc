"""n-gram language models over a stream of integer ids: the baseline a recurrent model must beat.

    model = NGramModel(order=8, vocabulary_size=90).fit(train_ids)
    model.bits_per_token(test_ids)            # mean -log2 p(id | the 7 ids before it)
    model.bits_per_token(test_ids, order=3)   # the same counts, read as a trigram model

An order-n model predicts each id from the n - 1 ids before it. Counts alone give
zero probability to every continuation training never showed, so the estimate of
each order is interpolated with the next lower one (down to the uniform distribution
over the vocabulary):

    kneser_ney   interpolated modified Kneser-Ney (Chen & Goodman, 1999): three
                 absolute discounts per order, estimated from its count-of-counts, and
                 the lower orders count in how many contexts a continuation occurs
    witten_bell  interpolated Witten-Bell (Witten & Bell, 1991): the lower order gets
                 the weight T / (c + T), T the number of distinct continuations seen

Written with NumPy: every context seen in training gets a dense integer id (the
id of its k - 1 newest ids, extended by one older id), and counts are looked up in
sorted arrays with `np.searchsorted`, so any order fits and a model of a few million
characters takes seconds.
"""

import numbers

import numpy as np

SMOOTHINGS = ("kneser_ney", "witten_bell")


def _is_integer(value):
    """A Python or NumPy integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _as_ids(ids, vocabulary_size, argument="ids"):
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"Argument `{argument}` must be a 1-D array of integer ids, received "
            f"{ids.dtype} {ids.shape}."
        )
    if len(ids) and (ids.min() < 0 or ids.max() >= vocabulary_size):
        raise ValueError(
            f"Argument `{argument}` holds ids outside [0, {vocabulary_size}) "
            f"(min {ids.min()}, max {ids.max()})."
        )
    return ids.astype("int64")


def _check_start(start, ids):
    """The slice of the scored positions, `start` on; at least one position must be left."""
    if not isinstance(start, (int, np.integer)) or isinstance(start, bool) or start < 0:
        raise ValueError(f"Argument `start` must be an integer >= 0, received {start!r}.")
    if not len(ids):  # the mean of nothing is no cross-entropy (NumPy: nan and a warning)
        raise ValueError("No ids to score: argument `ids` is empty.")
    if start >= len(ids):
        raise ValueError(f"Argument `start` ({start}) leaves none of the {len(ids)} ids to score.")
    return slice(int(start), None)


def _context_ids(ids, context_keys, size):
    """ids of the contexts before every position, one array per length k = 0..len - 1.

    `context_keys[k]` (k >= 1) holds the sorted keys `parent * size + older id` of the
    length-k contexts training saw: the index of a key is the context's id, the parent
    the id of the context without its oldest id. -1: a context training never saw, or
    a position with fewer than k ids before it.
    """
    found = [np.zeros(len(ids), dtype="int64")]  # the empty context: id 0 everywhere
    for k in range(1, len(context_keys)):
        older = np.full(len(ids), -1, dtype="int64")  # ids[i - k]
        older[k:] = ids[:-k] if k < len(ids) else []
        parent = found[-1]
        keys = parent * size + older
        known = context_keys[k]
        where = np.minimum(np.searchsorted(known, keys), len(known) - 1)
        hit = (parent >= 0) & (older >= 0) & (known[where] == keys)
        found.append(np.where(hit, where, -1))
    return found


def _lookup(keys, values, queries):
    """values[j] where keys[j] == query, else 0 (keys sorted and distinct)."""
    if not len(keys):
        return np.zeros(len(queries), dtype=values.dtype)
    where = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where(keys[where] == queries, values[where], 0)


class _Level:
    """The counts of one order: each (context, next id) pair and each context's totals."""

    def __init__(self, keys, counts, vocabulary_size):
        self.keys, self.counts = keys, counts  # (pairs,) sorted, (pairs,)
        contexts, pair_context = np.unique(keys // vocabulary_size, return_inverse=True)
        self.contexts = contexts  # (contexts,)
        self.totals = np.bincount(pair_context, weights=counts)  # c(h)
        # How many continuations of each context were seen once, twice, three times or more.
        self.seen = [
            np.bincount(pair_context, weights=(counts == 1)),
            np.bincount(pair_context, weights=(counts == 2)),
            np.bincount(pair_context, weights=(counts >= 3)),
        ]
        # Modified Kneser-Ney's discounts D1, D2, D3+ from the count-of-counts n1..n4.
        # Where the formula leaves (0, j) (a level with few or irregular counts, such as
        # the 90 single characters), the discount is Kneser-Ney's original y, so every
        # seen context keeps some mass for what it has not seen.
        n = np.bincount(np.minimum(counts, 5), minlength=6).astype("float64")  # n[4]: exactly 4
        y = n[1] / (n[1] + 2 * n[2]) if n[1] > 0 else 0.5
        self.discounts = np.zeros(4)  # indexed by min(count, 3); a zero count is not discounted
        for j in (1, 2, 3):
            d = j - (j + 1) * y * n[j + 1] / n[j] if n[j] > 0 else 0.0
            self.discounts[j] = d if 0.0 < d < j else y

    def statistics(self, contexts, pairs):
        """For each query: c(h, w), c(h), and the seen-once/twice/3+ counts of h."""
        where = np.minimum(np.searchsorted(self.contexts, contexts), len(self.contexts) - 1)
        known = self.contexts[where] == contexts
        totals = np.where(known, self.totals[where], 0.0)
        seen = [np.where(known, s[where], 0.0) for s in self.seen]
        return _lookup(self.keys, self.counts, pairs).astype("float64"), totals, seen


class NGramModel:
    """An interpolated n-gram model of a stream of ids.

    Args:
        order: n, the number of ids in an n-gram (2: bigram, predicts from one id).
        vocabulary_size: Ids are in `[0, vocabulary_size)`; unseen ids keep a share
            of the uniform distribution, so no probability is ever zero.
        smoothing: `"kneser_ney"` (interpolated modified Kneser-Ney, the default)
            or `"witten_bell"`.

    Attributes:
        order, vocabulary_size, smoothing: As given.
    """

    def __init__(self, order, vocabulary_size, smoothing="kneser_ney"):
        for name, value in (("order", order), ("vocabulary_size", vocabulary_size)):
            if not _is_integer(value) or value < 1:
                raise ValueError(
                    f"Argument `{name}` must be a positive integer, received {value!r}."
                )
        if smoothing not in SMOOTHINGS:
            raise ValueError(
                f"Argument `smoothing` must be one of {SMOOTHINGS}, received {smoothing!r}."
            )
        self.order, self.vocabulary_size, self.smoothing = (
            int(order),
            int(vocabulary_size),
            smoothing,
        )
        self._raw = self._continuation = None

    def fit(self, ids):
        """Counts every n-gram of `ids` (1-D ints) up to `order`; returns the model."""
        ids = _as_ids(ids, self.vocabulary_size)
        if len(ids) < self.order:
            raise ValueError(f"{len(ids)} ids are too few for an order-{self.order} model.")
        size = self.vocabulary_size
        # Dense ids of the contexts of each length, as they occur in training.
        self._context_keys = [np.zeros(1, dtype="int64")]  # the empty context, id 0
        context_ids = [np.zeros(len(ids), dtype="int64")]
        for k in range(1, self.order):
            keys = context_ids[-1][k:] * size + ids[:-k]  # (parent, ids[i - k]) at i >= k
            known, inverse = np.unique(keys, return_inverse=True)
            self._context_keys.append(known)
            context_ids.append(np.concatenate([np.full(k, -1), inverse]))
        self._raw = []  # level k: the counts of (length-k context, next id)
        for k in range(self.order):
            keys, counts = np.unique(context_ids[k][k:] * size + ids[k:], return_counts=True)
            self._raw.append(_Level(keys, counts, size))
        # Kneser-Ney's lower orders count the distinct ids seen before (h, w), not (h, w):
        # replace every length-(k + 1) context by its parent (drop its oldest id) and
        # count the distinct (parent, w) pairs.
        self._continuation = []
        for k in range(self.order - 1):
            level = self._raw[k + 1]
            parents = self._context_keys[k + 1][level.keys // size] // size
            keys, counts = np.unique(parents * size + level.keys % size, return_counts=True)
            self._continuation.append(_Level(keys, counts, size))
        return self

    def _probabilities_by_order(self, ids, order):
        """p of every id under orders 1..order, computed in one pass (a list)."""
        if self._raw is None:
            raise ValueError("Call `fit` before asking the model for probabilities.")
        ids = _as_ids(ids, self.vocabulary_size)
        size = self.vocabulary_size
        contexts = _context_ids(ids, self._context_keys[:order], size)
        lower = np.full(len(ids), 1.0 / size)  # the estimate the next order falls back on
        by_order = []
        for k in range(order):
            pairs = contexts[k] * size + ids  # negative where the context is unknown
            levels = [self._raw[k]]  # the top level of an order-(k+1) model counts raw n-grams
            if self.smoothing == "kneser_ney" and k < self.order - 1:
                levels.append(self._continuation[k])  # ... lower levels count continuations
            estimates = []
            for level in levels:
                count, total, seen = level.statistics(contexts[k], pairs)
                if self.smoothing == "kneser_ney":
                    discount = level.discounts[np.minimum(count, 3).astype("int64")]
                    d1, d2, d3 = level.discounts[1:]
                    weight = d1 * seen[0] + d2 * seen[1] + d3 * seen[2]  # mass left for lower
                    estimate = (np.maximum(count - discount, 0.0) + weight * lower) / np.maximum(
                        total, 1e-300
                    )
                else:
                    distinct = seen[0] + seen[1] + seen[2]  # T(h)
                    estimate = (count + distinct * lower) / np.maximum(total + distinct, 1e-300)
                estimates.append(np.where(total > 0, estimate, lower))  # unseen h: back off
            by_order.append(estimates[0])
            lower = estimates[-1]
        return by_order

    def probabilities(self, ids, order=None):
        """float64 `(len(ids),)`: p(ids[i] | the `order - 1` ids before i).

        The first `order - 1` positions use the ids there are (a shorter context).

        Args:
            ids: 1-D ints, the text to score.
            order: Read the counts as a model of this order (1..`self.order`); default
                `self.order`.
        """
        order = self.order if order is None else order
        if not _is_integer(order) or not 1 <= order <= self.order:
            raise ValueError(f"Argument `order` must be in 1..{self.order}, received {order!r}.")
        return self._probabilities_by_order(ids, order)[-1]

    def bits_per_token(self, ids, order=None, start=0):
        """The cross-entropy of `ids` in bits per id: mean of -log2 `probabilities`.

        `start`: score the ids from this position on; the ones before are only context
        (`start=1` scores what a model that reads `ids[0]` first predicts).
        """
        return _mean_bits(self.probabilities(ids, order)[_check_start(start, ids)])

    def bits_by_order(self, ids, start=0):
        """`{n: bits per id}` for every order n = 1..`self.order`, in one pass.

        `start` as for `bits_per_token`.
        """
        scored = _check_start(start, ids)
        return {
            k + 1: _mean_bits(p[scored])
            for k, p in enumerate(self._probabilities_by_order(ids, self.order))
        }


def _mean_bits(probabilities):
    # The mean of nothing is no cross-entropy: NumPy would give nan and a warning.
    if not len(probabilities):
        raise ValueError("No ids to score: argument `ids` is empty.")
    return float(-np.mean(np.log2(probabilities)))
