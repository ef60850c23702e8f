"""Validation of user input: every error names the argument, the property and the value.

This is the one validation layer of the toolkit (DESIGN.md, "One validated problem object per setting"): every
public function of every topic checks its arguments with these helpers, so that bad input raises

* ``TypeError`` when the argument has the wrong type (a string, None or an object where a number or an array is
  expected), and
* ``ValueError`` when it has the right type but a wrong value (NaN, inf, complex, a wrong shape, an empty array, a
  value out of range, an unknown option),

with a message of the form ``"<name> must be <property>, got <value>"``.  :class:`~theorytools.errors.HypothesisError`
(a ValueError) is for violated theorem hypotheses, :class:`~theorytools.errors.NonFiniteError` for results that turn
non-finite, :class:`~theorytools.errors.SizeError` for allocations refused by :mod:`theorytools.linalg.memory`.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from theorytools.errors import NonFiniteError


def _show(x) -> str:
    """A short description of an offending value for an error message."""
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number_like(x) -> bool:
    return isinstance(x, (numbers.Number, np.ndarray, np.generic, list, tuple)) and not isinstance(x, (str, bytes))

#: Relative tolerance for symmetry: ``|A - A^T|_max <= SYM_RTOL * |A|_max``.
#: Matrices assembled in floating point (e.g. ``X @ X.T``) are symmetric to a few ulps.
SYM_RTOL = 1e-10


def real_array(name: str, x) -> np.ndarray:
    """``x`` as a float64 array; a complex array is a ValueError (numpy would drop its imaginary part with only a
    warning), a string, None or another non-numeric object a TypeError, a ragged list a ValueError."""
    if isinstance(x, np.ndarray) and x.dtype == np.float64:  # the common case, on hot paths: no copy, no scan
        return x
    if x is None or isinstance(x, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be a real number or an array of them, got {_show(x)}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.VisibleDeprecationWarning)
            a = np.asarray(x)
    except (ValueError, np.exceptions.VisibleDeprecationWarning) as exc:
        raise ValueError(f"{name} must be a rectangular array of real numbers, got a ragged sequence") from exc
    if a.dtype == np.float64:
        return a
    if np.iscomplexobj(a) or (a.dtype == object and any(isinstance(v, complex) for v in a.flat)):
        raise ValueError(f"{name} must be real, got a complex array (dtype {a.dtype})")
    if a.dtype.kind in "USVO" and not (a.dtype == object and all(isinstance(v, numbers.Real) for v in a.flat)):
        raise TypeError(f"{name} must be an array of real numbers, got {_show(x)}")
    try:
        return np.asarray(a, dtype=float)
    except OverflowError as exc:
        raise ValueError(f"{name} must be finite, got a number too large for float64") from exc
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers, got dtype {a.dtype}") from exc


def as_array(name: str, x, *, ndim: int | None = None, shape: tuple | None = None, finite: bool = True,
             nonempty: bool = True) -> np.ndarray:
    """``x`` as a float64 array with ``ndim`` axes and the given ``shape`` (``None`` entries match any length),
    non-empty and finite unless told otherwise.

    Examples
    --------
    >>> as_array("X", [[1.0, 2.0]], shape=(None, 2)).shape
    (1, 2)
    """
    a = real_array(name, x)
    if shape is not None:
        ndim = len(shape)
    if ndim is not None and a.ndim != ndim:
        want = "a scalar" if ndim == 0 else f"a {ndim}-D array" + (f" of shape {_shape_text(shape)}" if shape else "")
        raise ValueError(f"{name} must be {want}, got shape {a.shape}")
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, a.shape)):
            if want is not None and want != got:
                raise ValueError(f"{name} must have shape {_shape_text(shape)}, got shape {a.shape} "
                                 f"(axis {axis} has length {got}, not {want})")
    if nonempty and a.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    if finite:
        _require_finite(name, a)
    return a


def _shape_text(shape) -> str:
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _require_finite(name: str, a: np.ndarray) -> None:
    bad = ~np.isfinite(a)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f"entry {idx[0]}" if len(idx) == 1 else f"entry {idx}" if idx else "it"
        raise ValueError(f"{name} must be finite, {where} is {a[idx]}")


def as_float(name: str, x, *, low: float | None = None, high: float | None = None, low_open: bool = False,
             high_open: bool = False, finite: bool = True) -> float:
    """A real scalar (Python or numpy number, or a 0-d / 1-element array) in the given range, as a float.

    Examples
    --------
    >>> as_float("gamma", 0.5, low=0.0, low_open=True)
    0.5
    """
    if isinstance(x, (bool, np.bool_)) or not _is_number_like(x):
        raise TypeError(f"{name} must be a real number, got {_show(x)}")
    if isinstance(x, (complex, np.complexfloating)) or np.iscomplexobj(x):
        raise ValueError(f"{name} must be real, got {_show(x)}")
    a = real_array(name, x)
    if a.size != 1 or a.ndim > 1:
        raise ValueError(f"{name} must be a single number, got an array of shape {a.shape}")
    v = float(a.reshape(()))
    if np.isnan(v) or (finite and not np.isfinite(v)):
        raise ValueError(f"{name} must be finite, got {v}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {v:g}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high:g}, got {v:g}")
    return v


def positive(name: str, x) -> float:
    """A finite real number ``> 0`` (a step size, a variance, a width of a time step).

    Examples
    --------
    >>> positive("dt", 1e-3)
    0.001
    """
    return as_float(name, x, low=0.0, low_open=True)


def nonnegative(name: str, x) -> float:
    """A finite real number ``>= 0`` (a damping, a time).

    Examples
    --------
    >>> nonnegative("beta", 0)
    0.0
    """
    return as_float(name, x, low=0.0)


def as_int(name: str, x, *, low: int | None = 0, high: int | None = None) -> int:
    """An integer count (a Python or numpy integer, or an integer-valued float such as ``1e4``) in ``[low, high]``.

    Examples
    --------
    >>> as_int("steps", 1e3, low=1)
    1000
    """
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, np.integer, np.floating)):
        if isinstance(x, (complex, np.complexfloating)):
            raise ValueError(f"{name} must be an integer, got {_show(x)}")
        raise TypeError(f"{name} must be an integer, got {_show(x)}")
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x) or x != np.round(x):
            raise ValueError(f"{name} must be an integer, got {x!r}")
        if abs(x) > 2.0**62:
            raise ValueError(f"{name} must be below 2**62, got {x:g}")
    v = int(x)
    if low is not None and v < low:
        raise ValueError(f"{name} must be >= {low}, got {v}")
    if high is not None and v > high:
        raise ValueError(f"{name} must be <= {high}, got {v}")
    return v


def as_choice(name: str, x, choices) -> str:
    """One of the allowed option strings.

    Examples
    --------
    >>> as_choice("method", "exact", ("exact", "eq10"))
    'exact'
    """
    choices = tuple(choices)
    if not isinstance(x, str):
        raise TypeError(f"{name} must be one of {choices}, got {_show(x)}")
    if x not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {x!r}")
    return x


def as_bool(name: str, x) -> bool:
    """A flag: ``True``/``False`` (Python or numpy bool) only, so that a misplaced positional number is not read
    as a flag."""
    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_show(x)}")
    return bool(x)


def as_seed(name: str, seed):
    """A seed for ``numpy.random.default_rng``: a non-negative integer, a sequence of them, a ``SeedSequence`` or
    ``None``; a negative or non-integer seed is refused here rather than deep inside numpy.

    Examples
    --------
    >>> as_seed("seed", 3)
    3
    """
    if seed is None or isinstance(seed, (np.random.SeedSequence, np.random.Generator)):
        return seed
    if isinstance(seed, (list, tuple)) and seed:
        return [as_int(f"{name}[{i}]", s) for i, s in enumerate(seed)]
    return as_int(name, seed)


def as_labels(name: str, y, classes: int, n: int | None = None) -> np.ndarray:
    """Class labels ``0 .. classes-1`` (integers or integer-valued floats) as an int64 vector (of length ``n``).

    Examples
    --------
    >>> as_labels("y", [0, 1, 1.0], 2)
    array([0, 1, 1])
    """
    classes = as_int("classes", classes, low=1)
    n = None if n is None else as_int("n", n)
    a = real_array(name, y)
    if a.ndim != 1 or (n is not None and a.shape[0] != n):
        raise ValueError(f"{name} must be a vector of {n if n is not None else 'class'} labels, got shape {a.shape}")
    bad = ~(np.isfinite(a) & (a == np.round(a)) & (a >= 0) & (a < classes))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must hold class labels in 0..{classes - 1}, entry {i} is {a[i]:g}")
    return a.astype(np.int64)


def same_length(names: tuple, *arrays) -> int:
    """The common length of the first axes of ``arrays`` (rows of a dataset); a ValueError naming both otherwise."""
    lengths = [np.shape(a)[0] if np.ndim(a) else None for a in arrays]
    if len(set(lengths)) != 1:
        listed = ", ".join(f"{n} has {k}" for n, k in zip(names, lengths))
        raise ValueError(f"{' and '.join(names)} must have the same number of rows: {listed}")
    return lengths[0]


def as_callable(name: str, f):
    """A function argument."""
    if not callable(f):
        raise TypeError(f"{name} must be callable, got {_show(f)}")
    return f


def as_instance(name: str, x, cls, what: str | None = None):
    """An object of class ``cls`` (e.g. a model or a network)."""
    if not isinstance(x, cls):
        names = " or ".join(c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,)))
        raise TypeError(f"{name} must be {what or 'a ' + names}, got {_show(x)}")
    return x


def as_matrix(name: str, A, n: int | None = None) -> np.ndarray:
    """Return ``A`` as a finite float64 square matrix (of size ``n`` when given)."""
    A = real_array(name, A)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {A.shape}")
    if n is not None and A.shape[0] != n:
        raise ValueError(f"{name} must be {n}x{n} to match the other arguments, got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValueError(f"{name} must be at least 1x1, got shape {A.shape}")
    bad = ~np.isfinite(A)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"{name} must be finite, entry ({i}, {j}) is {A[i, j]}")
    return A


def as_vector(name: str, x, n: int) -> np.ndarray:
    """Return ``x`` as a finite float64 vector of length ``n``."""
    x = real_array(name, x)
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.shape != (n,):
        raise ValueError(f"{name} must be a vector of length {n}, got shape {x.shape}")
    bad = ~np.isfinite(x)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must be finite, entry {i} is {x[i]}")
    return x


def as_symmetric(name: str, A, n: int | None = None) -> np.ndarray:
    """Validate symmetry to ``SYM_RTOL`` and return the exactly symmetrized matrix.

    Each entry's asymmetry is judged in its own units, against ``max(|A_ij|, |A_ji|, sqrt(|A_ii A_jj|))``, which
    scales like the entry when the coordinates are rescaled (``A -> S A S``); a tolerance relative to the largest
    entry would let a 100% asymmetry between two small-units coordinates pass.
    """
    A = as_matrix(name, A, n)
    diff = np.abs(A - A.T)
    if not diff.any():
        return A
    d = np.sqrt(np.abs(np.diag(A)))
    scale = np.maximum(np.maximum(np.abs(A), np.abs(A.T)), d[:, None] * d[None, :])
    rel = diff / np.maximum(scale, np.finfo(float).tiny)
    i, j = np.unravel_index(int(np.argmax(rel)), rel.shape)
    if rel[i, j] > SYM_RTOL:
        raise ValueError(
            f"{name} is not symmetric: max |{name} - {name}^T| = {diff[i, j]:.3e} at entry ({i}, {j}), "
            f"{rel[i, j]:.1e} times the entry's scale {scale[i, j]:.3e} (allowed: {SYM_RTOL:g})"
        )
    return 0.5 * (A + A.T)


def check_definite(name: str, A: np.ndarray, semi: bool = False) -> None:
    """Check positive (semi)definiteness of a symmetric matrix, naming its smallest eigenvalue on failure.

    Definiteness: a Cholesky factorization (its success does not depend on units: the factor of ``S A S`` is ``S L``),
    else the smallest eigenvalue.  Semidefiniteness: :func:`check_semidefinite`, which decides in units-free
    (equilibrated) coordinates, so that a rank-deficient covariance built in floating point is accepted and an
    indefinite one in mixed units is not.
    """
    A = as_matrix(name, A)
    if semi:
        check_semidefinite(name, A)
        return
    try:
        np.linalg.cholesky(A)
        return
    except np.linalg.LinAlgError:
        pass
    lo = float(np.linalg.eigvalsh(A)[0])
    if lo <= 0.0:
        raise ValueError(f"{name} is not positive definite: smallest eigenvalue {lo:.3e}")
    # Cholesky failed on a matrix with positive eigenvalues: positive definite, but only just in these units


def check_finite(where: str, value):
    """Raise :class:`NonFiniteError` if ``value`` has a NaN or infinite entry; else return it."""
    arr = real_array(where, value) if not isinstance(value, np.ndarray) or value.dtype.kind not in "fc" else value
    if not np.all(np.isfinite(arr)):
        nbad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(f"{where}: {nbad} non-finite value(s) (NaN or inf) in the result")
    return value


def as_steps(k, name: str = "k") -> np.ndarray:
    """Validate iteration counts: non-negative integers (int or integer-valued array)."""
    arr = np.asarray(k)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must be a non-negative integer or an array of them, got {k!r}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            flat = arr.reshape(-1)
            first = flat[np.argmax(~np.isfinite(flat) | (flat != np.round(flat)))]
            raise ValueError(f"{name} must be finite and integer-valued, got {first}")
        if np.any(np.abs(arr) > 2.0**62):
            raise ValueError(f"{name} must be below 2**62, got {np.max(arr):g}")
        arr = arr.astype(np.int64)
    elif np.any(arr > 2**62):  # integers: refuse before the int64 cast wraps (2**64 - 1 would become -1)
        raise ValueError(f"{name} must be below 2**62, got {np.max(arr)}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative, got {np.min(arr)}")
    return arr.astype(np.int64)


def squeeze_k(k_in, arr):
    """Drop the leading k axis of ``arr`` when the caller passed a scalar ``k``."""
    return arr[0] if np.ndim(k_in) == 0 else arr


def check_semidefinite(name: str, A, slack: float = 1e-12) -> np.ndarray:
    """Check that a symmetric matrix is positive semidefinite, deciding in units-free (Jacobi-equilibrated)
    coordinates: the same verdict for ``A`` and ``S A S`` with any positive diagonal ``S`` (a change of units).

    A negative diagonal entry, or a zero one whose row is not zero (``|A_ij|^2 <= A_ii A_jj`` fails), is reported as
    such.  The rest is decided on ``C = D A D``, ``D = diag(A)^-1/2`` on the positive diagonal: ``C`` has a unit
    diagonal, so the slack ``n * slack * lambda_max(C)`` (``lambda_max(C)`` between 1 and n) accepts a
    rank-deficient matrix built in floating point whatever its units, and an indefinite ``A`` stays indefinite
    (Sylvester's law of inertia).  A slack relative to ``lambda_max(A)`` itself would depend on the units: with
    ``diag(1e16, -1e-8)`` the negative entry hides under ``1e-12 * 1e16``.  Returns ``A`` validated and exactly
    symmetrized (:func:`as_symmetric`).
    """
    A = as_symmetric(name, A)
    slack = as_float("slack", slack, low=0.0)
    n = A.shape[0]
    d = np.diag(A)
    if (d < 0).any():
        i = int(np.argmin(d))
        raise ValueError(f"{name} is not positive semidefinite: diagonal entry {i} is {d[i]:.3e}")
    zero = d == 0
    if zero.any() and np.any(A[zero] != 0):
        i = int(np.flatnonzero(zero & np.any(A != 0, axis=1))[0])
        raise ValueError(f"{name} is not positive semidefinite: diagonal entry {i} is 0 but row {i} is not zero")
    live = np.flatnonzero(~zero)
    scale = 1.0 / np.sqrt(d[live])
    C = scale[:, None] * A[np.ix_(live, live)] * scale[None, :]
    try:  # the common case at a fraction of an eigensolve's cost (the shift is below the slack)
        np.linalg.cholesky(C + n * slack * np.eye(live.size))
        return A
    except np.linalg.LinAlgError:
        pass
    eig = np.linalg.eigvalsh(C)
    if eig[0] < -n * slack * eig[-1]:
        raise ValueError(f"{name} is not positive semidefinite: smallest eigenvalue {eig[0]:.3e} of its equilibrated "
                         f"form diag({name})^-1/2 {name} diag({name})^-1/2")
    return A


def as_text(name: str, x, *, nonempty: bool = True) -> str:
    """A string argument (a name, a label, a message): ``None``, a number or another object is a TypeError, an empty
    or blank string a ValueError.

    Examples
    --------
    >>> as_text("family", "tango")
    'tango'
    """
    if not isinstance(x, str):
        raise TypeError(f"{name} must be a string, got {_show(x)}")
    if nonempty and not x.strip():
        raise ValueError(f"{name} must be a non-empty string, got {x!r}")
    return x
