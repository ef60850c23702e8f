"""Catalogue entries of ``theorytools.quadratic`` (see :mod:`catalogue`): every public callable with a small valid call.

The problems are 2 x 2 (``lambda(B^-1 H)`` in (0.79, 2.21) for ``B = I``), so that every malformed call is cheap.
"""

from __future__ import annotations

import numpy as np

from catalogue import Entry, Exempt
from catalogue.kinds import (CHOICE, COUNT, COUNT0, EXTRA_AXIS, FLAG, FLAT, HUGE_COUNT, MATRIX, NEGATIVE, NONNEG,
                             OBJECT, POSITIVE, POSITIVE_ENTRIES, PSD, REAL, SCHEDULE, SEED, SIZE, SPD, STEPS, UNIT,
                             VECTOR_1D, ARRAY, CALLABLE, _asymmetric)

from theorytools import quadratic as Q
from theorytools.quadratic import consequences as C
from theorytools.quadratic import lemmas as L

QM = "theorytools.quadratic."
QC = QM + "consequences."
QL = QM + "lemmas."

H2 = np.array([[2.0, 0.5], [0.5, 1.0]])
I2 = np.eye(2)
S2 = np.array([[1.0, 0.2], [0.2, 0.5]])
T2 = np.array([1.0, -1.0])

#: a symmetric matrix of no particular sign
SYM = MATRIX + (("asymmetric", _asymmetric),)
#: a negative semidefinite matrix: a positive definite one is its malformation
NSD = MATRIX + (("asymmetric", _asymmetric), ("positive_definite", lambda v, d: -np.asarray(v, dtype=float)))
#: a real number that must exceed -1 (the harmonic offset a)
OFFSET = REAL + (NEGATIVE,)
#: a count whose O(k) loop or exact arithmetic would never finish at 10**12
COUNT0_BOUNDED = COUNT0 + (HUGE_COUNT,)
#: a count inside a list of hypotheses (its sign is a hypothesis, reported in the list, not an error)
HYP_COUNT = COUNT0.without("negative")
#: a data matrix of free shape (N x n, N >= n): an extra column is another valid data set
DATA_MATRIX = ARRAY + (EXTRA_AXIS, FLAT)

_NONE_IS_DEFAULT = "None is the documented default"


def _p():
    return Q.QuadraticProblem(H2, I2, S2, T2)


def _pH():
    return Q.QuadraticProblem(H2, H2, S2, T2)


def _p_lambda_n():
    return C.with_preconditioner(_p(), "lambda_n")


def _on(make, f, **kwargs):
    """A valid call of ``f`` with the problem ``make()`` as ``p``."""
    return lambda: (f, dict(p=make(), **kwargs))


def _sim():
    return Q.simulate(_p(), 0.2, [1, 3], runs=8, seed=0, progress=False, workers=1)


def _data():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    return Q.LeastSquaresData(X, np.array([1.0, 2.0, 2.5]))


P_K = {"p": OBJECT, "k": STEPS}
P_SCHED_K = {"p": OBJECT, "schedule": SCHEDULE, "k": STEPS}
P_ALPHA_K = {"p": OBJECT, "alpha": POSITIVE, "k": STEPS}

ENTRIES = [
    # -- the problem, schedules, hypotheses, instances ------------------------------------------------------------
    Entry(QM + "problem.QuadraticProblem",
          lambda: (Q.QuadraticProblem, dict(H=H2, B=I2, Sigma_g=S2, theta0=T2, theta_star=np.zeros(2))),
          {"H": SPD, "B": SPD, "Sigma_g": PSD, "theta0": VECTOR_1D, "theta_star": VECTOR_1D},
          accepts={"theta_star": ("none",)}, why="theta_star=None means theta* = 0"),
    Entry(QM + "problem.QuadraticProblem.h", lambda: (_p().h, dict(theta=T2)), {"theta": VECTOR_1D}),
    Entry(QM + "schedules.Constant", lambda: (Q.Constant, dict(alpha=0.1)), {"alpha": POSITIVE}),
    Entry(QM + "schedules.Constant.alphas", lambda: (Q.Constant(0.1).alphas, dict(k=3)), {"k": STEPS}),
    Entry(QM + "schedules.Harmonic", lambda: (Q.Harmonic, dict(a=1.0)), {"a": OFFSET}),
    Entry(QM + "schedules.Harmonic.alphas", lambda: (Q.Harmonic(1.0).alphas, dict(k=3)), {"k": STEPS}),
    Entry(QM + "schedules.StepSequence", lambda: (Q.StepSequence, dict(values=[0.1, 0.2])),
          {"values": POSITIVE_ENTRIES + (EXTRA_AXIS,)}),
    Entry(QM + "schedules.StepSequence.alphas", lambda: (Q.StepSequence([0.1, 0.2]).alphas, dict(k=1)),
          {"k": STEPS}),
    Entry(QM + "schedules.as_schedule", lambda: (Q.as_schedule, dict(schedule=Q.Constant(0.1))),
          {"schedule": SCHEDULE}),
    Entry(QM + "hypotheses.hypotheses", _on(_p, Q.hypotheses, schedule=Q.Constant(0.1), theorem="theorem5"),
          {"p": OBJECT, "schedule": SCHEDULE, "theorem": CHOICE}),
    Entry(QM + "hypotheses.require", _on(_p, Q.require, schedule=Q.Constant(0.1), theorem="theorem5"),
          {"p": OBJECT, "schedule": SCHEDULE, "theorem": CHOICE}),
    Entry(QM + "instances.random_problem",
          lambda: (Q.random_problem, dict(n=3, kappa=10.0, B_kind="random", Sigma_kind="random", seed=0)),
          {"n": SIZE, "kappa": POSITIVE, "B_kind": CHOICE, "Sigma_kind": CHOICE, "seed": SEED}),
    Entry(QM + "instances.make_problem",
          lambda: (Q.make_problem, dict(H=H2, B_kind="H", Sigma_kind="H", rng=np.random.default_rng(0),
                                        noise_scale=1.0, start_scale=1.0, theta0=None)),
          {"H": SPD, "B_kind": CHOICE, "Sigma_kind": CHOICE, "rng": OBJECT, "noise_scale": NONNEG,
           "start_scale": NONNEG, "theta0": VECTOR_1D},
          accepts={"theta0": ("none",)}, why="theta0=None draws a random start"),
    Entry(QM + "instances.linear_spectrum_problem", lambda: (Q.linear_spectrum_problem, dict(n=3, B_kind="H", seed=0)),
          {"n": SIZE, "B_kind": CHOICE, "seed": SEED}),
    # -- Theorem 3: moments -------------------------------------------------------------------------------------
    Entry(QM + "moments.mean_iterate", _on(_p, Q.mean_iterate, schedule=0.2, k=3), P_SCHED_K),
    Entry(QM + "moments.variance", _on(_p, Q.variance, schedule=0.2, k=3), P_SCHED_K),
    Entry(QM + "moments.second_moment", _on(_p, Q.second_moment, schedule=0.2, k=3), P_SCHED_K),
    Entry(QM + "moments.V_infinity", _on(_p, Q.V_infinity, alpha=0.2), {"p": OBJECT, "alpha": POSITIVE}),
    Entry(QM + "moments.variance_lemma9", _on(_p, Q.variance_lemma9, alpha=0.2, k=3), P_ALPHA_K),
    Entry(QM + "moments.harmonic_leading_variance", _on(_p, Q.harmonic_leading_variance), {"p": OBJECT}),
    Entry(QM + "moments.lemma13_Z", _on(_p, Q.lemma13_Z), {"p": OBJECT}),
    Entry(QM + "moments.lemma13_error", _on(_p, Q.lemma13_error, a=2.0, k=3), {"p": OBJECT, "a": OFFSET, "k": STEPS}),
    Entry(QM + "moments.lemma13_error_recursion", _on(_p, Q.lemma13_error_recursion, a=2.0, K=3),
          {"p": OBJECT, "a": POSITIVE, "K": SIZE}, accepts={"K": ("zero",)}, why="K = 0 returns E_0 alone"),
    Entry(QM + "moments.variance_recursion", _on(_p, Q.variance_recursion, schedule=0.2, K=3),
          {"p": OBJECT, "schedule": SCHEDULE, "K": SIZE}, accepts={"K": ("zero",)}, why="K = 0 returns V_0 alone"),
    # -- operators ----------------------------------------------------------------------------------------------
    Entry(QM + "operators.Operator",
          lambda: (Q.Operator, dict(problem=_p(), multiplier=lambda: np.ones((2, 2)), kron=lambda: np.eye(4),
                                    label="I", magnitude=lambda: np.ones((2, 2)))),
          {"problem": OBJECT, "multiplier": CALLABLE, "kron": CALLABLE, "magnitude": CALLABLE}),
    Entry(QM + "operators.Operator.apply_dense", lambda: (Q.operators(_p()).Xi.apply_dense, dict(X=S2)), {"X": MATRIX}),
    Entry(QM + "operators.operators", _on(_p, Q.operators), {"p": OBJECT}),
    Entry(QM + "operators.operators.Psi", lambda: (Q.operators(_p()).Psi, dict(beta=0.3)), {"beta": REAL}),
    Entry(QM + "operators.operators.Lambda", lambda: (Q.operators(_p()).Lambda, dict(alpha=0.3)), {"alpha": NONNEG}),
    # -- eqn. 20, averages, Theorems 5 and 6, traces ------------------------------------------------------------
    Entry(QM + "risk.excess_risk", _on(_p, Q.excess_risk, schedule=0.2, k=3), P_SCHED_K),
    Entry(QM + "risk.excess_risk_decomposition", _on(_p, Q.excess_risk_decomposition, schedule=Q.Harmonic(2.0), k=3),
          P_SCHED_K),
    Entry(QM + "risk.averaged_excess_risk", _on(_p, Q.averaged_excess_risk, alpha=0.2, k=3), P_ALPHA_K),
    Entry(QM + "ema.ema_excess_risk", _on(_p, Q.ema_excess_risk, alpha=0.2, k=30, beta_max=0.9),
          {**P_ALPHA_K, "beta_max": UNIT}, accepts={"beta_max": ("zero",)},
          why="beta_max = 0 is the plain iterate"),
    Entry(QM + "ema.ema_stationary_excess_risk", _on(_p, Q.ema_stationary_excess_risk, alpha=0.2, beta_max=0.9),
          {"p": OBJECT, "alpha": POSITIVE, "beta_max": UNIT}, accepts={"beta_max": ("zero",)},
          why="beta_max = 0 is the plain iterate"),
    Entry(QM + "theorem5.nu", lambda: (Q.nu, dict(a=2.0)), {"a": POSITIVE}),
    Entry(QM + "theorem5.constant_noise_floor", _on(_p, Q.constant_noise_floor, alpha=0.2),
          {"p": OBJECT, "alpha": POSITIVE}),
    Entry(QM + "theorem5.harmonic_traces", _on(_p, Q.harmonic_traces), {"p": OBJECT}),
    Entry(QM + "theorem5.theorem5_bounds", _on(_p, Q.theorem5_bounds, schedule=0.2, k=3, check=True),
          {**P_SCHED_K, "check": FLAG}),
    Entry(QM + "theorem6.theorem6_bound", _on(_p, Q.theorem6_bound, alpha=0.2, k=3, check=True),
          {**P_ALPHA_K, "check": FLAG}),
    Entry(QM + "theorem6.theorem6_terms", _on(_p, Q.theorem6_terms, alpha=0.2, k=3, check=True),
          {**P_ALPHA_K, "check": FLAG}),
    Entry(QM + "traces.proposition10_trace", _on(_p, Q.proposition10_trace, alpha=0.2, X=S2),
          {"p": OBJECT, "alpha": POSITIVE, "X": MATRIX}),
    Entry(QM + "traces.proposition14_trace", _on(_p, Q.proposition14_trace, X=S2), {"p": OBJECT, "X": MATRIX}),
    Entry(QM + "traces.eq29_trace", _on(_p, Q.eq29_trace, alpha=0.2), {"p": OBJECT, "alpha": POSITIVE}),
    Entry(QM + "traces.eq45_trace", _on(_p, Q.eq45_trace), {"p": OBJECT}),
    # -- noise models and the simulator -------------------------------------------------------------------------
    Entry(QM + "noise.StudentTNoise", lambda: (Q.StudentTNoise, dict(df=5.0)), {"df": POSITIVE}),
    Entry(QM + "noise.RademacherMixture", lambda: (Q.RademacherMixture, dict(q=0.05, ratio=4.0)),
          {"q": UNIT, "ratio": POSITIVE}),
    Entry(QM + "noise.LeastSquaresData",
          lambda: (Q.LeastSquaresData, dict(X=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], y=[1.0, 2.0, 2.5], batch=2)),
          {"X": DATA_MATRIX, "y": VECTOR_1D, "batch": SIZE}),
    Entry(QM + "noise.LeastSquaresData.problem", lambda: (_data().problem, dict(B=I2, theta0=T2)),
          {"B": SPD, "theta0": VECTOR_1D}),
    Entry(QM + "noise.LeastSquaresData.bind", lambda: (_data().bind, dict(p=_data().problem(I2, T2))), {"p": OBJECT}),
    Entry(QM + "simulation.simulate",
          lambda: (Q.simulate, dict(p=_p(), schedule=0.2, k=3, runs=8, noise="gaussian", seed=0, average=None,
                                    beta_max=0.9, chunk_size=1024, workers=1, progress=False)),
          {"p": OBJECT, "schedule": SCHEDULE, "k": STEPS, "runs": SIZE, "noise": CHOICE, "seed": SEED,
           "average": CHOICE, "beta_max": UNIT, "chunk_size": COUNT, "workers": COUNT, "progress": FLAG},
          accepts={"k": ("none",), "average": ("none",), "chunk_size": ("none",), "workers": ("none",),
                   "beta_max": ("zero",)},
          why="k=None is the default grid, average=None records the iterate, chunk_size=None and workers=None the "
              "defaults; beta_max = 0 makes the decayed average the iterate"),
    Entry(QM + "simulation.SimulationResult.ci", lambda: (_sim().ci, dict(level=0.9, method="normal")),
          {"level": UNIT, "method": CHOICE}),
    Entry(QM + "simulation.default_ks", lambda: (Q.default_ks, dict(kmax=100, num=5)), {"kmax": COUNT0, "num": SIZE}),
    # -- Appendix D (lemmas) ------------------------------------------------------------------------------------
    Entry(QL + "lemma18_bounds", lambda: (L.lemma18_bounds, dict(S=H2, X=S2, check=True)),
          {"S": SYM, "X": PSD, "check": FLAG}),
    Entry(QL + "corollary19_bounds", lambda: (L.corollary19_bounds, dict(S=H2, X=-S2, check=True)),
          {"S": SYM, "X": NSD, "check": FLAG}),
    Entry(QL + "lemma20_hypotheses",
          lambda: (L.lemma20_hypotheses, dict(A=np.diag([1.0, 2.0]), S=I2, T=np.diag([2.0, 3.0]), X=S2)),
          {"A": SYM, "S": SYM, "T": SYM, "X": SYM}),
    Entry(QL + "lemma20_sides",
          lambda: (L.lemma20_sides, dict(A=np.diag([1.0, 2.0]), S=I2, T=np.diag([2.0, 3.0]), X=S2, check=True)),
          {"A": PSD, "S": SYM, "T": SYM, "X": PSD, "check": FLAG}),
    Entry(QL + "lemma21_phi", lambda: (L.lemma21_phi, dict(D=0.5 * H2 / 2.3, X=S2)), {"D": MATRIX, "X": MATRIX}),
    Entry(QL + "lemma21_inverse",
          lambda: (L.lemma21_inverse, dict(D=0.5 * H2 / 2.3, X=S2, terms=5, require_real=True)),
          {"D": MATRIX, "X": MATRIX, "terms": COUNT0, "require_real": FLAG},
          accepts={"terms": ("none",)}, why="terms=None sums the whole series"),
    Entry(QL + "lemma21_inverse_kron", lambda: (L.lemma21_inverse_kron, dict(D=0.5 * H2 / 2.3, X=S2, require_real=True)),
          {"D": MATRIX, "X": MATRIX, "require_real": FLAG}),
    Entry(QL + "harmonic_number", lambda: (L.harmonic_number, dict(n=10, exact=False)), {"n": COUNT0, "exact": FLAG}),
    Entry(QL + "proposition22_sides", lambda: (L.proposition22_sides, dict(n1=10, n2=3, check=True)),
          {"n1": COUNT0, "n2": COUNT, "check": FLAG}),
    Entry(QL + "proposition23_product", lambda: (L.proposition23_product, dict(i=0, k=5, a=1.0, b=0.5)),
          {"i": COUNT0, "k": COUNT0, "a": REAL, "b": REAL}),
    Entry(QL + "proposition23_product_hypotheses",
          lambda: (L.proposition23_product_hypotheses, dict(i=0, k=5, a=1.0, b=0.5)),
          {"i": COUNT0, "k": COUNT0, "a": REAL, "b": REAL}),
    Entry(QL + "proposition23_product_sides",
          lambda: (L.proposition23_product_sides, dict(i=0, k=5, a=1.0, b=0.5, check=True)),
          {"i": COUNT0, "k": COUNT0, "a": REAL, "b": REAL, "check": FLAG}),
    Entry(QL + "proposition23_sum", lambda: (L.proposition23_sum, dict(k=10, a=1.0, b=1.5)),
          {"k": COUNT0_BOUNDED, "a": POSITIVE, "b": REAL}),
    Entry(QL + "proposition23_sum_exact", lambda: (L.proposition23_sum_exact, dict(k=10, a=1, b=1)),
          {"k": COUNT0_BOUNDED, "a": POSITIVE, "b": REAL}),
    Entry(QL + "proposition23_sum_hypotheses",
          lambda: (L.proposition23_sum_hypotheses, dict(k=10, a=1.0, b=1.5, version="printed")),
          {"k": HYP_COUNT, "a": REAL, "b": REAL, "version": CHOICE}),
    Entry(QL + "proposition23_sum_sides",
          lambda: (L.proposition23_sum_sides, dict(k=10, a=1.0, b=1.5, version="corrected", check=True)),
          {"k": COUNT0, "a": POSITIVE, "b": REAL, "version": CHOICE, "check": FLAG}),
    Entry(QL + "proposition23_counterexample", lambda: (L.proposition23_counterexample, dict(k=30)),
          {"k": COUNT0_BOUNDED}),
    # -- §14.1-14.3.2 consequences ------------------------------------------------------------------------------
    Entry(QC + "amari_limit", lambda: (C.amari_limit, dict(n=3, k=5)), {"n": COUNT, "k": STEPS}),
    Entry(QC + "with_preconditioner", _on(_p, C.with_preconditioner, kind="H"), {"p": OBJECT, "kind": CHOICE}),
    Entry(QC + "harmonic_BH_bound", _on(_pH, C.harmonic_BH_bound, a=1.0, k=5, check=True),
          {"p": OBJECT, "a": OFFSET, "k": STEPS, "check": FLAG}),
    Entry(QC + "harmonic_BH_exact", _on(_pH, C.harmonic_BH_exact, a=1.0, k=5, check=True),
          {"p": OBJECT, "a": OFFSET, "k": STEPS, "check": FLAG}),
    Entry(QC + "first_order_noise_trace", lambda: (C.first_order_noise_trace, dict(H=H2, Sigma_g=S2)),
          {"H": SPD, "Sigma_g": SYM}),
    Entry(QC + "harmonic_lambda_n_bound", _on(_p_lambda_n, C.harmonic_lambda_n_bound, k=5, version="corrected",
                                              check=True),
          {"p": OBJECT, "k": STEPS, "version": CHOICE, "check": FLAG}),
    Entry(QC + "theorem5_harmonic_upper_corrected",
          _on(_p, C.theorem5_harmonic_upper_corrected, a=2.0, k=5, check=True),
          {"p": OBJECT, "a": OFFSET, "k": STEPS, "check": FLAG}),
    Entry(QC + "second_order_noise_constant", lambda: (C.second_order_noise_constant, dict(H=H2, Sigma_g=S2)),
          {"H": SPD, "Sigma_g": SYM}),
    Entry(QC + "first_order_noise_constant", lambda: (C.first_order_noise_constant, dict(H=H2, Sigma_g=S2)),
          {"H": SPD, "Sigma_g": SYM}),
    Entry(QC + "realizable_noise_constants", lambda: (C.realizable_noise_constants, dict(h_eigs=[1.0, 2.0])),
          {"h_eigs": POSITIVE_ENTRIES + (EXTRA_AXIS,)}),
    Entry(QC + "realizable_noise_relations", lambda: (C.realizable_noise_relations, dict(h_eigs=[1.0, 2.0])),
          {"h_eigs": POSITIVE_ENTRIES + (EXTRA_AXIS,)}),
    Entry(QC + "linear_spectrum_noise_constants", lambda: (C.linear_spectrum_noise_constants, dict(n=3)),
          {"n": COUNT}),
    Entry(QC + "appendixC_second_order_chain", lambda: (C.appendixC_second_order_chain, dict(H=H2, Sigma_g=S2)),
          {"H": SPD, "Sigma_g": PSD}),
    Entry(QC + "appendixC_first_order_chain", lambda: (C.appendixC_first_order_chain, dict(H=H2, Sigma_g=S2)),
          {"H": SPD, "Sigma_g": PSD}),
    Entry(QC + "bordes_constants", _on(_p, C.bordes_constants, check=True), {"p": OBJECT, "check": FLAG}),
    Entry(QC + "theorem6_BH_bound", _on(_pH, C.theorem6_BH_bound, k=5, alpha=0.5, check=True),
          {"p": OBJECT, "k": STEPS, "alpha": POSITIVE, "check": FLAG},
          accepts={"alpha": ("none",)}, why="alpha=None is the maximal step 1/lambda_1"),
    Entry(QC + "theorem6_BI_bound", _on(_p, C.theorem6_BI_bound, k=5, alpha=0.2, check=True),
          {"p": OBJECT, "k": STEPS, "alpha": POSITIVE, "check": FLAG},
          accepts={"alpha": ("none",)}, why="alpha=None is the maximal step 1/lambda_1"),
    Entry(QC + "polyak_juditsky_asymptote", _on(_p, C.polyak_juditsky_asymptote, k=5), P_K),
    Entry(QC + "polyak_juditsky_covariance", _on(_p, C.polyak_juditsky_covariance), {"p": OBJECT}),
    Entry(QC + "averaged_covariance", _on(_p, C.averaged_covariance, alpha=0.2, k=5),
          {"p": OBJECT, "alpha": POSITIVE, "k": COUNT0_BOUNDED}),
    Entry(QC + "flammarion_bach_bound", _on(_p, C.flammarion_bach_bound, alpha=0.2, k=5, check=True),
          {**P_ALPHA_K, "check": FLAG}),
    Entry(QC + "defossez_bach_approximation", _on(_p, C.defossez_bach_approximation, alpha=0.2, k=5), P_ALPHA_K),
]

_RECORD = "a result record built by the toolkit (its fields are computed, not user input)"
_HOOK = ("the noise model's draw, called by the simulator once per step with the generator and shape it builds "
         "itself (validated there); not an entry point")
EXEMPT = [
    Exempt(QM + "hypotheses.Hypothesis", "a record of one assumption built by hypotheses() and the lemma checks "
                                         "from validated values"),
    Exempt(QM + "simulation.SimulationResult", _RECORD),
    Exempt(QM + "noise.GaussianNoise.standard", _HOOK),
    Exempt(QM + "noise.StudentTNoise.standard", _HOOK),
    Exempt(QM + "noise.RademacherMixture.standard", _HOOK),
]
