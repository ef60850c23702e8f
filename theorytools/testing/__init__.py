"""Testing helpers for researchers who property-test their own theorems with theorytools.

:mod:`theorytools.testing.strategies` holds `hypothesis <https://hypothesis.readthedocs.io>`_
strategies for the objects the toolkit's lemmas quantify over: SPD matrices of a prescribed
condition number and spectrum shape, PSD matrices of a prescribed rank, validated
:class:`~theorytools.quadratic.QuadraticProblem` instances, step-size schedules inside or outside
the hypotheses of Theorems 3, 5 and 6 (001_7d31b3ff3a2f0401.txt §14.2–14.3), and iteration
counts up to 1e12::

    from hypothesis import given
    from theorytools.testing.strategies import quadratic_problems, problem_and_schedule

    @given(problem_and_schedule(quadratic_problems(), inside=True))
    def test_my_bound(case):
        p, schedule = case
        ...

``hypothesis`` is a test-time dependency (the ``dev`` extra), not a runtime one: importing this
package without it fails with an ``ImportError`` that says so.
"""

try:
    from theorytools.testing import strategies
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
    if exc.name != "hypothesis":
        raise
    raise ImportError(
        "theorytools.testing needs the 'hypothesis' package (pip install hypothesis, or the "
        "theorytools[dev] extra)"
    ) from exc

__all__ = ["strategies"]
