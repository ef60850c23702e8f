"""Proof audit (issue 16 §3) of the Fisher-geometry part of the papers: Martens (001_7d31b3ff3a2f0401.txt) Theorem 1
and its derivation in §12, Corollary 2 and its proof (Appendix E), §12.1, the §9.1-9.2 derivations, the §11.1
example and the §13 expansion; Shrestha (002_add1c097d251ec63.txt) Appendix A.1-A.3 (score, Fisher, Hessian, KL) and
A.4-A.5 (Woodbury form and TENGraD, eqs 27-43).  See verification/audit.py.

Each check evaluates every numerically checkable step of one proof, in order, on instances from its hypothesis region,
reusing :mod:`theorytools.fisher` (called as ``FI.name`` at run time, so a test can plant a wrong formula there) and
the independent routes of :mod:`verification.reference.fisher`.  A step the audit finds false as printed is shown
failing (its verdict PASSes when the printed step fails and the corrected one holds).  Findings already carried by a
check of verification/checks/fisher.py (eq. 12's 1/2, §11.1's middle expression, §13's sign, eq. 42) are not repeated
as errata here; the new ones (Theorem 1's norm, Corollary 2's Lipschitz step, §12.1's '=' for a proportionality) are.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

import theorytools.fisher as FI
from verification.audit import Step, proof
from verification.checks.fisher import Case
from verification.errata import Certificate, Erratum
from verification.reference import fisher as RF
from verification.verdict import FAIL, PASS, Verdict

MARTENS, SHRESTHA = "001_7d31b3ff3a2f0401.txt", "002_add1c097d251ec63.txt"
FAMILY = "fisher"


def _shown_false(printed_holds: bool, what: str, detail: str = "") -> Verdict:
    """PASS when a step the audit calls false is seen failing (``printed_holds`` False)."""
    if printed_holds:
        return Verdict(FAIL, "deterministic", f"{what}: the printed step holds here, though the audit says it is false")
    return Verdict(PASS, "deterministic", f"{what}: the printed step fails as the audit says" + (f" ({detail})" if detail else ""))


def _holds(ok: bool, what: str, detail: str = "") -> Verdict:
    return Verdict(PASS if ok else FAIL, "deterministic", f"{what}: {'holds' if ok else 'FAILS'}" + (f" ({detail})" if detail else ""))


def _grad_by_differences(f, z, h=1e-6):
    z = np.asarray(z, dtype=float)
    return np.array([(f(z + e) - f(z - e)) / (2 * h) for e in np.eye(z.size) * h])


# ====================================================================================================================
# Martens, Theorem 1 (its derivation in §12, lines 593-641)
# ====================================================================================================================

class _SmoothZeta:
    """A non-quadratic reparameterization zeta(g) = (g1 + a sin g2, b g2 + c tanh g1) (so eq. 12's c_i matter): its
    component Hessians are diag(0, -a sin g2) and diag(-2 c tanh g1 sech^2 g1, 0); sup ||H_i||_2 <= max(|a|,
    |c| 4 / (3 sqrt 3)) (max of 2 tanh sech^2 is 4 / (3 sqrt 3))."""

    def __init__(self, a=0.6, b=1.3, c=0.8):
        self.a, self.b, self.c = a, b, c
        self.C = max(abs(a), abs(c) * 4 / (3 * np.sqrt(3)))

    def __call__(self, g):
        return np.array([g[0] + self.a * np.sin(g[1]), self.b * g[1] + self.c * np.tanh(g[0])])

    def jacobian(self, g):
        return np.array([[1.0, self.a * np.cos(g[1])], [self.c / np.cosh(g[0]) ** 2, self.b]])

    def hessians(self, g):
        t = np.tanh(g[0])
        return [np.diag([0.0, -self.a * np.sin(g[1])]), np.diag([-2 * self.c * t * (1 - t * t), 0.0])]


def _theorem1_cases(profile, seed):
    return [Case("zeta(g) = (g1 + 0.3 g2^2, 0.5 g2 + 0.1 g1^2) on the N(mu, sigma) fit, gamma_0 = (0.4, -0.3); a "
                 "non-quadratic zeta for eq. 12", {"problem": FI.invariance.GaussianFitProblem(),
                                                     "gamma": np.array([0.4, -0.3]), "seed": seed})]


def _certify_theorem1_norm():
    """Exact rationals (compared as squares): zeta_1 = g1 + (g1 + g2)^2 / 4, zeta_2 = g2 near gamma = 0 (J(0) = I;
    a global diffeomorphism once (g1 + g2)^2/4 is continued outside |g1 + g2| <= 2 with slope > -1 and curvature
    <= 1/2), d = (1, 1): the remainder is (1, 0) exactly (zeta is quadratic there), C = ||H_1||_2 = ||[[1/2, 1/2], [1/2,
    1/2]]||_2 = 1, n = 2."""
    rem, d, C, n = (Fraction(1), Fraction(0)), (Fraction(1), Fraction(1)), Fraction(1), 2
    inf_lhs2 = max(abs(r) for r in rem) ** 2
    inf_bound2 = (C / 2) ** 2 * n * max(abs(x) for x in d) ** 4       # (1/2 C sqrt(n) ||d||_inf^2)^2
    two_lhs2 = sum(r * r for r in rem)
    two_bound2 = (C / 2) ** 2 * n * sum(x * x for x in d) ** 2          # (1/2 C sqrt(n) ||d||_2^2)^2
    return Certificate(instance="n = 2, zeta_1 = g1 + (g1 + g2)^2/4, zeta_2 = g2, gamma = 0, d = (1, 1), C = 1",
                       printed=inf_lhs2 <= inf_bound2, corrected=two_lhs2 <= two_bound2,
                       arithmetic="exact rationals (fractions), both sides squared",
                       detail=f"max-norm: |remainder|^2 = {inf_lhs2} > bound^2 = {inf_bound2}; Euclidean: {two_lhs2} <= "
                              f"{two_bound2}")


@proof(statement="Martens, Theorem 1", seed=MARTENS, line=593,
       stated=("zeta: R^n -> R^n smooth and invertible, theta = zeta(gamma) (§12 set-up)",
               "B_theta, B_gamma invertible with J^T B_theta J = B_gamma",
               "for the last bound: ||H_[zeta]_i(gamma)||_2 <= C for all i and gamma"),
       used=("zeta: R^n -> R^n smooth and invertible, theta = zeta(gamma) (§12 set-up)",
             "B_theta, B_gamma invertible with J^T B_theta J = B_gamma",
             "for the last bound: ||H_[zeta]_i(gamma)||_2 <= C for all i and gamma",
             "||.|| is the Euclidean norm (the sqrt(n) factor; the text says 'some non-specific norm')"),
       steps=(Step("eq. 11: ||zeta(g + d) - (theta + d_theta)|| <= ||zeta(g + d) - zeta(g) - J d|| + ||J d - d_theta||", 599),
              Step("eq. 12: the first term <= 1/2 ||(d^T H_[zeta]_i(g + c_i d) d)_i|| for some c_i in (0, 1)", 605),
              Step("|d^T H_[zeta]_i d| <= 1/2 ||H_[zeta]_i||_2 ||d||^2", 607, holds=False),
              Step("hence the bound 1/2 C sqrt(n) ||d||^2 (Euclidean norm, with |d^T H d| <= ||H||_2 ||d||^2)", 607),
              Step("the bound 1/2 C sqrt(n) ||d||^2 in 'some non-specific norm' (line 593): false in the max-norm", 593,
                   holds=False),
              Step("grad_gamma h = J^T grad h", 623),
              Step("J_zeta is invertible 'because zeta is'", 627, holds=False),
              Step("J^T B_theta J = B_gamma gives B_theta^-1 = J B_gamma^-1 J^T, hence J d_gamma = d_theta (eq. 13)", 627),
              Step("the theorem's bound: the error equals eq. 11's first term and is <= 1/2 C sqrt(n) ||d_gamma||^2", 639)),
       result="the conclusion holds; three steps are false as printed: the fact after eq. 12 has a spurious 1/2 (see "
              "fisher.reparameterization_invariance), the sqrt(n) bound needs the Euclidean norm (missing hypothesis), and "
              "'J_zeta invertible because zeta is' is false (zeta = g^3 at 0), though J is invertible for another reason: "
              "B_gamma = J^T B_theta J is",
       family=FAMILY, source=f"{MARTENS} §12, eqs 11-14 and Theorem 1", instances=_theorem1_cases,
       erratum=Erratum(
           "missing hypothesis",
           "Theorem 1's last bound 1/2 C sqrt(n) ||d_gamma||^2 holds for the Euclidean norm, but the derivation measures "
           "the error 'by some non-specific norm': in the max-norm the same remainder can exceed it (the constant there is "
           "C n / 2).",
           seed=MARTENS, line=593, passage="Measured by some non-specific norm",
           evidence="n = 2, zeta_1 = g1 + (g1 + g2)^2/4, zeta_2 = g2 at gamma = 0, d = (1, 1): remainder (1, 0), max-norm 1 > "
                    "sqrt(2)/2 = 1/2 C sqrt(n) ||d||_inf^2, Euclidean norm 1 <= sqrt(2) (exact, squared); n = 2 is the "
                    "smallest dimension (for n = 1 all norms agree)",
           certify=_certify_theorem1_norm))
def theorem1_proof(case, rng):
    P, g0 = case.params["problem"], case.params["gamma"]
    r = np.random.default_rng([case.params["seed"], 101])
    Z = _SmoothZeta()
    v = []
    # step 1 (eq. 11): the triangle inequality with an arbitrary d_theta; rounding only (rtol 1e-12)
    rows = []
    for _ in range(20):
        g, d, dth = r.normal(0, 1, 2), r.normal(0, 0.5, 2), r.normal(0, 0.5, 2)
        lhs = np.linalg.norm(Z(g + d) - (Z(g) + dth))
        rhs = np.linalg.norm(Z(g + d) - Z(g) - Z.jacobian(g) @ d) + np.linalg.norm(Z.jacobian(g) @ d - dth)
        rows.append((lhs, rhs))
    lhs, rhs = np.array(rows).T
    v.append(Verdict.within(lhs, np.zeros_like(lhs), rhs * (1 + 1e-12), rtol=0.0, what="eq. 11"))
    # step 2 (eq. 12, mean-value form): each remainder component lies between the min and max over c in [0, 1] of
    # 1/2 d^T H_i(g + c d) d (then some c_i attains it, by continuity); a 401-point grid in c, slack 1e-12
    ok2, worst = True, 0.0
    for _ in range(20):
        g, d = r.normal(0, 1, 2), r.normal(0, 0.7, 2)
        rem = Z(g + d) - Z(g) - Z.jacobian(g) @ d
        q = np.array([[0.5 * d @ H @ d for H in Z.hessians(g + c * d)] for c in np.linspace(0, 1, 401)])
        lo, hi = q.min(axis=0) - 1e-12, q.max(axis=0) + 1e-12
        ok2 &= bool(np.all((lo <= rem) & (rem <= hi)))
        worst = max(worst, float(np.max(np.abs(rem))))
    v.append(_holds(ok2, "eq. 12: every remainder component is 1/2 d^T H_i(g + c d) d for some c in [0, 1]",
                    f"20 random (gamma, d), largest remainder {worst:.3g}"))
    # step 3 (false): |d^T H d| <= 1/2 ||H||_2 |d|^2 fails at a top eigenvector of every H != 0; the true fact holds
    printed_fails, true_holds = [], []
    for _ in range(20):
        A = r.normal(size=(3, 3))
        H = A + A.T
        w, V = np.linalg.eigh(H)
        top = V[:, np.argmax(np.abs(w))]
        nrm = np.linalg.norm(H, 2)
        printed_fails.append(abs(top @ H @ top) > 0.5 * nrm * (1 + 1e-12))
        d = r.normal(size=3)
        true_holds.append(abs(d @ H @ d) <= nrm * (d @ d) * (1 + 1e-12))
    v.append(_shown_false(not all(printed_fails), "|d^T H d| <= 1/2 ||H|| |d|^2",
                          f"fails at the top eigenvector of 20 random 3 x 3 H; |d^T H d| <= ||H|| |d|^2 holds for "
                          f"{sum(true_holds)}/20 random d") if all(true_holds)
             else Verdict(FAIL, "deterministic", "|d^T H d| <= ||H||_2 |d|^2 failed: the reference fact is wrong"))
    # step 4: ||remainder||_2 <= 1/2 C sqrt(n) |d|_2^2 for the non-quadratic zeta (C an upper bound of sup ||H_i||_2)
    vals = []
    for _ in range(20):
        g, d = r.normal(0, 1, 2), r.normal(0, 0.7, 2)
        vals.append((np.linalg.norm(Z(g + d) - Z(g) - Z.jacobian(g) @ d), 0.5 * Z.C * np.sqrt(2) * (d @ d)))
    a, b = np.array(vals).T
    v.append(Verdict.within(a, np.zeros_like(a), b * (1 + 1e-12), rtol=0.0, what="1/2 C sqrt(n) |d|^2 (Euclidean)"))
    # step 5 (false as printed for a 'non-specific norm'): the max-norm instance of the erratum, in floating point
    # (the quadratic zeta's remainder is exact up to rounding); and the Euclidean bound holds there
    zq = lambda g: np.array([g[0] + (g[0] + g[1]) ** 2 / 4, g[1]])  # noqa: E731
    d = np.array([1.0, 1.0])
    rem = zq(d) - zq(np.zeros(2)) - d
    inf_ok = np.max(np.abs(rem)) <= 0.5 * np.sqrt(2) * np.max(np.abs(d)) ** 2
    two_ok = np.linalg.norm(rem) <= 0.5 * np.sqrt(2) * (d @ d) * (1 + 1e-12)
    v.append(_shown_false(inf_ok, "1/2 C sqrt(n) |d|^2 in the max-norm", f"remainder {rem}, Euclidean bound holds: {two_ok}")
             if two_ok else Verdict(FAIL, "deterministic", "the Euclidean bound failed on the max-norm instance"))
    # step 6: grad_gamma h(zeta(gamma)) by central differences (h = 1e-6: error ~ 1e-10) vs J^T grad h
    J = P.zeta_jacobian(g0)
    v.append(Verdict.close(_grad_by_differences(lambda g: P.h(P.zeta(g)), g0), J.T @ P.grad(P.zeta(g0)), rtol=1e-7,
                           atol=1e-9, what="grad_gamma h vs J^T grad h"))
    # step 7 (false): zeta(g) = g^3 is smooth and invertible (strictly increasing), its Jacobian at 0 is 0
    grid = np.linspace(-2, 2, 401)
    increasing = bool(np.all(np.diff(grid ** 3) > 0))
    v.append(_shown_false(not (increasing and 3 * 0.0 ** 2 == 0.0), "zeta invertible => J_zeta invertible",
                          "zeta(g) = g^3 is strictly increasing and smooth, J(0) = 3 * 0^2 = 0"))
    # step 8: with B_gamma = J^T F J, B_theta^-1 = J B_gamma^-1 J^T and J d_gamma = d_theta (rtol 1e-10: cond <= 1e2)
    th = P.zeta(g0)
    Bt, Bg = P.fisher(th), P.pulled_back("fisher", g0)
    d_th = FI.invariance.ng_step_theta(P, th, 0.1) - th
    d_g = FI.invariance.ng_step_gamma(P, g0, 0.1, Bg) - g0
    v.append(Verdict.all_of([Verdict.close(np.linalg.inv(Bt), J @ np.linalg.inv(Bg) @ J.T, rtol=1e-10, atol=1e-12,
                                           what="B_theta^-1 vs J B_gamma^-1 J^T"),
                             Verdict.close(J @ d_g, d_th, rtol=1e-10, atol=1e-13, what="J d_gamma vs d_theta")], "eq. 13-14"))
    # step 9: one NG step for alpha in (0.2, 0.1, 0.05): error == ||zeta(g + d) - zeta(g) - J d|| (rtol 1e-8) <= bound
    errs, firsts, bounds = [], [], []
    for alpha in (0.2, 0.1, 0.05):
        err, bound = FI.invariance.one_step_discrepancy(P, g0, alpha, "fisher")
        d_g = FI.invariance.ng_step_gamma(P, g0, alpha, Bg) - g0
        errs.append(err)
        firsts.append(np.linalg.norm(P.zeta(g0 + d_g) - th - J @ d_g))
        bounds.append(bound)
    v.append(Verdict.all_of([Verdict.close(errs, firsts, rtol=1e-8, atol=1e-15, what="error vs eq. 11's first term"),
                             Verdict.within(np.array(errs), np.zeros(3), np.array(bounds), rtol=0.0,
                                            what="error <= 1/2 C sqrt(n) |d_gamma|^2")], "Theorem 1's bound"))
    return v


# ====================================================================================================================
# Martens, Corollary 2 (Appendix E, lines 1891-1913)
# ====================================================================================================================

def _corollary2_cases(profile, seed):
    return [Case("NGD with the Fisher on the N(mu, sigma) fit, zeta(g) = (g1 + 0.3 g2^2, 0.5 g2 + 0.1 g1^2), "
                 "gamma_0 = (0.4, -0.3), T = 1", {"problem": FI.invariance.GaussianFitProblem(),
                                                   "gamma": np.array([0.4, -0.3]), "T": 1.0})]


def _phi(t):
    """min(sqrt|t|, 1): uniformly continuous on R (|phi(a) - phi(b)| <= sqrt|a - b|), not Lipschitz at 0."""
    return np.minimum(np.sqrt(np.abs(t)), 1.0)


def _certify_corollary2_lipschitz():
    """Exact rationals: phi(t) = min(sqrt|t|, 1), U = 10^6, a = 1/(4 U^2) (so sqrt(a) = 1/(2U) exactly), b = 0."""
    U = Fraction(10**6)
    a = 1 / (4 * U * U)
    phi_a = 1 / (2 * U)  # sqrt(a), exact
    assert phi_a * phi_a == a
    return Certificate(instance="d_theta/alpha = phi(theta) = min(sqrt|theta|, 1); U = 10^6, theta = 1/(4 U^2), theta' = 0",
                       printed=phi_a <= U * a, corrected=min(a, 1) - 0 <= 1 * a,
                       arithmetic="exact rationals (fractions)",
                       detail=f"|phi(a) - phi(0)| = {phi_a} > U |a - 0| = {U * a} (for every U, a = 1/(4U^2) does the "
                              "same); the Lipschitz min(|theta|, 1) with U = 1 satisfies it")


def _ng_paths(P, g0, alpha, steps):
    """theta_k, gamma_k and the updates d_theta(theta_k), d_theta(zeta(gamma_k)), d_gamma(gamma_k) (Fisher NGD)."""
    th, ga, out = P.zeta(g0), np.array(g0, dtype=float), []
    for _ in range(steps):
        d_th = FI.invariance.ng_step_theta(P, th, alpha) - th
        zg = P.zeta(ga)
        d_zg = FI.invariance.ng_step_theta(P, zg, alpha) - zg
        d_ga = FI.invariance.ng_step_gamma(P, ga, alpha, P.pulled_back("fisher", ga)) - ga
        out.append((th, ga, d_th, d_zg, d_ga))
        th, ga = th + d_th, ga + d_ga
    out.append((th, ga, None, None, None))
    return out


@proof(statement="Martens, Corollary 2", seed=MARTENS, line=1891,
       stated=("B_theta, B_gamma invertible with J^T B_theta J = B_gamma for all theta", "theta_0 = zeta(gamma_0)",
               "zeta affine, or: d_theta/alpha uniformly continuous in theta, ||d_gamma/alpha|| <= D, "
               "||H_[zeta]_i||_2 <= C, alpha -> 0"),
       used=("B_theta, B_gamma invertible with J^T B_theta J = B_gamma for all theta", "theta_0 = zeta(gamma_0)",
             "zeta affine, or: d_theta/alpha Lipschitz in theta (constant U), ||d_gamma/alpha|| <= D, "
             "||H_[zeta]_i||_2 <= C, alpha -> 0"),
       steps=(Step("affine zeta: the paths agree exactly (Theorem 1 with zero error)", 1891),
              Step("||zeta(g_k+1) - theta_k+1|| <= first term + ||zeta(g_k) - theta_k|| + ||d_zeta(g_k) - d_theta_k||", 1897),
              Step("first term <= 1/2 C sqrt(n) ||d_gamma_k||^2 <= alpha^2 E, E = 1/2 C D^2 sqrt(n)", 1899),
              Step("uniform continuity of d_theta/alpha gives U with ||d_zeta(g)/alpha - d_theta/alpha|| <= U ||zeta(g) - "
                   "theta||", 1899, holds=False),
              Step("with a Lipschitz d_theta/alpha (constant U): eq. 50, e_k+1 <= alpha^2 E + (1 + alpha U) e_k", 1903),
              Step("e_k <= alpha^2 E ((1 + alpha U)^k - 1) / (alpha U) (the geometric series)", 1907),
              Step("(1 + alpha U)^(T/alpha) -> e^(UT), so the bound at k <= T/alpha is O(alpha) -> 0", 1909),
              Step("'the RHS of eqn. 50 converges to zero' refers to the geometric-series bound", 1909, checked=False,
                   how="a cross-reference: eq. 50's right side contains e_k; the limit is of the bound of line 1907")),
       result="the proof needs d_theta/alpha Lipschitz, not merely uniformly continuous (missing hypothesis); with that "
              "hypothesis every step reproduces and the path gap is O(alpha)",
       family=FAMILY, source=f"{MARTENS} Appendix E (proof of Corollary 2, eq. 50)", instances=_corollary2_cases,
       erratum=Erratum(
           "missing hypothesis",
           "The proof of Corollary 2 derives from 'the hypothesized uniform continuity of d_theta/alpha' a constant U with "
           "||d_zeta(gamma_k)/alpha - d_theta_k/alpha|| <= U ||zeta(gamma_k) - theta_k||, which is Lipschitz continuity; "
           "uniform continuity does not give it, so the corollary's second case should assume d_theta/alpha Lipschitz.",
           seed=MARTENS, line=1899, passage="And by the hypothesized uniform continuity of",
           evidence="d_theta/alpha = min(sqrt|theta|, 1) is uniformly continuous but for every U the pair theta = 1/(4U^2), "
                    "theta' = 0 violates the inequality (exact rationals at U = 10^6); whether the corollary's conclusion "
                    "survives under uniform continuity alone is not settled by the audit",
           certify=_certify_corollary2_lipschitz))
def corollary2_proof(case, rng):
    P, g0, T = case.params["problem"], case.params["gamma"], case.params["T"]
    v = []
    # step 1: affine zeta (a = c = 0): the gap is rounding (atol 1e-12 over 20 steps)
    affine = FI.invariance.GaussianFitProblem(a=0.0, c=0.0)
    v.append(Verdict.close(FI.invariance.path_gap(affine, g0, 0.05, T), 0.0, rtol=0.0, atol=1e-12, what="affine path gap"))
    alpha = 0.05
    steps = round(T / alpha)
    path = _ng_paths(P, g0, alpha, steps)
    e = np.array([np.linalg.norm(P.zeta(ga) - th) for th, ga, *_ in path])
    first = np.array([np.linalg.norm(P.zeta(ga + dg) - (P.zeta(ga) + dz)) for th, ga, dth, dz, dg in path[:-1]])
    third = np.array([np.linalg.norm(dz - dth) for th, ga, dth, dz, dg in path[:-1]])
    # step 2: the triangle decomposition (rounding: rtol 1e-12, atol 1e-15)
    v.append(Verdict.within(e[1:], np.zeros(steps), (first + e[:-1] + third) * (1 + 1e-12) + 1e-15, rtol=0.0,
                            what="triangle decomposition"))
    # step 3: first term <= 1/2 C sqrt(n) |d_gamma|^2 <= alpha^2 E, D = max |d_gamma / alpha| on the path
    dg = np.array([np.linalg.norm(p[4]) for p in path[:-1]])
    D = float(np.max(dg)) / alpha
    E = 0.5 * P.C * D * D * np.sqrt(2)
    v.append(Verdict.all_of([Verdict.within(first, np.zeros(steps), 0.5 * P.C * np.sqrt(2) * dg ** 2 * (1 + 1e-9) + 1e-16,
                                            rtol=0.0, what="first term vs 1/2 C sqrt(n) |d_gamma|^2"),
                             Verdict.within(first, np.zeros(steps), np.full(steps, alpha ** 2 * E * (1 + 1e-9)), rtol=0.0,
                                            what="first term vs alpha^2 E")], "Theorem 1 along the path"))
    # step 4 (false): phi = min(sqrt|t|, 1) is uniformly continuous (|phi(a) - phi(b)| <= sqrt|a - b| on 200 random
    # pairs) but |phi(eps) - phi(0)| / eps = eps^-1/2 is unbounded (>= 10^5 at eps = 1e-10)
    r = np.random.default_rng(7)
    A, B = r.normal(0, 2, 200), r.normal(0, 2, 200)
    modulus = bool(np.all(np.abs(_phi(A) - _phi(B)) <= np.sqrt(np.abs(A - B)) * (1 + 1e-12)))
    eps = 10.0 ** -np.arange(2, 11)
    ratios = (_phi(eps) - _phi(0.0)) / eps
    v.append(_shown_false(not (modulus and ratios[-1] >= 1e5 and np.all(np.diff(ratios) > 0)),
                          "uniform continuity => a constant U", f"ratios {ratios[0]:.3g} ... {ratios[-1]:.3g}")
             if modulus else Verdict(FAIL, "deterministic", "phi is not uniformly continuous as claimed"))
    # step 5: the Lipschitz constant of this d_theta/alpha on the path (largest ratio seen, > 0) makes eq. 50 hold
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(e[:-1] > 0, third / alpha / np.where(e[:-1] > 0, e[:-1], 1.0), 0.0)
    U = max(float(np.max(ratio)), 1e-300)
    v.append(Verdict.within(e[1:], np.zeros(steps), (alpha ** 2 * E + (1 + alpha * U) * e[:-1]) * (1 + 1e-9) + 1e-15,
                            rtol=0.0, what="eq. 50"))
    # step 6: the geometric series, summed vs closed form (rtol 1e-12), and e_k below it
    k = np.arange(steps + 1)
    summed = np.array([alpha ** 2 * E * sum((1 + alpha * U) ** i for i in range(n)) for n in k])
    closed = alpha ** 2 * E * ((1 + alpha * U) ** k - 1) / (alpha * U)
    v.append(Verdict.all_of([Verdict.close(summed, closed, rtol=1e-12, atol=1e-300, what="geometric series"),
                             Verdict.within(e, np.zeros_like(e), closed * (1 + 1e-9) + 1e-15, rtol=0.0,
                                            what="e_k vs the geometric-series bound")], "line 1907"))
    # step 7: (1 + alpha U)^(T/alpha) -> e^(UT) from below and the bound at k = T/alpha halves with alpha (ratio in
    # [1.8, 2.2] from alpha = 0.1 to 0.05 to 0.025, U fixed); the path gap itself shrinks with alpha
    alphas = np.array([0.1, 0.05, 0.025])
    powers = (1 + alphas * U) ** (T / alphas)
    bounds = alphas * E * (powers - 1) / U
    gaps = [FI.invariance.path_gap(P, g0, a, T) for a in alphas]
    v.append(Verdict.all_of([
        _holds(bool(np.all(np.diff(powers) > 0) and powers[-1] < np.exp(U * T)), "(1 + alpha U)^(T/alpha) increases to e^UT",
               f"{powers} < {np.exp(U * T):.4g}"),
        Verdict.within(bounds[:-1] / bounds[1:], np.full(2, 1.8), np.full(2, 2.2), rtol=0.0, what="bound halves with alpha"),
        _holds(bool(np.all(np.diff(gaps) < 0)), "the path gap shrinks with alpha", f"{gaps}")], "the limit"))
    return v


# ====================================================================================================================
# Martens, §12.1 (when is J^T B_theta J = B_gamma satisfied; the Hessian)
# ====================================================================================================================

def _certify_section12_1():
    """Exact rationals, n = 1: h = theta^2/2, zeta(g) = g + g^2/2, gamma = 0: J = 1, H = 1, grad h = 0, H_zeta = 1, so
    B_gamma = (h o zeta)''(0) = H J^2 + h'(0) zeta''(0) = 1 = J^T H J (the sufficient condition holds) while the sum
    term K = grad h H_zeta = 0."""
    J, H, gh, Hz = Fraction(1), Fraction(1), Fraction(0), Fraction(1)
    B_gamma, K, JHJ = H * J * J + gh * Hz, gh * Hz, J * H * J
    assert B_gamma == JHJ  # the condition J^T H J = B_gamma holds here
    return Certificate(instance="n = 1, h = theta^2/2, zeta(g) = g + g^2/2, gamma = 0", printed=K == JHJ,
                       corrected=K == 0 * JHJ, arithmetic="exact rationals (fractions)",
                       detail=f"B_gamma = {B_gamma} = J^T H J = {JHJ}, yet K = {K} != J^T H J; K = 0 * J^T H J "
                              "(proportional with constant 0)")


def _section12_1_cases(profile, seed):
    return [Case("the N(mu, sigma) fit, zeta(g) = (g1 + 0.3 g2^2, 0.5 g2 + 0.1 g1^2), at gamma_0 = (0.4, -0.3) and at "
                 "the stationary point", {"problem": FI.invariance.GaussianFitProblem(), "gamma": np.array([0.4, -0.3])})]


@proof(statement="Martens, §12.1 (which curvature matrices satisfy J^T B_theta J = B_gamma)", seed=MARTENS, line=660,
       stated=("B_theta = E_D[J_f^T A J_f] with A invertible and parameterization invariant", "zeta independent of x, y"),
       used=("B_theta = E_D[J_f^T A J_f] with A invertible and parameterization invariant", "zeta independent of x, y"),
       steps=(Step("J_(f o zeta) = J_f J_zeta (the chain rule)", 670, checked=False,
                   how="the chain rule; it is evaluated through the next step, where f o zeta is differentiated directly"),
              Step("B_gamma = J^T B_theta J for the Fisher and the empirical Fisher", 672),
              Step("the Hessian: B_gamma = J^T H J + sum_j [grad h]_j H_[zeta]_j", 678),
              Step("the condition holds iff sum_j [grad h]_j H_[zeta]_j = J^T H J ('=' where a proportionality is meant)",
                   682, holds=False),
              Step("the sum term vanishes when zeta is affine or grad h = 0", 688)),
       result="sound, except that the condition on the Hessian is printed with '=' where the text means a proportionality "
              "(constant 0 allowed), as its own remark says: as printed the 'iff' fails at every stationary point",
       family=FAMILY, source=f"{MARTENS} §12.1", instances=_section12_1_cases,
       erratum=Erratum(
           "misprint",
           "§12.1's condition for the Hessian, sum_j [grad h]_j H_[zeta]_j = J^T H J (and, rearranged, '... = H'), should "
           "read 'proportional to' (with constant 0 allowed, as the text itself adds): with '=' the 'if and only if' fails "
           "wherever grad h = 0 and H != 0, where the condition J^T H J = B_gamma does hold.",
           seed=MARTENS, line=680, passage="holds if and only if",
           evidence="n = 1, h = theta^2/2, zeta(g) = g + g^2/2 at gamma = 0: B_gamma = J^T H J = 1 but the sum term is 0 "
                    "(exact); the check shows the same at the stationary point of the N(mu, sigma) fit",
           certify=_certify_section12_1))
def section12_1_proof(case, rng):
    P, g0 = case.params["problem"], case.params["gamma"]
    gs = RF.stationary_gamma(P)
    v = []
    # step 2: direct gamma-route curvatures (quadrature of differenced scores) vs J^T B J (rtol 1e-6: differences)
    checks = []
    for where, g in (("gamma_0", g0), ("stationary", gs)):
        F, Fbar, _ = RF.gamma_curvatures(P, g)
        checks += [Verdict.close(P.pulled_back("fisher", g), F, rtol=1e-6, atol=1e-8, what=f"Fisher at {where}"),
                   Verdict.close(P.pulled_back("empirical_fisher", g), Fbar, rtol=1e-6, atol=1e-8,
                                 what=f"empirical Fisher at {where}")]
    v.append(Verdict.all_of(checks, "B_gamma = J^T B_theta J"))
    # step 3: the Hessian in gamma (second differences, rtol 1e-5) vs J^T H J + sum_j [grad h]_j H_[zeta]_j
    JHJ, K = RF.hessian_transformation(P, g0)
    v.append(Verdict.close(JHJ + K, RF.gamma_curvatures(P, g0)[2], rtol=1e-5, atol=1e-6, what="Hessian transformation"))
    # step 4 (false as printed): at the stationary point B_gamma = J^T H J (the condition holds) but K = 0 != J^T H J
    JHJs, Ks = RF.hessian_transformation(P, gs)
    Bs = RF.gamma_curvatures(P, gs)[2]
    cond = np.allclose(Bs, JHJs, rtol=1e-5, atol=1e-6)
    scale = np.max(np.abs(JHJs))
    v.append(_shown_false(not cond or np.allclose(Ks, JHJs, rtol=1e-3, atol=1e-3 * scale),
                          "iff K = J^T H J", f"at the stationary point B_gamma = J^T H J, |K| = {np.max(np.abs(Ks)):.2g}, "
                          f"|J^T H J| = {scale:.3g}"))
    # step 5: K = 0 at the stationary point (grad h = 0 there to 1e-9) and for an affine zeta (a = c = 0) everywhere
    affine = FI.invariance.GaussianFitProblem(a=0.0, c=0.0)
    v.append(Verdict.all_of([Verdict.close(Ks, 0.0, rtol=0.0, atol=1e-7 * scale, what="K at the stationary point"),
                             Verdict.close(RF.hessian_transformation(affine, g0)[1], 0.0, rtol=0.0, atol=1e-12,
                                           what="K for an affine zeta")], "K vanishes"))
    return v


# ====================================================================================================================
# Martens, §9.1-9.2 (F = E[J_f^T F_R J_f]; F_R = H_L in natural parameters; the (mu, log sigma^2) example)
# ====================================================================================================================

def _section9_cases(profile, seed):
    r = np.random.default_rng([seed, 102])
    out = []
    for kind in ("gaussian_natural", "gaussian_mu_logvar"):
        net = FI.ggn.TanhNet(2, 3, 2, offset=(0.0, -1.0) if kind == "gaussian_natural" else None)
        th = r.normal(0, 1, net.P)
        if kind == "gaussian_natural":
            th[6:] = r.uniform(-0.2, 0.2, 6)  # |W2 tanh| < 0.6 keeps z_2 = -1 + ... < 0
        out.append(Case(f"tanh net 2-3-2, 3 inputs, output {kind}", {"net": net, "theta": th, "kind": kind,
                                                                      "X": r.normal(size=(3, 2))}))
    return out


@proof(statement="Martens, §9.1-9.2 (eq. 7 and the Fisher/GGN equivalence)", seed=MARTENS, line=396,
       stated=("L(y, z) = -log r(y|z)", "for eq. 8: R_y|z an exponential family with natural parameters z"),
       used=("L(y, z) = -log r(y|z)", "for eq. 8: R_y|z an exponential family with natural parameters z"),
       steps=(Step("grad log p(y|x, theta) = J_f^T grad_z log r(y|z)", 396),
              Step("eq. 7: F = E_x[J_f^T F_R J_f]", 402),
              Step("F_R = -E_R[H_log r]", 410),
              Step("F_R = H_L iff E_R[H_log r] = H_log r (eq. 8); for (mu, log sigma^2) they differ, F_R = E_R[H_L]", 440),
              Step("natural parameters: H_log r = -H_log Z, independent of y, so F_R = H_L", 448),
              Step("the (mu, gamma = log sigma^2) loss Hessian H_L = e^-gamma [[1, y - mu], [y - mu, (y - mu)^2/2]]", 470),
              Step("H_L is indefinite, e.g. at y = 2, mu = gamma = 0 (in fact at every y != mu)", 472),
              Step("reparameterizing (mu, gamma) into natural parameters gives the same curvature, the Fisher", 474)),
       result="sound (the sharpening of 'indefinite for certain settings' is on fisher.logvar_hessian_indefinite)",
       family=FAMILY, source=f"{MARTENS} §9.1-9.2, eqs 7-8", instances=_section9_cases)
def section9_proof(case, rng):
    net, th, kind, X = (case.params[k] for k in ("net", "theta", "kind", "X"))
    v = []
    # step 1: score of one (x, y) by differences of -log r (h = 1e-6) vs J_f^T grad_z log r
    x = X[0]
    z = net.output(th, x)
    ys, _ = RF._model_outcomes(kind, z)
    v.append(Verdict.all_of([Verdict.close(-RF._network_score(net, th, x, y, kind, 1e-6),
                                           -net.jacobian(th, x).T @ FI.ggn.loss_gradient(kind, y, z), rtol=1e-6, atol=1e-8,
                                           what=f"score at y = {y:.3g}") for y in ys], "score chain rule"))
    # step 2: eq. 7 vs mean_x E_y[s s^T] with differenced scores and exact quadrature (rtol 1e-6)
    F = FI.ggn.fisher(net, th, X, kind)
    v.append(Verdict.close(F, RF.network_fisher_by_scores(net, th, X, kind), rtol=1e-6, atol=1e-8 * np.max(np.abs(F)),
                           what="eq. 7"))
    # step 3: F_R = -E[H_log r] on the 2-D Gaussian (differences inside Gauss-Hermite; rtol 1e-4 as fisher.py)
    param = "natural" if kind == "gaussian_natural" else "mu_log_var"
    mu, sd = FI.gaussian_mean_sd(z, param)
    FR = FI.ggn.output_fisher(kind, z)
    v.append(Verdict.close(FR, RF.gaussian_fisher_routes(mu, sd, param)[1], rtol=1e-4, atol=1e-5 * np.max(np.abs(FR)),
                           what="F_R vs -E[H log r]"))
    # step 4: E_R[H_L] = F_R (exact quadrature, rtol 1e-10); H_L(y) != F_R for (mu, log sigma^2) at y != mu
    ys, ws = RF._model_outcomes(kind, z, degree=2)
    EH = sum(w * FI.ggn.loss_hessian(kind, y, z) for y, w in zip(ys, ws))
    step4 = [Verdict.close(EH, FR, rtol=1e-10, atol=1e-12 * np.max(np.abs(FR)), what="E_R[H_L] vs F_R")]
    # step 5: natural parameters: H_L the same at every label and equal to F_R; otherwise it varies with y
    Hs = [FI.ggn.loss_hessian(kind, y, z) for y in (mu - 2.0, mu, mu + 3.0)]
    if kind == "gaussian_natural":
        step5 = Verdict.all_of([Verdict.close(H, FR, rtol=1e-12, atol=1e-14, what="H_L(y) vs F_R") for H in Hs], "natural")
    else:
        spread = max(np.max(np.abs(H - FR)) for H in Hs) / np.max(np.abs(FR))
        step4.append(_holds(spread > 1e-2, "H_L(y) != F_R for (mu, log sigma^2)", f"relative gap {spread:.3g}"))
        step5 = Verdict.close(FI.ggn.loss_hessian("gaussian_natural", 0.3, [0.5, -0.7]),
                              FI.ggn.output_fisher("gaussian_natural", [0.5, -0.7]), rtol=1e-12, atol=1e-14,
                              what="natural parameters: H_L vs F_R")
    v.append(Verdict.all_of(step4, "eq. 8"))
    v.append(step5)
    # step 6: the printed H_L vs the library and second differences (rtol 1e-6)
    grid = [(2.0, 0.0, 0.0), (-1.0, 0.5, 1.0), (0.3, 0.3, -0.5)]
    printed = lambda y, m, g: np.exp(-g) * np.array([[1, y - m], [y - m, (y - m) ** 2 / 2]])  # noqa: E731
    v.append(Verdict.all_of([Verdict.close(FI.gaussian_mu_logvar_hessian(y, m, g), printed(y, m, g), rtol=1e-14, atol=0.0,
                                           what="library vs printed") for y, m, g in grid]
                            + [Verdict.close(RF.logvar_loss_hessian(y, m, g), printed(y, m, g), rtol=1e-6, atol=1e-7,
                                             what="differences vs printed") for y, m, g in grid], "H_L"))
    # step 7: indefinite at the paper's point and at random y != mu; det = -(y - mu)^2 e^-2gamma / 2
    r = np.random.default_rng(3)
    pts = [(2.0, 0.0, 0.0)] + [tuple(r.normal(0, 2, 3)) for _ in range(10)]
    eig = [np.linalg.eigvalsh(FI.gaussian_mu_logvar_hessian(*p)) for p in pts]
    v.append(_holds(all(e[0] < 0 < e[1] for e in eig), "H_L indefinite", f"eigenvalues at the paper's point {eig[0]}"))
    # step 8: J^T F_natural J = F_(mu, log sigma^2) with J = d natural / d (mu, log sigma^2) by differences (rtol 1e-7)
    Jn = RF.coordinate_jacobian(mu, sd, "mu_log_var", "natural")
    Fn = FI.gaussian_fisher(mu, sd, "natural")
    v.append(Verdict.close(Jn.T @ Fn @ Jn, FI.gaussian_fisher(mu, sd, "mu_log_var"), rtol=1e-7, atol=1e-9,
                           what="GGN through natural parameters vs F"))
    return v


# ====================================================================================================================
# Martens, §11.1 (the empirical-Fisher example)
# ====================================================================================================================

@proof(statement="Martens, §11.1 (the empirical Fisher's one-parameter example)", seed=MARTENS, line=533,
       stated=("n = 1, f(x, theta) = theta, R = N(z, 1), S = {(0, 0)}", "1/2 <= xi <= 1", "0 < alpha < 2 (Fisher iteration)"),
       used=("n = 1, f(x, theta) = theta, R = N(z, 1), S = {(0, 0)}", "1/2 <= xi <= 1", "0 < alpha < 2 (Fisher iteration)"),
       steps=(Step("h = theta^2/2, grad h = theta, F-bar = theta^2, F = 1", 533),
              Step("theta - alpha (F-bar^xi)^-1 grad h = (1 - alpha |theta|^-2xi) theta", 535),
              Step("the middle expression theta - alpha (theta^2)^xi theta", 535, holds=False),
              Step("with a fixed alpha the empirical-Fisher iteration does not converge (xi = 1/2, 3/4, 1)", 537),
              Step("with alpha_k -> 0 it converges no faster than alpha_k (xi = 1/2, alpha_k = 0.5/(k+1))", 537),
              Step("the Fisher iteration: |theta_k| = |1 - alpha|^k |theta_0| for 0 < alpha < 2", 541)),
       result="sound except the middle expression's missing inverse (see fisher.empirical_fisher_section_11_1); the "
              "necessity of 'xi < 1' for convergence with decaying alpha_k is not audited",
       family=FAMILY, source=f"{MARTENS} §11.1",
       instances=lambda profile, seed: [Case("theta_0 = 1.1", {"theta0": 1.1})])
def section11_proof(case, rng):
    th0 = case.params["theta0"]
    v = []
    # step 1: from the model: h and its derivative by differences, F-bar = score^2 at y = 0, F = E_y[score^2] by
    # Gauss-Hermite (exact for the quadratic integrand)
    rows = []
    for th in (-1.7, 0.4, 1.1, 2.5):
        logr = lambda t, y: -0.5 * (y - t) ** 2 - 0.5 * np.log(2 * np.pi)  # noqa: E731
        h = -logr(th, 0.0) - 0.5 * np.log(2 * np.pi)
        gh = (-logr(th + 1e-6, 0.0) + logr(th - 1e-6, 0.0)) / 2e-6
        score = lambda y: (logr(th + 1e-6, y) - logr(th - 1e-6, y)) / 2e-6  # noqa: E731
        nodes, w = np.polynomial.hermite_e.hermegauss(5)
        F = float(np.sum(w / w.sum() * score(th + nodes) ** 2))
        rows.append(((h, gh, score(0.0) ** 2, F), (th * th / 2, th, th * th, 1.0)))
    got, want = map(np.array, zip(*rows))
    v.append(Verdict.close(got, want, rtol=1e-7, atol=1e-9, what="h, grad h, F-bar, F"))
    # step 2: the library's empirical-Fisher step (one step from several theta) vs the definition
    ths = np.array([-1.7, 0.4, 1.1, 2.5])
    for xi in (0.5, 0.75, 1.0):
        lib = np.array([FI.empirical_fisher_iterates(t, 0.5, 1, xi)[1] for t in ths])
        v_def = ths - 0.5 * (ths * ths) ** -xi * ths
        if xi == 0.5:
            step2 = [Verdict.close(lib, v_def, rtol=1e-14, atol=1e-15, what=f"xi = {xi}")]
        else:
            step2.append(Verdict.close(lib, v_def, rtol=1e-14, atol=1e-15, what=f"xi = {xi}"))
    step2.append(Verdict.close(ths - 0.5 * (ths * ths) ** -1.0 * ths, (1 - 0.5 * np.abs(ths) ** -2.0) * ths, rtol=1e-14,
                               atol=0.0, what="definition vs right-hand side"))
    v.append(Verdict.all_of(step2, "the iteration"))
    # step 3 (false): the middle expression differs from the definition wherever |theta| != 1
    middle = ths - 0.5 * (ths * ths) ** 1.0 * ths
    v.append(_shown_false(bool(np.allclose(middle, ths - 0.5 * (ths * ths) ** -1.0 * ths)), "the middle expression",
                          f"middle {middle} vs definition {ths - 0.5 / ths}"))
    # step 4: fixed alpha = 0.5: median |theta_k| over steps 100-200 > 1e-3 for each xi
    meds = [float(np.median(np.abs(FI.empirical_fisher_iterates(th0, 0.5, 200, xi)[100:]))) for xi in (0.5, 0.75, 1.0)]
    v.append(_holds(min(meds) > 1e-3, "no convergence with fixed alpha", f"medians {meds}"))
    # step 5: alpha_k = 0.5/(k+1), xi = 1/2: |theta_k| <= alpha_(k-1) over the last half (the step is alpha_k sign theta)
    alphas = 0.5 / (np.arange(200) + 1.0)
    it = FI.empirical_fisher_iterates(th0, alphas, 200, 0.5)
    v.append(Verdict.within(np.abs(it[101:]), np.zeros(100), alphas[100:] * (1 + 1e-12), rtol=0.0,
                            what="|theta_k| <= alpha_(k-1)"))
    # step 6: the Fisher iteration's linear rate, for alpha in (0.3, 1.0, 1.7)
    v.append(Verdict.all_of([Verdict.close(np.abs(FI.fisher_iterates(th0, a, 40)), abs(1 - a) ** np.arange(41) * th0,
                                           rtol=1e-12, atol=0.0, what=f"alpha = {a}") for a in (0.3, 1.0, 1.7)],
                            "Fisher iteration"))
    return v


# ====================================================================================================================
# Martens, §13 (M(delta) as F_R-weighted squared distances; the bound; the minimum-norm step)
# ====================================================================================================================

def _section13_cases(profile, seed):
    r = np.random.default_rng([seed, 103])
    x = np.hstack([r.standard_normal((10, 2)), np.ones((10, 1))])
    return [Case("softmax regression, K = 3, p = 3, |S| = 10", {"problem": FI.quadratic_model.SoftmaxRegression(
        x, r.integers(0, 3, 10), 3), "theta": 0.5 * r.standard_normal(9)})]


@proof(statement="Martens, §13 (M(delta) as a sum of F_R-weighted distances)", seed=MARTENS, line=692,
       stated=("F and grad h computed on the same data S", "each F_R invertible (for the minimum-norm step)"),
       used=("F and grad h computed on the same data S", "each F_R invertible (for the minimum-norm step)"),
       steps=(Step("M's quadratic term: F = (1/|S|) sum J_f^T F_R J_f", 694),
              Step("M's linear term written as (1/|S|) sum (J_f^T grad_z log r)^T delta", 694, holds=False),
              Step("completing the square (corrected sign): M = (1/|S|) sum 1/2 ||J_f delta - F_R^-1 grad_z log r||^2_F_R + c",
                   694),
              Step("c = h - (1/(2|S|)) sum grad_z log r^T F_R^-1 grad_z log r, independent of delta", 696),
              Step("M(delta) - h >= -(1/(2|S|)) sum grad_z log r^T F_R^-1 grad_z log r", 706),
              Step("F singular: the minimum-norm minimizer of M exists (pseudo-inverse of F)", 710)),
       result="sound up to the sign misprint of the linear term (see fisher.section13_quadratic_model); the hypothesis "
              "'each F_R invertible' excludes the softmax (F_R 1 = 0), yet the argument holds with F_R^+ because "
              "grad_z log r = e_y - p lies in the range of F_R",
       family=FAMILY, source=f"{MARTENS} §13", instances=_section13_cases)
def section13_proof(case, rng):
    P, th = case.params["problem"], case.params["theta"]
    Q = FI.quadratic_model
    Js, G, p = P.jacobians(), P.log_r_gradients(th), P._probs(th)
    FRs = [FI.categorical_fisher(z) for z in P._logits(th)]
    n = len(P.y)
    v = []
    F = P.fisher(th)
    v.append(Verdict.close(F, sum(J.T @ FR @ J for J, FR in zip(Js, FRs)) / n, rtol=1e-12, atol=1e-14, what="F = mean J^T F_R J"))
    # step 2 (false): the printed linear term is -grad h^T delta
    r = np.random.default_rng(5)
    ds = r.standard_normal((5, P.P))
    printed = np.array([np.mean([(J.T @ g) @ d for J, g in zip(Js, G)]) for d in ds])
    true = ds @ P.grad(th)
    v.append(_shown_false(bool(np.allclose(printed, true, rtol=1e-10, atol=1e-12)), "linear term",
                          f"printed == -grad h^T delta: {bool(np.allclose(printed, -true, rtol=1e-10, atol=1e-12))}"))
    # step 3: grad_z log r in range(F_R) (F_R F_R^+ g = g, atol 1e-12) and the corrected distance form == M (rtol 1e-10)
    pinvs = [FI.categorical_fisher_pinv(z) for z in P._logits(th)]
    rng_ok = [Verdict.close(FR @ Pi @ g, g, rtol=0.0, atol=1e-12, what="F_R F_R^+ g") for FR, Pi, g in zip(FRs, pinvs, G)]
    M = np.array([Q.quadratic_model(P, th, d) for d in ds])
    dist = np.array([np.mean([0.5 * (J @ d - Pi @ g) @ FR @ (J @ d - Pi @ g) for J, g, FR, Pi in zip(Js, G, FRs, pinvs)])
                     for d in ds])
    c = P.h(th) - 0.5 * np.mean([g @ Pi @ g for g, Pi in zip(G, pinvs)])
    v.append(Verdict.all_of(rng_ok + [Verdict.close(dist + c, M, rtol=1e-10, atol=1e-12, what="distance form"),
                                      Verdict.close([Q.quadratic_model_as_distances(P, th, d) for d in ds], M, rtol=1e-10,
                                                    atol=1e-12, what="library distance form")], "completing the square"))
    # step 4: M - distances is the same c for every delta (rtol 1e-10)
    v.append(Verdict.close(M - dist, np.full(5, c), rtol=1e-10, atol=1e-12, what="c"))
    # step 5: the bound, its closed form -(1/2|S|) sum (1 - p_y)/p_y, and M(delta) - h >= it at 20 random delta
    bound = Q.improvement_bound(P, th)
    Ms = np.array([Q.quadratic_model(P, th, d) for d in r.standard_normal((20, P.P))]) - P.h(th)
    v.append(Verdict.all_of([Verdict.close(bound, RF.section13_bound(P, th), rtol=1e-10, what="bound closed form"),
                             _holds(bool(np.all(Ms >= bound - 1e-12)), "M - h >= bound at 20 random delta",
                                    f"smallest M - h = {Ms.min():.4g}, bound {bound:.4g}")], "the bound"))
    # step 6: delta* = -F^+ grad h solves F delta = -grad h, has no component in null(F) (1 kron e_j) and minimizes M
    star = Q.min_norm_natural_gradient(P, th)
    null = np.linalg.qr(np.array([np.kron(np.ones(P.K), np.eye(3)[j]) for j in range(3)]).T)[0]
    Mstar = Q.quadratic_model(P, th, star)
    others = np.array([Q.quadratic_model(P, th, star + 0.3 * d) for d in r.standard_normal((20, P.P))])
    v.append(Verdict.all_of([Verdict.close(F @ star, -P.grad(th), rtol=0.0, atol=1e-10, what="F delta* = -grad h"),
                             Verdict.close(null.T @ star, 0.0, rtol=0.0, atol=1e-12 * max(1, np.linalg.norm(star)),
                                           what="delta* orthogonal to null(F)"),
                             _holds(bool(np.all(others >= Mstar - 1e-12)), "M(delta) >= M(delta*) at 20 random delta",
                                    f"M(delta*) = {Mstar:.6g}, smallest other {others.min():.6g}")], "minimum-norm step"))
    return v


# ====================================================================================================================
# Shrestha, Appendix A.1-A.3 (E[s] = 0, F = E[s s^T] = -E[H], F = Hessian of the KL)
# ====================================================================================================================

def _shrestha_a123_cases(profile, seed):
    return [Case(f"N(0.7, 1.3^2) in {p} coordinates; logits (2, -1, 0.5)", {"param": p}) for p in ("mu_log_sigma", "natural")]


@proof(statement="Shrestha, Appendix A.1-A.3 (score, Fisher, Hessian and KL)", seed=SHRESTHA, line=264,
       stated=("p(x|theta) a density, differentiable in theta", "differentiation and integration may be interchanged"),
       used=("p(x|theta) a density, differentiable in theta", "differentiation and integration may be interchanged"),
       steps=(Step("eqs 5-6: Cov[s] = E[s s^T] (since E[s] = 0)", 52),
              Step("A.1, eq. 19: E[s] = int grad p = grad int p = 0", 266),
              Step("A.2: H(l) = H(p)/p - s s^T pointwise", 280),
              Step("A.2: E[H(p)/p] = int H(p) = H(int p) = 0", 287),
              Step("A.2, eq. 20: F = -E[H(l)]", 292),
              Step("A.3, eq. 23: grad_theta' KL(p_theta || p_theta') = -E_theta[grad log p_theta'] (any theta')", 310),
              Step("A.3, eq. 24: Hessian_theta' KL = -E_theta[H(l(theta'))] (any theta')", 312),
              Step("A.3, eq. 25: at theta' = theta the KL Hessian is F", 316)),
       result="sound (eq. 21 repeats the end of eq. 20)",
       family=FAMILY, source=f"{SHRESTHA} §2.1 and Appendix A.1-A.3", instances=_shrestha_a123_cases)
def shrestha_a123_proof(case, rng):
    param = case.params["param"]
    mu, sd = 0.7, 1.3
    z = FI.gaussian_coordinates(mu, sd, param)
    F = FI.gaussian_fisher(mu, sd, param)
    Fs, Fh, mean = RF.gaussian_fisher_routes(mu, sd, param)
    nodes, w = RF._NODES, RF._WEIGHTS
    y = mu + sd * nodes
    S = RF._score(y, z, param)
    scale = np.max(np.abs(F))
    logits = np.array([2.0, -1.0, 0.5])
    Fc, mean_c, Hc = RF.categorical_routes(logits)
    v = []
    # step 1: covariance of the score == its second moment == F (quadrature of differenced scores, rtol 1e-7)
    cov = ((S - mean[:, None]) * w) @ (S - mean[:, None]).T
    v.append(Verdict.all_of([Verdict.close(cov, Fs, rtol=1e-7, atol=1e-9 * scale, what="Cov[s] vs E[s s^T]"),
                             Verdict.close(Fs, F, rtol=1e-7, atol=1e-9 * scale, what="E[s s^T] vs F")], "eqs 5-6"))
    # step 2: E[s] = 0 (atol 1e-7 sqrt|F|: differenced scores) for the Gaussian, exactly (1e-15) for the categorical
    v.append(Verdict.all_of([Verdict.close(mean, 0.0, rtol=0.0, atol=1e-7 * np.sqrt(scale), what="E[s], Gaussian"),
                             Verdict.close(mean_c, 0.0, rtol=0.0, atol=1e-15, what="E[s], categorical")], "A.1"))
    # step 3: at 5 points y: H(l) (nested differences) vs H(p)/p - s s^T (H(p) by second differences of p; rtol 1e-4)
    pdf = lambda yy, zz: np.exp(RF._logpdf(yy, zz, param))  # noqa: E731
    rows = []
    for yy in (mu - 2 * sd, mu - 0.5 * sd, mu, mu + sd, mu + 2.5 * sd):
        Hl = RF._hessian(np.array(yy), z, param)
        Hp = RF.hessian_by_differences(lambda t: pdf(yy, t), z, 1e-4 * np.maximum(1.0, np.abs(z)))
        s = RF._score(np.array(yy), z, param)
        rows.append(Verdict.close(Hl, Hp / pdf(yy, z) - np.outer(s, s), rtol=1e-4, atol=1e-5 * scale, what=f"y = {yy:.3g}"))
    v.append(Verdict.all_of(rows, "A.2 pointwise"))
    # step 4: E[H(p)/p] = 0 by quadrature (rtol of the scale 1e-4: nested differences)
    Hpp = sum(wi * RF.hessian_by_differences(lambda t, yy=yy: pdf(yy, t), z, 1e-4 * np.maximum(1.0, np.abs(z))) / pdf(yy, z)
              for yy, wi in zip(y, w))
    v.append(Verdict.close(Hpp, 0.0, rtol=0.0, atol=1e-4 * scale, what="E[H(p)/p]"))
    # step 5: F = -E[H(l)] (Gaussian: rtol 1e-4; categorical: the Hessian of log-sum-exp, rtol 1e-5)
    v.append(Verdict.all_of([Verdict.close(F, Fh, rtol=1e-4, atol=1e-5 * scale, what="Gaussian"),
                             Verdict.close(FI.categorical_fisher(logits), Hc, rtol=1e-5, atol=1e-6, what="categorical"),
                             Verdict.close(FI.categorical_fisher(logits), Fc, rtol=1e-12, atol=1e-15,
                                           what="categorical E[s s^T]")], "eq. 20"))
    # step 6 and 7 at theta' != theta: differences of the closed-form KL vs quadrature of scores / Hessians at theta'
    z2 = z + np.array([0.15, -0.1]) * np.maximum(1.0, np.abs(z))
    kl = lambda t: FI.gaussian_kl(z, t, param)  # noqa: E731
    grad_kl = _grad_by_differences(kl, z2, 1e-6)
    Eg = RF._score(y, z2, param) @ w
    hess_kl = RF.hessian_by_differences(kl, z2, 1e-4 * np.maximum(1.0, np.abs(z2)))
    EH = np.einsum("abn,n->ab", RF._hessian(y, z2, param), w)
    v.append(Verdict.close(grad_kl, -Eg, rtol=1e-6, atol=1e-8 * np.sqrt(scale), what="eq. 23 at theta' != theta"))
    v.append(Verdict.close(hess_kl, -EH, rtol=1e-4, atol=1e-5 * scale, what="eq. 24 at theta' != theta"))
    # step 8: at theta' = theta (reference route: the KL written out again in verification/reference)
    v.append(Verdict.close(RF.kl_hessian_by_differences(z, param, "forward"), F, rtol=1e-5, atol=1e-6 * scale,
                           what="eq. 25"))
    return v


# ====================================================================================================================
# Shrestha, Appendix A.4-A.5 (Woodbury form of damped block NGD; TENGraD, eqs 27-43)
# ====================================================================================================================

def _shrestha_a45_cases(profile, seed):
    r = np.random.default_rng([seed, 104])
    return [Case(f"d_in = {a}, d_out = {b}, m = {m}, beta = {beta:g}",
                 {"I": r.standard_normal((a, m)), "G": r.standard_normal((b, m)), "g": r.standard_normal((a, b)),
                  "v": r.standard_normal(m), "beta": beta})
            for (a, b, m), beta in (((4, 3, 5), 1e-2), ((3, 4, 4), 0.5), ((5, 2, 12), 1.0))]


@proof(statement="Shrestha, Appendix A.4-A.5 (Woodbury and TENGraD, eqs 26-43)", seed=SHRESTHA, line=320,
       stated=("beta > 0", "per-example layer gradients vec(I_i G_i^T) (eq. 33)"),
       used=("beta > 0", "per-example layer gradients vec(I_i G_i^T) (eq. 33)"),
       steps=(Step("eq. 27: the Woodbury identity", 328),
              Step("eq. 28, line 2: A = beta I, C = I, U = J^T/m, V = J", 332),
              Step("eq. 28: = I/beta - J^T/(m beta) (I + J J^T/(m beta))^-1 J/beta", 332),
              Step("eq. 28: (J^T J/m + beta I)^-1 = (1/beta)(I - J^T/m (beta I + J J^T/m)^-1 J)", 332),
              Step("eq. 33: g_l = (1/m) I_l G_l^T", 363),
              Step("eq. 34: J_l = (I_l * G_l)^T, row i = I_:i kron G_:i = vec(I_:i G_:i^T)", 367),
              Step("eq. 37: (1/m) sum grad l_i grad l_i^T = J^T J / m", 387),
              Step("eq. 40: the update (damped_block_direction, Woodbury and TENGraD) = (J^T J/m + beta I)^-1 g", 398),
              Step("<u1 kron v1, u2 kron v2> = u1^T u2 v1^T v2", 400),
              Step("eq. 41: J_l J_l^T = I^T I o G^T G", 402),
              Step("eq. 42 as printed: J_l vec(g) = ((g^T I) o G) 1", 406, holds=False),
              Step("eq. 43: J_l^T v = I (v 1^T o G^T)", 410)),
       result="sound up to eq. 42's misplaced ones vector and eq. 43's missing v (see fisher.tengrad_forms_agree)",
       family=FAMILY, source=f"{SHRESTHA} Appendix A.4-A.5, eqs 26-43", instances=_shrestha_a45_cases)
def shrestha_a45_proof(case, rng):
    I, G, g, vv, beta = (case.params[k] for k in ("I", "G", "g", "v", "beta"))
    (d_in, m), d_out = I.shape, G.shape[0]
    J = np.array([np.kron(I[:, i], G[:, i]) for i in range(m)])  # eq. 34 written out: rows I_:i kron G_:i
    P = J.shape[1]
    Id, Im = np.eye(P), np.eye(m)
    inv = np.linalg.inv(J.T @ J / m + beta * Id)
    # tolerances: relative 1e-9 of the largest entry, times cond (<= 1e4 here)
    tol = 1e-12 * max(np.linalg.cond(J.T @ J / m + beta * Id), 1.0) + 1e-10
    sc = np.max(np.abs(inv))
    v = []
    r = np.random.default_rng(9)
    A = r.standard_normal((4, 4))
    A = A @ A.T + 4 * np.eye(4)
    U, C, V = r.standard_normal((4, 2)), np.diag([1.5, 0.7]), r.standard_normal((2, 4))
    Ai = np.linalg.inv(A)
    v.append(Verdict.close(np.linalg.inv(A + U @ C @ V), Ai - Ai @ U @ np.linalg.inv(np.linalg.inv(C) + V @ Ai @ U) @ V @ Ai,
                           rtol=1e-10, atol=1e-12, what="eq. 27"))
    line2 = Id / beta - Id / beta @ (J.T / m) @ np.linalg.inv(Im + J @ (Id / beta) @ J.T / m) @ J @ Id / beta
    v.append(Verdict.close(line2, inv, rtol=0.0, atol=tol * sc, what="eq. 28 line 2"))
    line4 = Id / beta - J.T / (m * beta) @ np.linalg.inv(Im + J @ J.T / (m * beta)) @ J / beta
    v.append(Verdict.close(line4, inv, rtol=0.0, atol=tol * sc, what="eq. 28 line 4"))
    final = (Id - J.T / m @ np.linalg.inv(beta * Im + J @ J.T / m) @ J) / beta
    v.append(Verdict.close(final, inv, rtol=0.0, atol=tol * sc, what="eq. 28 final"))
    # eq. 33: the mean of the per-example gradients I_:i G_:i^T
    v.append(Verdict.close(np.mean([np.outer(I[:, i], G[:, i]) for i in range(m)], axis=0), I @ G.T / m, rtol=1e-12,
                           atol=1e-14, what="eq. 33"))
    # eq. 34: the library's per-example Jacobian vs the Kronecker rows and vec(I_:i G_:i^T) (row-major)
    v.append(Verdict.all_of([Verdict.close(FI.per_example_jacobian(I, G), J, rtol=1e-14, atol=1e-14, what="J vs kron rows"),
                             Verdict.close(J, np.array([np.outer(I[:, i], G[:, i]).ravel() for i in range(m)]),
                                           rtol=0.0, atol=0.0, what="kron vs vec(outer)")], "eq. 34"))
    v.append(Verdict.close(sum(np.outer(J[i], J[i]) for i in range(m)) / m, J.T @ J / m, rtol=1e-12, atol=1e-14,
                           what="eq. 37"))
    u = g.ravel()
    ref = inv @ u
    v.append(Verdict.all_of([Verdict.close(FI.damped_block_direction(I, G, u, beta, meth), ref, rtol=0.0,
                                           atol=tol * np.max(np.abs(ref)), what=meth) for meth in ("woodbury", "tengrad")]
                            + [Verdict.close((u - J.T / m @ np.linalg.solve(J @ J.T / m + beta * Im, J @ u)) / beta, ref,
                                             rtol=0.0, atol=tol * np.max(np.abs(ref)), what="eq. 40 as printed")], "eq. 40"))
    a1, a2, b1, b2 = I[:, 0], I[:, 1], G[:, 0], G[:, 1]
    v.append(Verdict.close(np.kron(a1, b1) @ np.kron(a2, b2), (a1 @ a2) * (b1 @ b2), rtol=1e-12, atol=1e-14,
                           what="Kronecker inner product"))
    v.append(Verdict.all_of([Verdict.close(FI.tengrad_gram(I, G), (I.T @ I) * (G.T @ G), rtol=1e-12, atol=1e-12, what="library"),
                             Verdict.close(J @ J.T, (I.T @ I) * (G.T @ G), rtol=1e-12, atol=1e-12, what="J J^T")], "eq. 41"))
    # eq. 42 (false as printed): ((g^T I) o G) 1 has d_out entries (row sums); J vec(g) = 1^T ((g^T I) o G) has m
    had = (g.T @ I) * G
    printed, corrected, Jg = had @ np.ones(m), np.ones(d_out) @ had, J @ u
    same = printed.shape == Jg.shape and bool(np.allclose(printed, Jg, rtol=1e-10, atol=1e-12))
    v.append(Verdict.all_of([_shown_false(same, "eq. 42 as printed", f"{printed.size} entries vs {Jg.size}"),
                             Verdict.close(corrected, Jg, rtol=1e-12, atol=1e-12, what="1^T ((g^T I) o G)"),
                             Verdict.close(FI.jacobian_vector(I, G, g), Jg, rtol=1e-12, atol=1e-12, what="library")], "eq. 42"))
    v.append(Verdict.all_of([Verdict.close(I @ (np.outer(vv, np.ones(d_out)) * G.T), (J.T @ vv).reshape(d_in, d_out),
                                           rtol=1e-12, atol=1e-12, what="I (v 1^T o G^T) vs J^T v"),
                             Verdict.close(FI.jacobian_transpose_vector(I, G, vv).ravel(), J.T @ vv, rtol=1e-12, atol=1e-12,
                                           what="library")], "eq. 43"))
    return v
