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
