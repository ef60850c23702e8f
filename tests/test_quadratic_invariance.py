"""Martens' iteration ``theta_{k+1} = theta_k - alpha_k B^{-1} g_k`` is affine-invariant when B transforms like H
(001_7d31b3ff3a2f0401.txt §14, and §12 / Theorem 1 for the natural gradient): under ``theta -> S theta`` with S
diagonal (a change of units), ``H -> S^-1 H S^-1``, ``B -> S^-1 B S^-1``, ``Sigma_g -> S^-1 Sigma_g S^-1`` and
``theta0, theta* -> S theta0, S theta*``, the iterates map to ``S theta_k`` and ``h`` is unchanged.  So the exact risk,
the mean and variance mapped back, Theorem 5's and 6's bounds and a seeded simulation must agree to rounding, for
factors from 1e-8 to 1e8 -- and every decision (definiteness, singular operators, "B = H") must come out the same.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorytools.quadratic import (
    Constant,
    Harmonic,
    QuadraticProblem,
    V_infinity,
    averaged_excess_risk,
    ema_excess_risk,
    excess_risk,
    harmonic_leading_variance,
    mean_iterate,
    random_problem,
    simulate,
    theorem5_bounds,
    theorem6_bound,
    variance,
)
from theorytools.quadratic import consequences as C

KS = np.array([0, 1, 7, 100, 10**4, 10**9])
#: rounding of the generalized eigensolve at condition <= 1e3 (eps * kappa * n), with room
RTOL = 1e-9


def rescaled(p, s):
    """The same problem in the units ``theta' = s * theta``."""
    Si = 1.0 / s
    return QuadraticProblem(Si[:, None] * p.H * Si, Si[:, None] * p.B * Si, Si[:, None] * p.Sigma_g * Si,
                            s * p.theta0, s * p.theta_star)


def _close(a, b, rtol=RTOL, scale=None):
    scale = np.maximum(np.abs(b), 1e-300) if scale is None else scale
    assert np.all(np.abs(np.asarray(a) - np.asarray(b)) <= rtol * scale), (a, b)


problems = st.builds(
    lambda n, logk, B, S, seed: random_problem(n, 10.0**logk, B_kind=B, Sigma_kind=S, seed=seed,
                                               theta0=None),
    n=st.integers(1, 5), logk=st.floats(0.0, 3.0), B=st.sampled_from(["random", "H", "I", "lambda_n"]),
    S=st.sampled_from(["random", "lowrank", "H", "identity"]), seed=st.integers(0, 10**6))
units = st.lists(st.floats(-8.0, 8.0), min_size=5, max_size=5).map(lambda e: 10.0 ** np.array(e))


@given(p=problems, s=units)
@settings(max_examples=25, deadline=None)
def test_exact_risk_moments_and_bounds_do_not_depend_on_units(p, s):
    s = s[: p.n]
    q = rescaled(p, s)  # accepted: a rank-deficient Sigma_g stays PSD in any units
    _close(q.lam, p.lam)
    al = 0.5 / p.lambda_1
    _close(excess_risk(q, al, KS), excess_risk(p, al, KS))
    _close(averaged_excess_risk(q, al, KS), averaged_excess_risk(p, al, KS))
    _close(ema_excess_risk(q, al, KS, 0.9), ema_excess_risk(p, al, KS, 0.9))
    for a, b in zip(theorem5_bounds(q, Constant(al), KS), theorem5_bounds(p, Constant(al), KS)):
        _close(a, b, scale=np.abs(theorem5_bounds(p, Constant(al), KS)[1]))
    _close(theorem6_bound(q, al, KS), theorem6_bound(p, al, KS))
    # mean and variance mapped back: theta_k -> theta_k / s, V_k -> V_k / (s s^T)
    ks = KS[:4]
    m_p, m_q = mean_iterate(p, al, ks), mean_iterate(q, al, ks) / s
    _close(m_q, m_p, scale=np.abs(p.theta0 - p.theta_star) + np.abs(p.theta_star) + 1e-300)
    V_p, V_q = variance(p, al, ks), variance(q, al, ks) / np.outer(s, s)
    d = np.sqrt(np.abs(np.diagonal(V_p, axis1=1, axis2=2)))
    _close(V_q, V_p, scale=d[:, :, None] * d[:, None, :] + 1e-300)
    d = np.sqrt(np.diag(V_infinity(p, al)))
    _close(V_infinity(q, al) / np.outer(s, s), V_infinity(p, al), scale=np.outer(d, d) + 1e-300)


@given(p=problems, s=units)
@settings(max_examples=15, deadline=None)
def test_harmonic_risk_and_bounds_do_not_depend_on_units(p, s):
    p = C.with_preconditioner(p, "H")  # lambda(B^-1 H) = 1: inside Theorem 5's harmonic hypotheses for a >= 1
    q = rescaled(p, s[: p.n])
    sched = Harmonic(1.0)
    _close(excess_risk(q, sched, KS), excess_risk(p, sched, KS))
    for a, b in zip(theorem5_bounds(q, sched, KS), theorem5_bounds(p, sched, KS)):
        _close(a, b, scale=np.abs(theorem5_bounds(p, sched, KS)[1]))
    # the B = H specializations recognize B = H in any units
    _close(C.harmonic_BH_bound(q, 1.0, KS), C.harmonic_BH_bound(p, 1.0, KS))
    hl = harmonic_leading_variance(p)
    d = np.sqrt(np.diag(hl))
    _close(harmonic_leading_variance(q) / np.outer(s[: p.n], s[: p.n]), hl, scale=np.outer(d, d) + 1e-300)


@given(p=problems, s=units)
@settings(max_examples=15, deadline=None)
def test_definiteness_decisions_do_not_depend_on_units(p, s):
    """An indefinite Sigma_g is refused in every units (its negative eigenvalue can be 1e-16 of the largest after
    rescaling), and a PSD one accepted; a singular operator is singular in every units, a tiny step is not."""
    s = s[: p.n]
    n = p.n
    v = p.eig.V[:, 0] / np.linalg.norm(p.eig.V[:, 0])
    bad = p.Sigma_g - (np.trace(p.Sigma_g) + 1.0) * np.outer(v, v)  # negative along v
    for S in (np.ones(n), s):
        with pytest.raises(ValueError, match="Sigma_g is not positive semidefinite"):
            QuadraticProblem(p.H / np.outer(S, S), p.B / np.outer(S, S), bad / np.outer(S, S), p.theta0 * S)
    q = rescaled(p, s)
    tiny = 1e-18 / p.lambda_1  # alpha lambda = 1e-18: the Lyapunov operator is tiny, not singular
    d = np.sqrt(np.diag(V_infinity(p, tiny)))
    _close(V_infinity(q, tiny) / np.outer(s, s), V_infinity(p, tiny), scale=np.outer(d, d) + 1e-300)
    at_two = 2.0 / p.lambda_1  # alpha lambda_1 = 2: singular (to rounding) in every units
    for r in (p, q):
        with pytest.raises(ValueError, match="is singular"):
            V_infinity(r, at_two)


@given(seed=st.integers(0, 10**6), s=units, logk=st.floats(0.0, 3.0))
@settings(max_examples=8, deadline=None)
def test_seeded_simulation_does_not_depend_on_units(seed, s, logk):
    """Common random numbers: the simulator works in eigen-coordinates, which a change of units leaves alone (the
    eigenvectors' signs are fixed scale-invariantly), so the same seed gives the same runs to rounding."""
    p = random_problem(3, 10.0**logk, B_kind="random", Sigma_kind="H", seed=seed)  # Sigma_g = H: diagonal noise
    q = rescaled(p, s[:3])
    al = 0.5 / p.lambda_1
    a = simulate(p, al, [0, 5, 40], runs=64, seed=seed, workers=1, progress=False)
    b = simulate(q, al, [0, 5, 40], runs=64, seed=seed, workers=1, progress=False)
    _close(b.mean, a.mean, rtol=1e-8)
    _close(b.stderr, a.stderr, rtol=1e-6, scale=np.abs(a.stderr) + 1e-8 * np.abs(a.mean))
