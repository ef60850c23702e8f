"""theorytools: closed forms and simulators for the theory of natural-gradient and
stochastic second-order optimization, each traceable to an equation in
``../shared/seeds`` (see ``../shared/seeds/README.md``).

Topics live in sub-packages (``theorytools.quadratic`` for Martens §14); the shared
numerics are in ``theorytools.linalg`` and ``theorytools.montecarlo``.
"""

from theorytools.errors import DivergenceWarning, HypothesisError, NonFiniteError, SizeError

__all__ = ["HypothesisError", "NonFiniteError", "SizeError", "DivergenceWarning"]
__version__ = "0.1.0"
