"""Exceptions shared by every topic."""


class HypothesisError(ValueError):
    """A theorem was evaluated outside its hypotheses.

    Raised by the theorem functions (e.g. ``theorem5_bounds``) when one of the
    stated assumptions does not hold; the message names the hypothesis, its
    value and its margin.  Callers who want the number anyway pass ``check=False``.
    """


class NonFiniteError(ValueError):
    """An intermediate result became NaN or infinite; the message says where."""


class SizeError(ValueError):
    """An allocation was refused before it was attempted: the message names the array, its size in bytes, the
    memory limit (:func:`theorytools.linalg.memory_limit`) and a cheaper route."""


class DivergenceWarning(UserWarning):
    """A training loss or an iterate grew by orders of magnitude: the run is probably diverging (the message names
    the step and the quantity)."""
