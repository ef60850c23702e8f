"""Martens §14 (001_7d31b3ff3a2f0401.txt): exact theory of ``theta_{k+1} = theta_k - alpha_k B^{-1} g_k``
on the quadratic ``h(theta) = 1/2 (theta - theta*)^T H (theta - theta*)``.

Quick start::

    from theorytools.quadratic import QuadraticProblem, Constant, Harmonic, excess_risk, theorem5_bounds
    p = QuadraticProblem(H, B, Sigma_g, theta0)
    exact = excess_risk(p, Constant(0.5 / p.lambda_1), ks)
    lower, upper = theorem5_bounds(p, Constant(0.5 / p.lambda_1), ks)

Appendix D lives in ``theorytools.quadratic.lemmas`` and the §14.1–14.3.2 consequences (Amari,
Bordes et al., Polyak–Juditsky, Flammarion–Bach, Défossez–Bach, the B = H / B = lambda_n I
specializations) in ``theorytools.quadratic.consequences``; Monte Carlo in
``theorytools.quadratic.simulation``.
"""

from theorytools.errors import HypothesisError
from theorytools.quadratic import consequences, lemmas
from theorytools.quadratic.ema import ema_excess_risk, ema_stationary_excess_risk
from theorytools.quadratic.hypotheses import Hypothesis, hypotheses, require
from theorytools.quadratic.instances import linear_spectrum_problem, make_problem, random_problem
from theorytools.quadratic.moments import (
    V_infinity,
    harmonic_leading_variance,
    lemma13_error,
    lemma13_error_recursion,
    lemma13_Z,
    mean_iterate,
    second_moment,
    variance,
    variance_lemma9,
    variance_recursion,
)
from theorytools.quadratic.operators import Operator, operators
from theorytools.quadratic.problem import QuadraticProblem
from theorytools.quadratic.risk import averaged_excess_risk, excess_risk, excess_risk_decomposition
from theorytools.quadratic.noise import (
    GaussianNoise,
    LeastSquaresData,
    RademacherMixture,
    StudentTNoise,
)
from theorytools.quadratic.schedules import Constant, Harmonic, StepSequence, as_schedule
from theorytools.quadratic.simulation import SimulationResult, default_ks, simulate
from theorytools.quadratic.theorem5 import constant_noise_floor, harmonic_traces, nu, theorem5_bounds
from theorytools.quadratic.theorem6 import theorem6_bound, theorem6_terms
from theorytools.quadratic.traces import eq29_trace, eq45_trace, proposition10_trace, proposition14_trace

__all__ = [
    "HypothesisError", "Hypothesis", "hypotheses", "require",
    "random_problem", "make_problem", "linear_spectrum_problem",
    "QuadraticProblem", "Constant", "Harmonic", "StepSequence", "as_schedule",
    "Operator", "operators",
    "mean_iterate", "variance", "second_moment", "V_infinity", "variance_lemma9", "variance_recursion",
    "harmonic_leading_variance", "lemma13_Z", "lemma13_error", "lemma13_error_recursion",
    "excess_risk", "excess_risk_decomposition", "averaged_excess_risk",
    "ema_excess_risk", "ema_stationary_excess_risk", "lemmas", "consequences",
    "theorem5_bounds", "constant_noise_floor", "harmonic_traces", "nu",
    "theorem6_bound", "theorem6_terms",
    "simulate", "SimulationResult", "default_ks",
    "GaussianNoise", "StudentTNoise", "RademacherMixture", "LeastSquaresData",
    "proposition10_trace", "proposition14_trace", "eq29_trace", "eq45_trace",
]
