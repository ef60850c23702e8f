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
    """``x`` as a float64 array, refusing what numpy would silently mangle.

    A complex array is a ValueError (numpy would drop its imaginary part with only a warning), a string, None or
    another non-numeric object a TypeError, a ragged list a ValueError.

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    x : array_like
        Real number(s).

    Returns
    -------
    numpy.ndarray
        ``x`` as float64 (not copied when it already is).

    Raises
    ------
    TypeError
        If ``x`` is not numeric.
    ValueError
        If ``x`` is complex or ragged.

    Examples
    --------
    >>> from theorytools.linalg import real_array
    >>> real_array("x", [1, 2]).tolist()
    [1.0, 2.0]
    >>> real_array("x", [1j])
    Traceback (most recent call last):
    ...
    ValueError: x must be real, got a complex array (dtype complex128)
    """
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
    """``x`` as a float64 array with ``ndim`` axes and the given ``shape``.

    ``None`` entries of ``shape`` match any length.  The array must be non-empty and finite unless told otherwise.

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    x : array_like
        Real number(s).
    ndim : int, optional
        Required number of axes (implied by ``shape`` when that is given).
    shape : tuple of int or None, optional
        Required shape; ``None`` entries match any length.
    finite : bool, optional
        Refuse NaN and inf (default True).
    nonempty : bool, optional
        Refuse an empty array (default True).

    Returns
    -------
    numpy.ndarray
        ``x`` as float64.

    Raises
    ------
    ValueError
        On a wrong number of axes, a wrong shape, an empty or a non-finite array.

    Examples
    --------
    >>> from theorytools.linalg import as_array
    >>> as_array("X", [[1.0, 2.0]], shape=(None, 2)).shape
    (1, 2)
    >>> as_array("X", [[1.0, float("nan")]])
    Traceback (most recent call last):
    ...
    ValueError: X must be finite, entry (0, 1) is nan
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

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    x : float
        A real number (a bool is refused).
    low : float, optional
        Lower bound (none by default).
    high : float, optional
        Upper bound (none by default).
    low_open : bool, optional
        Exclude ``low`` itself (default False).
    high_open : bool, optional
        Exclude ``high`` itself (default False).
    finite : bool, optional
        Refuse inf (default True; NaN is always refused).

    Returns
    -------
    float
        ``x`` as a Python float.

    Raises
    ------
    TypeError
        If ``x`` is not a real number.
    ValueError
        If ``x`` is complex, not a single number, NaN, infinite or out of range.

    Examples
    --------
    >>> from theorytools.linalg import as_float
    >>> as_float("gamma", 0.5, low=0.0, low_open=True)
    0.5
    >>> as_float("gamma", 0.0, low=0.0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: gamma must be > 0, got 0
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

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    x : float
        A real number.

    Returns
    -------
    float
        ``x`` as a Python float.

    Raises
    ------
    ValueError
        If ``x`` is not finite or not ``> 0``.

    Examples
    --------
    >>> from theorytools.linalg import positive
    >>> positive("dt", 1e-3)
    0.001
    >>> positive("dt", 0)
    Traceback (most recent call last):
    ...
    ValueError: dt must be > 0, got 0
    """
    return as_float(name, x, low=0.0, low_open=True)


def nonnegative(name: str, x) -> float:
    """A finite real number ``>= 0`` (a damping, a time).

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    x : float
        A real number.

    Returns
    -------
    float
        ``x`` as a Python float.

    Raises
    ------
    ValueError
        If ``x`` is not finite or is negative.

    Examples
    --------
    >>> from theorytools.linalg import nonnegative
    >>> nonnegative("beta", 0)
    0.0
    """
    return as_float(name, x, low=0.0)


def as_int(name: str, x, *, low: int | None = 0, high: int | None = None) -> int:
    """An integer count (a Python or numpy integer, or an integer-valued float such as ``1e4``) in ``[low, high]``.

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    x : int or float
        An integer, or an integer-valued float below ``2**62`` (a bool is refused).
    low : int or None, optional
        Lower bound (default 0; ``None`` for none).
    high : int or None, optional
        Upper bound (none by default).

    Returns
    -------
    int
        ``x`` as a Python int.

    Raises
    ------
    TypeError
        If ``x`` is not a real number.
    ValueError
        If ``x`` is not integer-valued or is out of range.

    Examples
    --------
    >>> from theorytools.linalg import as_int
    >>> as_int("steps", 1e3, low=1)
    1000
    >>> as_int("steps", 2.5)
    Traceback (most recent call last):
    ...
    ValueError: steps must be an integer, got 2.5
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

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    x : str
        The option given.
    choices : iterable of str
        The allowed options.

    Returns
    -------
    str
        ``x``.

    Raises
    ------
    TypeError
        If ``x`` is not a string.
    ValueError
        If ``x`` is not one of ``choices``.

    Examples
    --------
    >>> from theorytools.linalg import as_choice
    >>> as_choice("method", "exact", ("exact", "eq10"))
    'exact'
    >>> as_choice("method", "eq11", ("exact", "eq10"))
    Traceback (most recent call last):
    ...
    ValueError: method must be one of ('exact', 'eq10'), got 'eq11'
    """
    choices = tuple(choices)
    if not isinstance(x, str):
        raise TypeError(f"{name} must be one of {choices}, got {_show(x)}")
    if x not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {x!r}")
    return x


def as_bool(name: str, x) -> bool:
    """A flag: ``True``/``False`` (Python or numpy bool) only.

    A misplaced positional number is thus not read as a flag.

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    x : bool
        A Python or numpy bool.

    Returns
    -------
    bool
        ``x`` as a Python bool.

    Raises
    ------
    TypeError
        If ``x`` is not a bool.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import as_bool
    >>> as_bool("flag", np.True_)
    True
    >>> as_bool("flag", 1)
    Traceback (most recent call last):
    ...
    TypeError: flag must be True or False, got 1
    """
    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_show(x)}")
    return bool(x)


def as_seed(name: str, seed):
    """A seed for ``numpy.random.default_rng``.

    A non-negative integer, a sequence of them, a ``SeedSequence``, a ``Generator`` or ``None``; a negative or
    non-integer seed is refused here rather than deep inside numpy.

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    seed : int, sequence of int, numpy.random.SeedSequence, numpy.random.Generator or None
        The seed.

    Returns
    -------
    int, list of int, numpy.random.SeedSequence, numpy.random.Generator or None
        The seed, integers as Python ints.

    Raises
    ------
    TypeError
        If ``seed`` is of another type.
    ValueError
        If an integer is negative or not integer-valued.

    Examples
    --------
    >>> from theorytools.linalg import as_seed
    >>> as_seed("seed", 3)
    3
    >>> as_seed("seed", (1, 2.0))
    [1, 2]
    """
    if seed is None or isinstance(seed, (np.random.SeedSequence, np.random.Generator)):
        return seed
    if isinstance(seed, (list, tuple)) and seed:
        return [as_int(f"{name}[{i}]", s) for i, s in enumerate(seed)]
    return as_int(name, seed)


def as_labels(name: str, y, classes: int, n: int | None = None) -> np.ndarray:
    """Class labels ``0..classes-1`` (integers or integer-valued floats) as an int64 vector (of length ``n``).

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    y : array_like, shape (n,)
        The labels.
    classes : int
        Number of classes, ``>= 1``.
    n : int, optional
        Required number of labels (any by default).

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
        The labels.

    Raises
    ------
    ValueError
        If ``y`` is not a vector (of length ``n``) or holds a value that is not a label.

    Examples
    --------
    >>> from theorytools.linalg import as_labels
    >>> as_labels("y", [0, 1, 1.0], 2).tolist()
    [0, 1, 1]
    >>> as_labels("y", [0, 2], 2)
    Traceback (most recent call last):
    ...
    ValueError: y must hold class labels in 0..1, entry 1 is 2
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
    """The common length of the first axes of ``arrays`` (rows of a dataset); a ValueError naming both otherwise.

    Parameters
    ----------
    names : tuple of str
        The arrays' names, for error messages.
    *arrays : array_like
        The arrays (at least one axis each).

    Returns
    -------
    int
        The common number of rows.

    Raises
    ------
    ValueError
        If the numbers of rows differ.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import same_length
    >>> same_length(("X", "y"), np.zeros((3, 2)), np.zeros(3))
    3
    >>> same_length(("X", "y"), np.zeros((3, 2)), np.zeros(4))
    Traceback (most recent call last):
    ...
    ValueError: X and y must have the same number of rows: X has 3, y has 4
    """
    lengths = [np.shape(a)[0] if np.ndim(a) else None for a in arrays]
    if len(set(lengths)) != 1:
        listed = ", ".join(f"{n} has {k}" for n, k in zip(names, lengths))
        raise ValueError(f"{' and '.join(names)} must have the same number of rows: {listed}")
    return lengths[0]


def as_callable(name: str, f):
    """A function argument.

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    f : callable
        The function.

    Returns
    -------
    callable
        ``f``.

    Raises
    ------
    TypeError
        If ``f`` is not callable.

    Examples
    --------
    >>> from theorytools.linalg import as_callable
    >>> as_callable("f", abs)(-2)
    2
    >>> as_callable("f", 3)
    Traceback (most recent call last):
    ...
    TypeError: f must be callable, got 3
    """
    if not callable(f):
        raise TypeError(f"{name} must be callable, got {_show(f)}")
    return f


def as_instance(name: str, x, cls, what: str | None = None):
    """An object of class ``cls`` (e.g. a model or a network).

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    x : object
        The object.
    cls : type or tuple of type
        The accepted class(es).
    what : str, optional
        How the error message describes ``cls`` (default ``"a <class name>"``).

    Returns
    -------
    object
        ``x``.

    Raises
    ------
    TypeError
        If ``x`` is not an instance of ``cls``.

    Examples
    --------
    >>> from theorytools.linalg import as_instance
    >>> as_instance("x", 1.5, float)
    1.5
    >>> as_instance("model", 3, str)
    Traceback (most recent call last):
    ...
    TypeError: model must be a str, got 3
    """
    if not isinstance(x, cls):
        names = " or ".join(c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,)))
        raise TypeError(f"{name} must be {what or 'a ' + names}, got {_show(x)}")
    return x


def as_matrix(name: str, A, n: int | None = None) -> np.ndarray:
    """Return ``A`` as a finite float64 square matrix (of size ``n`` when given).

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    A : array_like, shape (n, n)
        The matrix, at least 1 x 1.
    n : int, optional
        Required size (any by default).

    Returns
    -------
    numpy.ndarray, shape (n, n)
        ``A`` as float64.

    Raises
    ------
    ValueError
        If ``A`` is not square, has the wrong size, is empty or has a non-finite entry.

    Examples
    --------
    >>> from theorytools.linalg import as_matrix
    >>> as_matrix("A", [[1, 2], [3, 4]]).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    >>> as_matrix("A", [[1, 2]])
    Traceback (most recent call last):
    ...
    ValueError: A must be a square matrix, got shape (1, 2)
    """
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
    """Return ``x`` as a finite float64 vector of length ``n``.

    A row or column matrix (shape ``(1, n)`` or ``(n, 1)``) is flattened.

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    x : array_like, shape (n,)
        The vector.
    n : int
        Required length.

    Returns
    -------
    numpy.ndarray, shape (n,)
        ``x`` as float64.

    Raises
    ------
    ValueError
        If ``x`` has the wrong shape or a non-finite entry.

    Examples
    --------
    >>> from theorytools.linalg import as_vector
    >>> as_vector("x", [[1], [2]], 2).tolist()
    [1.0, 2.0]
    """
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

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    A : array_like, shape (n, n)
        The matrix.
    n : int, optional
        Required size (any by default).

    Returns
    -------
    numpy.ndarray, shape (n, n)
        ``(A + A^T) / 2`` (``A`` itself when exactly symmetric).

    Raises
    ------
    ValueError
        If ``A`` is not a finite square matrix or not symmetric to ``SYM_RTOL``.

    Examples
    --------
    >>> from theorytools.linalg import as_symmetric
    >>> as_symmetric("A", [[1.0, 2.0], [2.0, 1.0]]).tolist()
    [[1.0, 2.0], [2.0, 1.0]]
    >>> as_symmetric("A", [[1.0, 2.0], [1.0, 1.0]])
    Traceback (most recent call last):
    ...
    ValueError: A is not symmetric: max |A - A^T| = 1.000e+00 at entry (0, 1), 5.0e-01 times the entry's scale 2.000e+00 (allowed: 1e-10)
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

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    A : numpy.ndarray, shape (n, n)
        Symmetric matrix.
    semi : bool, optional
        Check semidefiniteness instead of definiteness (default False).

    Raises
    ------
    ValueError
        If ``A`` is not positive (semi)definite.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import check_definite
    >>> check_definite("H", np.ones((2, 2)), semi=True)      # rank 1: semidefinite, passes silently
    >>> check_definite("H", np.diag([1.0, -1.0]))
    Traceback (most recent call last):
    ...
    ValueError: H is not positive definite: smallest eigenvalue -1.000e+00
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
    """Raise :class:`~theorytools.errors.NonFiniteError` if ``value`` has a NaN or infinite entry; else return it.

    Parameters
    ----------
    where : str
        What ``value`` is, for the error message.
    value : float or array_like
        A result to check.

    Returns
    -------
    float or array_like
        ``value``, unchanged.

    Raises
    ------
    theorytools.errors.NonFiniteError
        If ``value`` has a NaN or infinite entry.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import check_finite
    >>> check_finite("loss", 0.5)
    0.5
    >>> check_finite("loss", np.array([1.0, np.inf]))
    Traceback (most recent call last):
    ...
    theorytools.errors.NonFiniteError: loss: 1 non-finite value(s) (NaN or inf) in the result
    """
    arr = real_array(where, value) if not isinstance(value, np.ndarray) or value.dtype.kind not in "fc" else value
    if not np.all(np.isfinite(arr)):
        nbad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(f"{where}: {nbad} non-finite value(s) (NaN or inf) in the result")
    return value


def as_steps(k, name: str = "k") -> np.ndarray:
    """Validate iteration counts: non-negative integers (int or integer-valued array).

    Parameters
    ----------
    k : int or array_like
        Iteration count(s), below ``2**62``.
    name : str, optional
        The argument's name, for error messages (default ``"k"``).

    Returns
    -------
    numpy.ndarray of int64
        ``k``, of the same shape (0-d for a scalar).

    Raises
    ------
    ValueError
        If a count is negative, not integer-valued, not finite or too large.

    Examples
    --------
    >>> from theorytools.linalg import as_steps
    >>> as_steps([0, 1e3]).tolist()
    [0, 1000]
    >>> as_steps(-1)
    Traceback (most recent call last):
    ...
    ValueError: k must be non-negative, got -1
    """
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
    """Drop the leading k axis of ``arr`` when the caller passed a scalar ``k``.

    Parameters
    ----------
    k_in : int or array_like
        The iteration count(s) as the caller passed them.
    arr : numpy.ndarray
        A result with a leading axis over the counts.

    Returns
    -------
    numpy.ndarray
        ``arr[0]`` for a scalar ``k_in``, else ``arr``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import squeeze_k
    >>> squeeze_k(5, np.zeros((1, 3))).shape, squeeze_k([5], np.zeros((1, 3))).shape
    ((3,), (1, 3))
    """
    return arr[0] if np.ndim(k_in) == 0 else arr


def check_semidefinite(name: str, A, slack: float = 1e-12) -> np.ndarray:
    """Check that a symmetric matrix is positive semidefinite, deciding in units-free coordinates.

    The decision is made in Jacobi-equilibrated coordinates: the same verdict for ``A`` and ``S A S`` with any
    positive diagonal ``S`` (a change of units).

    A negative diagonal entry, or a zero one whose row is not zero (``|A_ij|^2 <= A_ii A_jj`` fails), is reported as
    such.  The rest is decided on ``C = D A D``, ``D = diag(A)^-1/2`` on the positive diagonal: ``C`` has a unit
    diagonal, so the slack ``n * slack * lambda_max(C)`` (``lambda_max(C)`` between 1 and n) accepts a
    rank-deficient matrix built in floating point whatever its units, and an indefinite ``A`` stays indefinite
    (Sylvester's law of inertia).  A slack relative to ``lambda_max(A)`` itself would depend on the units: with
    ``diag(1e16, -1e-8)`` the negative entry hides under ``1e-12 * 1e16``.  Returns ``A`` validated and exactly
    symmetrized (:func:`as_symmetric`).

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    A : array_like, shape (n, n)
        Symmetric matrix.
    slack : float, optional
        Relative tolerance on the equilibrated eigenvalues, ``>= 0`` (default 1e-12).

    Returns
    -------
    numpy.ndarray, shape (n, n)
        ``A``, validated and exactly symmetrized.

    Raises
    ------
    ValueError
        If ``A`` is not symmetric or not positive semidefinite.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.linalg import check_semidefinite
    >>> check_semidefinite("F", np.array([[4.0, 2.0], [2.0, 1.0]])).tolist()     # rank 1
    [[4.0, 2.0], [2.0, 1.0]]
    >>> check_semidefinite("F", np.array([[1e16, 2e4], [2e4, 1e-8]]))             # D F D = [[1, 2], [2, 1]]
    Traceback (most recent call last):
    ...
    ValueError: F is not positive semidefinite: smallest eigenvalue -1.000e+00 of its equilibrated form diag(F)^-1/2 F diag(F)^-1/2
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
    """A string argument (a name, a label, a message).

    ``None``, a number or another object is a TypeError, an empty or blank string a ValueError.

    Parameters
    ----------
    name : str
        The argument's name, for error messages.
    x : str
        The string.
    nonempty : bool, optional
        Refuse an empty or blank string (default True).

    Returns
    -------
    str
        ``x``.

    Raises
    ------
    TypeError
        If ``x`` is not a string.
    ValueError
        If ``x`` is empty or blank and ``nonempty`` is true.

    Examples
    --------
    >>> from theorytools.linalg import as_text
    >>> as_text("family", "tango")
    'tango'
    >>> as_text("family", " ")
    Traceback (most recent call last):
    ...
    ValueError: family must be a non-empty string, got ' '
    """
    if not isinstance(x, str):
        raise TypeError(f"{name} must be a string, got {_show(x)}")
    if nonempty and not x.strip():
        raise ValueError(f"{name} must be a non-empty string, got {x!r}")
    return x
