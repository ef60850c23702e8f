"""Exceptions shared by every topic."""


class HypothesisError(ValueError):
    """A theorem was evaluated outside its hypotheses.

    Raised by the theorem functions (e.g. ``theorem5_bounds``) when one of the
    stated assumptions does not hold; the message names the hypothesis, its
    value and its margin.  Callers who want the number anyway pass ``check=False``.

    Examples
    --------
    Theorem 5 (001_7d31b3ff3a2f0401.txt §14.2) needs ``alpha lambda_1(B^-1 H) <= 1``; here it is 1.5:

    >>> from theorytools import HypothesisError
    >>> from theorytools.quadratic import QuadraticProblem, theorem5_bounds
    >>> p = QuadraticProblem([[2.0]], [[1.0]], [[1.0]], [1.0])
    >>> try:
    ...     theorem5_bounds(p, 0.75, 1)
    ... except HypothesisError as exc:
    ...     print(isinstance(exc, ValueError), "value 1.5, bound 1, margin -0.5" in str(exc))
    True True
    """


class NonFiniteError(ValueError):
    """An intermediate result became NaN or infinite; the message says where.

    Examples
    --------
    A step size with ``|1 - alpha lambda| = 5 > 1`` makes the mean iterate overflow after 1000 steps:

    >>> from theorytools import NonFiniteError
    >>> from theorytools.quadratic import QuadraticProblem, mean_iterate
    >>> p = QuadraticProblem([[2.0]], [[1.0]], [[1.0]], [1.0])
    >>> try:
    ...     mean_iterate(p, 3.0, 1000)
    ... except NonFiniteError as exc:
    ...     print(isinstance(exc, ValueError), str(exc).split(":")[0])
    True mean_iterate
    """


class SizeError(ValueError):
    """An allocation was refused before it was attempted.

    The message names the array, its size in bytes, the memory limit
    (:func:`theorytools.linalg.memory_limit`) and a cheaper route.

    Examples
    --------
    Twelve ``10^6 x 10^6`` float64 matrices (87.3 TiB) are refused before any is allocated:

    >>> from theorytools import SizeError
    >>> from theorytools.quadratic import random_problem
    >>> try:
    ...     random_problem(10**6, 10.0)
    ... except SizeError as exc:
    ...     print(isinstance(exc, ValueError), "needs 87.3 TB" in str(exc))
    True True
    """


class DivergenceWarning(UserWarning):
    """A training loss or an iterate grew by orders of magnitude: the run is probably diverging.

    The message names the step and the quantity.

    Examples
    --------
    SGD on ``l = (y - theta x)^2 / 2`` with ``x = y = 1`` and rate 101 multiplies its step by
    ``|1 - 101| = 100`` each iteration; the warning fires at the step where it passes 1e10 times the first:

    >>> import warnings
    >>> import numpy as np
    >>> from theorytools import DivergenceWarning
    >>> from theorytools.tango import LinearRegressionModel, sgd_iterates
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = sgd_iterates(LinearRegressionModel(), [0.0], 101.0, np.ones((8, 1)), np.ones(8))
    >>> print(caught[0].category.__name__, "step k = 7" in str(caught[0].message))
    DivergenceWarning True
    """
