"""Exceptions shared by every topic."""


class HypothesisError(ValueError):
    """A theorem was evaluated outside its hypotheses.

    Raised by the theorem functions (e.g. ``theorem5_bounds``) when one of the
    stated assumptions does not hold; the message names the hypothesis, its
    value and its margin.  Callers who want the number anyway pass ``check=False``.
    """


class NonFiniteError(ValueError):
    """An intermediate result became NaN or infinite; the message says where."""
