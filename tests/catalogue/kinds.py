"""Kinds of arguments and the malformed values of each kind.

A malformation is ``(label, make)`` with ``make(valid_value, draw)`` returning the bad value; ``draw`` is hypothesis'
``data.draw`` (used to place a NaN at a random entry, for instance).  Labels are what an entry's ``accepts`` names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

HUGE = 10**12  # a count whose allocation could not fit in any memory


def _arr(v):
    return np.array(v, dtype=float)


def _poke(value, draw):
    a = _arr(value)
    if a.size == 0:
        return a, None
    i = draw(st.integers(0, a.size - 1))
    return a, np.unravel_index(i, a.shape)


def _with(value, draw, bad):
    a, idx = _poke(value, draw)
    a[idx] = bad
    return a


def _complex(value, draw):
    a, idx = _poke(value, draw)
    c = a.astype(complex)
    c[idx] += 1j
    return c


def _wrong_last_axis(value, draw):
    a = _arr(value)
    return np.concatenate([a, a[..., :1]], axis=-1) if a.ndim else np.array([float(a), 1.0])


def _layers_map(value, f):
    return [f(np.array(W, dtype=float)) for W in value]


def _layers_nan(value, draw):
    i = draw(st.integers(0, len(value) - 1))
    out = [np.array(W, dtype=float) for W in value]
    out[i].flat[draw(st.integers(0, out[i].size - 1))] = np.nan
    return out


def _layers_complex(value, draw):
    out = [np.array(W, dtype=complex) for W in value]
    out[draw(st.integers(0, len(value) - 1))].flat[0] += 1j
    return out


def _layers_reshape(value, draw):
    i = draw(st.integers(0, len(value) - 1))
    out = [np.array(W, dtype=float) for W in value]
    out[i] = np.vstack([out[i], out[i][:1]])
    return out


NAN = ("nan", lambda v, d: _with(v, d, np.nan))
INF = ("inf", lambda v, d: _with(v, d, -np.inf if d(st.booleans()) else np.inf))
COMPLEX = ("complex", _complex)
STRING = ("string", lambda v, d: "abc")
NONE = ("none", lambda v, d: None)
EMPTY = ("empty", lambda v, d: np.zeros((0,) * max(np.ndim(v), 1)))
WRONG_LENGTH = ("wrong_length", _wrong_last_axis)
EXTRA_AXIS = ("extra_axis", lambda v, d: np.stack([_arr(v), _arr(v)], axis=0)[None])
FLAT = ("flattened", lambda v, d: _arr(v).reshape(-1) if np.ndim(v) > 1 else _arr(v).reshape(1, 1, -1))
RAGGED = ("ragged", lambda v, d: [[1.0, 2.0], [3.0]])

S_NAN = ("nan", lambda v, d: float("nan"))
S_INF = ("inf", lambda v, d: float("inf") if d(st.booleans()) else float("-inf"))
S_COMPLEX = ("complex", lambda v, d: complex(v) + 1j)
S_ARRAY = ("array", lambda v, d: np.array([v, v], dtype=float))
ZERO = ("zero", lambda v, d: 0 if isinstance(v, (int, np.integer)) else 0.0)
NEGATIVE = ("negative", lambda v, d: -d(st.sampled_from([1, 3, 1000])) * (1 if isinstance(v, (int, np.integer)) else 1.5))
FRACTION = ("fraction", lambda v, d: float(v) + 0.5)
HUGE_COUNT = ("huge", lambda v, d: HUGE)
UNKNOWN = ("unknown", lambda v, d: "no-such-option")
NUMBER = ("number", lambda v, d: 3.0)
WRONG_OBJECT = ("wrong_object", lambda v, d: object())

L_NAN = ("nan", _layers_nan)
L_COMPLEX = ("complex", _layers_complex)
L_MISSING = ("missing_layer", lambda v, d: [np.array(W, dtype=float) for W in v][:-1])
L_SHAPE = ("layer_shape", _layers_reshape)
L_EMPTY = ("empty", lambda v, d: [])
L_STRING = ("string", lambda v, d: "abc")


@dataclass(frozen=True)
class Kind:
    name: str
    malformations: tuple

    def __add__(self, more):
        return Kind(self.name, self.malformations + tuple(more))

    def without(self, *labels):
        return Kind(self.name, tuple(m for m in self.malformations if m[0] not in labels))


_ARRAY = (NAN, INF, COMPLEX, STRING, NONE, EMPTY, RAGGED)
#: any real array whose shape is free (or follows another argument's)
ARRAY = Kind("array", _ARRAY)
#: a vector or an array of vectors of a fixed last-axis length (parameters theta, an input x)
VECTOR = Kind("vector", _ARRAY + (WRONG_LENGTH,))
#: a vector of a fixed length, no leading axes
VECTOR_1D = Kind("vector_1d", _ARRAY + (WRONG_LENGTH, EXTRA_AXIS))
#: a matrix of a fixed shape
MATRIX = Kind("matrix", _ARRAY + (WRONG_LENGTH, FLAT, EXTRA_AXIS))
#: a list of layer matrices
LAYERS = Kind("layers", (L_NAN, L_COMPLEX, L_MISSING, L_SHAPE, L_EMPTY, L_STRING, NONE))

_SCALAR = (S_NAN, S_INF, S_COMPLEX, STRING, NONE, S_ARRAY)
#: a finite real number > 0
POSITIVE = Kind("positive", _SCALAR + (ZERO, NEGATIVE))
#: a finite real number >= 0
NONNEG = Kind("nonneg", _SCALAR + (NEGATIVE,))
#: a finite real number of either sign
REAL = Kind("real", _SCALAR)
#: a probability or level in (0, 1)
UNIT = Kind("unit", _SCALAR + (ZERO, NEGATIVE, ("one_or_more", lambda v, d: 1.0 + d(st.sampled_from([0.0, 0.5])))))

_COUNT = (NEGATIVE, FRACTION, S_NAN, STRING, NONE, S_COMPLEX)
#: an integer >= 0
COUNT0 = Kind("count0", _COUNT)
#: an integer >= 1
COUNT = Kind("count", _COUNT + (ZERO,))
#: an integer >= 1 that sizes an allocation (steps kept, runs, widths): a huge value must be refused up front
SIZE = Kind("size", _COUNT + (ZERO, HUGE_COUNT))
#: a seed: integer >= 0 (or a SeedSequence)
SEED = Kind("seed", (NEGATIVE, FRACTION, STRING, S_NAN))
#: one of a fixed set of option strings
CHOICE = Kind("choice", (UNKNOWN, NONE, NUMBER))
#: an object of the toolkit (a model, a network, a problem)
OBJECT = Kind("object", (NUMBER, STRING, NONE, WRONG_OBJECT))
#: a function
CALLABLE = Kind("callable", (NUMBER, STRING))
#: a flag; malformed values are not probed (any truthy value works as True)
FLAG = Kind("flag", ())


# -- deeplinear: layer widths, datasets (X, Y, X_test, Y_test), arrays of positive numbers, inner layer shapes --------
def _widths_at(value, draw, bad):
    w = list(value)
    w[draw(st.integers(0, len(w) - 1))] = bad(w)
    return tuple(w)


def _data_at(value, draw, f):
    parts = [np.array(a, dtype=float) for a in value]
    i = draw(st.integers(0, len(parts) - 1))
    parts[i] = f(parts[i], draw)
    return tuple(parts)


def _inner_layer_reshape(value, draw):
    out = [np.array(W, dtype=float) for W in value]
    i = draw(st.integers(0, max(len(out) - 2, 0)))
    out[i] = np.vstack([out[i], out[i][:1]])  # one more output than the next layer takes (unless it is the last)
    return out


#: layer widths (n_0, ..., n_L): at least two positive integers; a huge one must be refused before allocating
WIDTHS = Kind("widths", (("fraction", lambda v, d: _widths_at(v, d, lambda w: 2.5)),
                         ("zero", lambda v, d: _widths_at(v, d, lambda w: 0)),
                         ("negative", lambda v, d: _widths_at(v, d, lambda w: -3)),
                         ("too_short", lambda v, d: tuple(v)[:1]),
                         ("huge", lambda v, d: _widths_at(v, d, lambda w: HUGE)),
                         STRING, NONE))
#: a dataset (X, Y, X_test, Y_test) for a net: rows are samples, X has n_0 columns and Y n_L ("wrong_width": another
#: net's data, or targets that would broadcast against the outputs)
DATA = Kind("data", (("nan", lambda v, d: _data_at(v, d, lambda a, dd: _with(a, dd, np.nan))),
                     ("complex", lambda v, d: _data_at(v, d, _complex)),
                     ("wrong_width", lambda v, d: _data_at(v, d, lambda a, dd: _wrong_last_axis(a, dd))),
                     ("row_mismatch", lambda v, d: (v[0], np.asarray(v[1])[:-1], v[2], v[3])),
                     ("too_few", lambda v, d: tuple(v)[:3]),
                     STRING, NONE))
#: an array whose entries must all be > 0 (learning rates, eigenvalues of an SPD matrix)
POSITIVE_ENTRIES = ARRAY + (("negative_entry", lambda v, d: _with(v, d, -1.0)), ("zero_entry", lambda v, d: _with(v, d, 0.0)))
#: the malformed shape of a layer that is not the last one (for nets whose last layer may legitimately change width)
L_INNER_SHAPE = ("inner_layer_shape", _inner_layer_reshape)
#: class labels 0..K-1 in an array of any shape (broadcast against parameters and inputs): also a label out of range,
#: a negative one and a fraction
CLASS_LABELS = ARRAY + (("out_of_range", lambda v, d: _with(v, d, 10.0**6)), ("negative_label", lambda v, d: _with(v, d, -1.0)),
                        ("fractional_label", lambda v, d: _with(v, d, 0.5)))
#: a step size delta t in [0, 1] (Definition 1 of the TANGO paper): also one above 1
STEP_FRACTION = Kind("step_fraction", _SCALAR + (NEGATIVE, ("above_one", lambda v, d: 1.5)))


# -- verification: texts, check-name patterns, p-values, lists of verdicts, lists of check modules --------------------
#: a string argument (a name, a label, a message): also a blank one
TEXT = Kind("text", (NONE, NUMBER, WRONG_OBJECT, ("blank", lambda v, d: "  ")))
#: a pattern of check names (``only``): also one that matches no check
PATTERN = TEXT + (("no_match", lambda v, d: "no-such-check-anywhere"),)
#: a probability in [0, 1] (a p-value): 0 and 1 are valid
PROBABILITY = Kind("probability", STEP_FRACTION.malformations)
#: an array of probabilities in [0, 1]
PROBABILITIES = ARRAY + (("negative_entry", lambda v, d: _with(v, d, -0.5)),
                         ("above_one_entry", lambda v, d: _with(v, d, 1.5)))
#: a non-empty list of objects of one class (a list of verdicts)
OBJECTS = Kind("objects", (("empty", lambda v, d: []), ("wrong_element", lambda v, d: list(v) + [object()]), STRING,
                           NONE, NUMBER))
#: a list of module names or .py paths: also a bare string (it would be read letter by letter) and a missing module
MODULES = Kind("modules", (STRING, NONE, NUMBER, ("missing_module", lambda v, d: ["no_such_module_anywhere_15"])))
#: a string that may be empty (hypotheses, an erratum, an axis label)
OPTIONAL_TEXT = TEXT.without("blank")
#: a check family: one word (a check is named ``family.name``, split at the first dot; ``--only`` splits at commas)
FAMILY = TEXT + (("dotted", lambda v, d: "a.b"), ("comma", lambda v, d: "a,b"))
#: a vector whose entries are >= 0 by construction (standard errors)
NONNEG_ENTRIES = VECTOR + (("negative_entry", lambda v, d: _with(v, d, -1.0)),)
#: chi^2 statistics (sums of squares, any shape): entries >= 0
CHI2 = ARRAY + (("negative_entry", lambda v, d: _with(v, d, -1.0)),)
#: the abscissa of a log-log fit: a vector of entries > 0
LOG_ABSCISSA = VECTOR_1D + (("zero_entry", lambda v, d: _with(v, d, 0.0)), ("negative_entry", lambda v, d: _with(v, d, -2.0)))


# -- quadratic / linalg: symmetric (semi)definite matrices, step-size schedules, iteration counts ---------------------
def _asymmetric(value, draw):
    a = _arr(value).copy()
    a[0, -1] += 0.5 * (np.max(np.abs(a)) + 1.0)  # far beyond the symmetry tolerance (needs n >= 2)
    return a


def _indefinite(value, draw):
    a = _arr(value)
    return a - 2.0 * (np.max(np.abs(np.linalg.eigvalsh(a))) + 1.0) * np.eye(a.shape[0])


def _indefinite_in_small_units(value, draw):
    """A symmetric matrix with a negative eigenvalue that is tiny next to the largest entry: the PSD matrix ``value``
    rescaled to units 1e8 apart (``S A S``) with a negative entry added in the small coordinate.  A test relative to
    the largest eigenvalue accepts it; one in the matrix's own units does not."""
    a = _arr(value)
    s = np.logspace(8, -8, a.shape[0])
    b = s[:, None] * a * s[None, :]
    b[-1, -1] = -b[-1, -1]
    return b


#: a symmetric positive definite matrix (H, B): also asymmetric and indefinite ones (n >= 2 in the valid call)
SPD = MATRIX + (("asymmetric", _asymmetric), ("indefinite", _indefinite))
#: a symmetric positive semidefinite matrix (a noise covariance): also one indefinite only in small units
PSD = SPD + (("indefinite_in_small_units", _indefinite_in_small_units),)
#: a step-size schedule object (Constant(alpha), Harmonic(a), ...), for which a bare positive number is shorthand
SCHEDULE = Kind("schedule", (STRING, NONE, WRONG_OBJECT, ("nonpositive_number", lambda v, d: -0.5),
                             ("nan", lambda v, d: float("nan")), ("bool", lambda v, d: True)))
#: iteration counts k: a non-negative integer (or an array of them)
STEPS = COUNT0 + (("negative_entry", lambda v, d: np.array([1, -2])), ("fractional_entry", lambda v, d: np.array([1.0, 2.5])))


# -- fisher: class labels, data rows that must match another argument's, (I_l, G_l) factor lists --------------------
def _poke_value(value, draw, bad):
    a = np.array(value, dtype=float)
    a[draw(st.integers(0, a.size - 1))] = bad
    return a


#: the rows of a data matrix must match another argument's (X and Y): one row fewer
FEWER_ROWS = ("fewer_rows", lambda v, d: _arr(v)[:-1])
#: a data matrix of a fixed width whose rows pair with another argument's (targets Y for inputs X)
SAMPLES = MATRIX + (FEWER_ROWS,)
#: a vector of class labels 0..K-1, one per row of another argument: out of range, negative, fractional, too few
LABELS = Kind("labels", (NAN, COMPLEX, STRING, NONE, EMPTY, EXTRA_AXIS, FEWER_ROWS,
                         ("out_of_range", lambda v, d: _poke_value(v, d, 10**6)),
                         ("negative", lambda v, d: _poke_value(v, d, -1)),
                         ("fraction", lambda v, d: _poke_value(v, d, 0.5))))
#: one class label 0..K-1
LABEL = Kind("label", _SCALAR + (NEGATIVE, FRACTION, ("out_of_range", lambda v, d: 10**6)))
#: a vector of logits (any length >= 1, no leading axes)
LOGITS = ARRAY + (EXTRA_AXIS,)


def _factor_columns(value, draw):
    out = [(np.array(I, dtype=float), np.array(G, dtype=float)) for I, G in value]
    i = draw(st.integers(0, len(out) - 1))
    out[i] = (out[i][0], out[i][1][:, :-1])  # G_l with one example fewer than I_l
    return out


#: per-layer factor pairs (I_l, G_l) with the same number of columns (MLP.curvature_factors)
FACTORS = Kind("factors", (("nan", lambda v, d: [(_with(I, d, np.nan), G) for I, G in v]),
                           ("complex", lambda v, d: [(I, _complex(G, d)) for I, G in v]),
                           ("columns", _factor_columns), ("not_a_pair", lambda v, d: [I for I, _ in v]),
                           ("empty", lambda v, d: []), STRING, NONE))
