"""Size guards: an allocation that grows faster than the input (a P x P Fisher, an explicit Kronecker block, a
per-example Jacobian, trajectories kept in memory) is estimated in bytes and refused *before* it is attempted when
it exceeds the memory limit, with a :class:`~theorytools.errors.SizeError` that names the array, its size and a
cheaper route.

The limit is the memory the operating system reports as available (``MemAvailable``), or a smaller one set by the
user with :func:`set_memory_limit` or the environment variable ``THEORYTOOLS_MEMORY_LIMIT`` (bytes, or a number with a
suffix K, M, G, T: ``THEORYTOOLS_MEMORY_LIMIT=4G``).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from fractions import Fraction

import numpy as np

from theorytools.errors import SizeError
from theorytools.linalg.validation import as_float, as_int

ENV = "THEORYTOOLS_MEMORY_LIMIT"
_SUFFIX = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_user_limit: list = [None]
#: Allocations up to this size are not compared with the available memory (any machine that runs Python has it).
ALWAYS_AVAILABLE = 16 * 2**20


def _parse(text: str, name: str = ENV) -> int:
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1] if t and t[-1] in _SUFFIX else ""
    try:
        value = float(t[: len(t) - len(unit)]) * _SUFFIX[unit]
    except ValueError:
        raise ValueError(f"{name} must be a number of bytes such as 4G or 500M, got {text!r}") from None
    if not (value > 0 and value < float("inf")):
        raise ValueError(f"{name} must be a positive finite number of bytes, got {text!r}")
    return int(value)


def available_bytes() -> int:
    """Memory the operating system can give without swapping (``MemAvailable`` of /proc/meminfo; elsewhere the
    physical memory, or 2**63 when that is unknown)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2**63


def memory_limit() -> int:
    """The largest single allocation the toolkit attempts, in bytes.

    It is the smaller of the available memory and the user's limit (:func:`set_memory_limit`, or
    ``THEORYTOOLS_MEMORY_LIMIT``).

    Returns
    -------
    int
        The limit in bytes.

    Examples
    --------
    >>> from theorytools.linalg import limit_memory, memory_limit
    >>> with limit_memory(10**6):
    ...     memory_limit()
    1000000
    """
    user = _user_or_env_limit()
    available = available_bytes()
    return available if user is None else min(user, available)


def _user_or_env_limit() -> int | None:
    if _user_limit[0] is not None:
        return _user_limit[0]
    return _parse(os.environ[ENV]) if os.environ.get(ENV) else None


def set_memory_limit(nbytes: int | str | None) -> None:
    """Set the memory limit for this process.

    The limit is an int of bytes or a string such as ``"4G"``; ``None`` goes back to the available memory (and
    ``THEORYTOOLS_MEMORY_LIMIT``).

    Parameters
    ----------
    nbytes : int, str or None
        The limit: bytes, a number with a suffix K, M, G or T (powers of 1024), or ``None``.

    Raises
    ------
    ValueError
        If ``nbytes`` is not a positive finite number of bytes.

    Examples
    --------
    >>> from theorytools.linalg import memory_limit, set_memory_limit
    >>> set_memory_limit("4K")
    >>> memory_limit()
    4096
    >>> set_memory_limit(None)              # back to the available memory
    """
    if nbytes is None:
        _user_limit[0] = None
        return
    if isinstance(nbytes, str):
        _user_limit[0] = _parse(nbytes, "nbytes")
        return
    _user_limit[0] = max(1, int(as_float("nbytes", nbytes, low=0.0, low_open=True)))


@contextmanager
def limit_memory(nbytes):
    """A temporary :func:`set_memory_limit` (for tests, or one large run).

    A context manager: the previous limit is restored on exit, also after an error.

    Parameters
    ----------
    nbytes : int, str or None
        The limit inside the ``with`` block, as for :func:`set_memory_limit`.

    Yields
    ------
    None
        Nothing; the limit holds until the block exits.

    Examples
    --------
    >>> from theorytools.linalg import limit_memory, memory_limit
    >>> with limit_memory("1M"):
    ...     memory_limit()
    1048576
    """
    old = _user_limit[0]
    set_memory_limit(nbytes)
    try:
        yield
    finally:
        _user_limit[0] = old


def human_bytes(n: float) -> str:
    """``3.2 GB``-style text (powers of 1024 with the usual short names).

    Examples
    --------
    >>> human_bytes(65 * 2**30)
    '65.0 GB'
    """
    if n >= 2**1000:  # beyond the float range of the divisions below
        return f"about 2^{int(n).bit_length() - 1} B"
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def check_allocation(what: str, shape, *, itemsize: int = 8, copies: float = 1.0, cheaper: str = "") -> int:
    """Refuse, with :class:`~theorytools.errors.SizeError`, an array above :func:`memory_limit`.

    The array has ``shape`` (float64 unless ``itemsize`` says otherwise; ``copies`` counts the temporaries of the
    same size that the computation holds at once).  Returns the estimated bytes.

    Parameters
    ----------
    what : str
        What the array is, for the error message.
    shape : sequence of int
        The shape of the array.
    itemsize : int, optional
        Bytes per entry (default 8, float64).
    copies : float, optional
        Number of arrays of this size held at once (default 1).
    cheaper : str, optional
        A cheaper route, appended to the error message.

    Returns
    -------
    int
        The estimated bytes, ``prod(shape) * itemsize * copies``.

    Raises
    ------
    theorytools.errors.SizeError
        If the estimate exceeds :func:`memory_limit`.
    TypeError
        If ``shape`` is not a sequence of lengths.

    Examples
    --------
    >>> from theorytools.linalg import check_allocation, limit_memory
    >>> check_allocation("the Fisher", (10, 10))
    800
    >>> with limit_memory(10**6):
    ...     check_allocation("the P x P Fisher", (90601, 90601), cheaper="use method='exact_woodbury'")
    Traceback (most recent call last):
    ...
    theorytools.errors.SizeError: the P x P Fisher (90601 x 90601 float64) needs 61.2 GB, above the memory limit of 976.6 KB: use method='exact_woodbury'
    """
    if not isinstance(shape, (tuple, list, np.ndarray)) or np.asarray(shape, dtype=object).ndim != 1:
        shown = f"an array of shape {shape.shape}" if isinstance(shape, np.ndarray) else repr(shape)
        raise TypeError(f"shape must be a sequence of array lengths, got {shown}")
    shape = [as_int(f"shape[{i}]", s) for i, s in enumerate(shape)]
    itemsize = as_int("itemsize", itemsize, low=1)
    copies = as_float("copies", copies, low=0.0, low_open=True)
    count = 1
    for s in shape:
        count *= s  # Python ints: no overflow however large the request
    nbytes = int(count * itemsize * Fraction(copies))  # exact: count may exceed the float range
    user = _user_or_env_limit()
    if nbytes <= ALWAYS_AVAILABLE and (user is None or nbytes <= user):
        return nbytes  # the common small case, on hot paths: no read of /proc/meminfo (~100 us)
    limit = memory_limit()
    if nbytes > limit:
        dims = " x ".join(str(int(s)) for s in shape)
        hint = f": {cheaper}" if cheaper else ""
        raise SizeError(f"{what} ({dims} {'float64' if itemsize == 8 else f'{itemsize}-byte'}) needs "
                        f"{human_bytes(nbytes)}, above the memory limit of {human_bytes(limit)}{hint}")
    return nbytes
