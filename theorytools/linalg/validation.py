"""Validation of user input: every error names the argument, the property and the value."""

from __future__ import annotations

import numpy as np

from theorytools.errors import NonFiniteError

#: Relative tolerance for symmetry: ``|A - A^T|_max <= SYM_RTOL * |A|_max``.
#: Matrices assembled in floating point (e.g. ``X @ X.T``) are symmetric to a few ulps.
SYM_RTOL = 1e-10


def real_array(name: str, x) -> np.ndarray:
    """``x`` as a float64 array; a complex array is a ValueError (numpy would drop its imaginary part with only a
    warning)."""
    a = np.asarray(x)
    if a.dtype == np.float64:  # the common case, on hot paths: no copy, no scan
        return a
    if np.iscomplexobj(a) or (a.dtype == object and any(isinstance(v, complex) for v in a.flat)):
        raise ValueError(f"{name} must be real, got a complex array (dtype {a.dtype})")
    try:
        return np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers, got dtype {a.dtype}") from exc


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
    """Validate symmetry to ``SYM_RTOL`` and return the exactly symmetrized matrix."""
    A = as_matrix(name, A, n)
    asym = np.max(np.abs(A - A.T))
    scale = max(float(np.max(np.abs(A))), np.finfo(float).tiny)
    if asym > SYM_RTOL * scale:
        raise ValueError(
            f"{name} is not symmetric: max |{name} - {name}^T| = {asym:.3e} "
            f"exceeds {SYM_RTOL:g} * {scale:.3e}"
        )
    return 0.5 * (A + A.T)


def check_definite(name: str, A: np.ndarray, semi: bool = False) -> None:
    """Check positive (semi)definiteness of a symmetric matrix, naming its smallest eigenvalue on failure.

    For semidefiniteness a relative slack of ``n * 1e-12 * |A|_2`` is allowed, so that a
    rank-deficient covariance built in floating point is accepted.  A Cholesky factorization
    (of ``A``, or of ``A + n 1e-12 max|diag A| I`` for the semidefinite test, a slack no larger
    than the allowed one) settles the common case at a fraction of an eigensolve's cost.
    """
    n = A.shape[0]
    shift = n * 1e-12 * float(np.max(np.abs(np.diag(A)))) if semi else 0.0
    try:
        np.linalg.cholesky(A + shift * np.eye(n))
        return
    except np.linalg.LinAlgError:
        pass
    eig = np.linalg.eigvalsh(A)
    lo, hi = float(eig[0]), float(eig[-1])
    if semi:
        slack = n * 1e-12 * max(abs(hi), abs(lo), np.finfo(float).tiny)
        if lo < -slack:
            raise ValueError(f"{name} is not positive semidefinite: smallest eigenvalue {lo:.3e}")
    elif lo <= 0.0:
        raise ValueError(f"{name} is not positive definite: smallest eigenvalue {lo:.3e}")


def check_finite(where: str, value):
    """Raise :class:`NonFiniteError` if ``value`` has a NaN or infinite entry; else return it."""
    arr = np.asarray(value)
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
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative, got {np.min(arr)}")
    return arr.astype(np.int64)


def squeeze_k(k_in, arr):
    """Drop the leading k axis of ``arr`` when the caller passed a scalar ``k``."""
    return arr[0] if np.ndim(k_in) == 0 else arr
