"""Mutant lists of :mod:`verification.mutation`, one module per topic (``MUTANTS``)."""
