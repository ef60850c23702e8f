"""Proof audit (issue 16 §3) of Ollivier's TANGO paper (000_3b01ec78f4f92394.txt): Proposition 2, Proposition 4,
Theorem 5 with Lemmas 6-11 and Corollary 8, Theorem 3 as its corollary with footnote 3, and footnote 2.

Every checked step is evaluated on small instances from the hypothesis region.  Identities (eqs 17-19, 22-23,
51-57, 61, 66-73) are checked along computed trajectories to rounding (1e-10 relative to the scale of the terms:
a few hundred float64 operations).  Expectations are exact wherever the law is finite: Rademacher-driven F^ and A^
are enumerated outcome by outcome (Lemmas 6, 7, 9, 10, Corollary 8, footnote 3), so conditional expectations,
martingale identities, Doob's and Markov's inequalities are checked on exact probabilities, with no Monte Carlo.
The O(dt) / O(dt^2) / O(sqrt(dt)) estimates are checked as explicit inequalities with the constants the proofs
produce (Lipschitz constants computed from the instance), or as local slopes on a dt grid (Proposition 4).

The library is called through ``theorytools.tango`` (``T.name``) at run time, so a test can plant a wrong formula
there and see the audit FAIL at the step that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction as Fr
from itertools import product

import numpy as np

import theorytools.tango as T
from theorytools.tango import instances as TI
from verification.audit import Step, proof
from verification.errata import Certificate, Erratum
from verification.reference import tango as RT
from verification.verdict import FAIL, PASS, Verdict

SRC = "000_3b01ec78f4f92394.txt"
RTOL = 1e-10  # identities along trajectories of <= a few hundred steps: rounding ~1e-13 relative to the terms


@dataclass(frozen=True, eq=False)
class Inst:
    name: str
    params: dict = field(default_factory=dict)


def _one(name, **params):
    return lambda profile, seed: [Inst(name, dict(params, seed=seed))]


def _eq(a, b, what, scale=None):
    """``a == b`` to rounding, relative to ``scale`` (default: the largest entry of b, at least 1e-300)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    s = float(np.max(np.abs(b))) if scale is None else float(scale)
    return Verdict.close(a, b, rtol=RTOL, atol=RTOL * max(s, 1e-300), what=what)


def _le(lhs, rhs, what, rtol=1e-10, scale=0.0):
    """``lhs <= rhs`` elementwise, up to ``rtol`` times the larger side (or ``scale``, the size of the terms that
    were summed: both sides may be rounding-level when the bound is tight at 0)."""
    lhs, rhs = np.atleast_1d(np.asarray(lhs, dtype=float)), np.atleast_1d(np.asarray(rhs, dtype=float))
    slack = rtol * np.maximum(np.maximum(np.abs(rhs), np.abs(lhs)), scale) + 1e-300
    with np.errstate(over="ignore", divide="ignore"):  # Verdict.within's relative gaps at a value of 0
        return Verdict.within(lhs, lhs, rhs + slack, rtol=0.0, what=what)


def _shown_false(printed: Verdict, what: str) -> Verdict:
    """A step the audit says is false as printed: PASS when the printed relation indeed fails."""
    if printed.failed:
        return Verdict(PASS, "deterministic", f"{what}: fails as printed ({printed.message})")
    return Verdict(FAIL, "deterministic", f"{what}: holds on this instance, though the audit says it is false "
                   f"({printed.message})")


def _all(vs, what):
    return Verdict.all_of(vs, what)


# == Proposition 2 ==================================================================================

def _prop2_trajectory(inst, rng):
    m = inst.model
    K = 60
    idx = rng.integers(0, inst.x.shape[0], K)
    x, y = inst.x[idx], inst.y[idx]
    theta0 = np.linalg.lstsq(inst.x, inst.y, rcond=None)[0] + 0.3 * rng.standard_normal(inst.theta0.size)
    yt = m.sample(np.broadcast_to(theta0, (K, theta0.size)), x, rng)
    dt = np.where(np.arange(K + 1) % 2 == 0, 0.3, 0.05)  # alternating: dt_{k-1} and dt_k differ at every step
    gamma = 0.02
    th, v = T.tango_iterates(m, theta0, gamma, dt, x, y, yt, return_velocity=True, on_unstable="ignore")
    th2, fast = T.averaged_sgd_iterates(m, theta0, gamma, dt, x, y, ytilde=yt)
    return m, x, y, yt, dt, gamma, th, v, th2, fast


def _certify_prop2_initialization():
    """Exact rationals, one step: d = 1 linear regression l = (y - theta x)^2 / 2, x = 1, y_1 = 1, theta_0 = 0,
    gamma = 1/2, dt_0 = dt_1 = 1/2; TANGO vs eqs 8-9 started at theta^fast_0 = theta_0 + 1 and at theta_0."""
    gamma, dt, theta0, y1 = Fr(1, 2), Fr(1, 2), Fr(0), Fr(1)
    grad = lambda th: th - y1  # noqa: E731  (x = 1, s2 = 1: H = 1)
    v1 = gamma * grad(theta0)  # v_0 = 0: eq. 3
    tango = theta0 - dt * v1

    def averaged(fast0):  # xi_1 = (1 - dt_0)(g~ g~^T - H) v_0 = 0
        fast1 = fast0 - gamma * grad(fast0)
        return (1 - dt) * theta0 + dt * fast1

    off, on = averaged(theta0 + 1), averaged(theta0)
    return Certificate(instance="d = 1, l = (y - theta)^2/2, y_1 = 1, theta_0 = 0, gamma = dt = 1/2, one step",
                       printed=bool(off == tango), corrected=bool(on == tango), arithmetic="exact rationals (fractions)",
                       detail=f"TANGO theta_1 = {tango}; eqs 8-9 with theta^fast_0 = 1: {off}, with theta^fast_0 = 0: {on}")


PROP2_ERRATUM = Erratum(
    "missing hypothesis",
    "Proposition 2 omits the initialization of the fast iterate: TANGO (v_0 = 0) equals eqs 8-9 only when "
    "theta^fast_0 = theta_0, which the proof uses through eq. 71 at k = 1; otherwise theta_1 differs by "
    "dt_1 (Id - gamma H_1)(theta^fast_0 - theta_0).",
    seed=SRC, line=286, passage="The identification with TANGO is via vk = θk−1 − θfast",
    evidence="one step in exact rationals (d = 1, H = 1, gamma = dt = 1/2): TANGO gives theta_1 = 1/4, eqs 8-9 give "
             "1/4 from theta^fast_0 = theta_0 = 0 and 1/2 from theta^fast_0 = 1; one step is the fewest possible",
    certify=_certify_prop2_initialization)


@proof(statement="Ollivier, Proposition 2", seed=SRC, line=1325,
       stated=("per-sample log-loss quadratic in theta with a Hessian H independent of y",
               "TANGO as in Definition 1: y~_k ~ p_theta_{k-1}(.|x_k), v_0 = 0"),
       used=("per-sample log-loss quadratic in theta with a Hessian H independent of y",
             "TANGO as in Definition 1: y~_k ~ p_theta_{k-1}(.|x_k), v_0 = 0",
             "theta^fast_0 = theta_0 (eq. 71 at k = 1)",
             "E_{y~}[g~ g~^T] = E_{y~}[Hessian] (eq. 75, the two Fisher definitions)"),
       steps=(Step("eq. 66: theta_k - theta^fast_k = (1 - dt_k)(theta_{k-1} - theta^fast_k), from eq. 9", 1329),
              Step("eq. 67 defines v_k := theta_{k-1} - theta^fast_k", 1334, checked=False, how="a definition"),
              Step("theta_k = theta_{k-1} - dt_k v_k (eq. 4) by construction", 1339),
              Step("eq. 68: theta^fast_k - theta_{k-1} = theta^fast_{k-1} - theta_{k-1} - gamma g^fast_k + gamma xi_k", 1346),
              Step("eq. 69: g^fast_k = g_k + H_k (theta^fast_{k-1} - theta_{k-1}) (quadratic loss)", 1367),
              Step("eq. 70: v_k = theta_{k-1} - theta^fast_{k-1} + gamma g_k + gamma H_k (theta^fast_{k-1} - theta_{k-1}) "
                   "- gamma xi_k", 1378),
              Step("eq. 71: theta_{k-1} - theta^fast_{k-1} = (1 - dt_{k-1}) v_{k-1} (needs theta^fast_0 = theta_0 at k = 1)", 1384),
              Step("eq. 72: v_k = (1 - dt_{k-1}) v_{k-1} + gamma g_k - gamma (1 - dt_{k-1}) H_k v_{k-1} - gamma xi_k", 1389),
              Step("eq. 73: with xi_k = (1 - dt_{k-1})(g~ g~^T - H_k) v_{k-1} the averaged iterates are TANGO's", 1392),
              Step("eqs 74-75: E_{y~}[g~ g~^T] = H_k, so E xi_k = 0", 1399),
              Step("(statement) xi_k = (g~_k g~_k^T - H_k)(theta_{k-1} - theta^fast_{k-1}): its law depends on "
                   "theta^fast_{k-1} and theta_{k-1} only", 283)),
       result="the algebra (eqs 66-75) reproduces step by step; the statement omits theta^fast_0 = theta_0, which the "
              "identification needs (eq. 71 at k = 1)",
       family="tango", source=f"{SRC} Proposition 2 (statement line 260; proof, Appendix A, eqs 66-75)",
       instances=lambda profile, seed: [Inst(f"linear regression p=3 s2={s2}, alternating dt, 60 steps",
                                             {"inst": TI.linear_regression(3, 60, s2, seed)}) for s2 in (1.0, 0.5)],
       erratum=PROP2_ERRATUM)
def proof_proposition2(instance, rng):
    inst = instance.params["inst"]
    m, x, y, yt, dt, gamma, th, v, th2, fast = _prop2_trajectory(inst, rng)
    K = len(y)
    sc = max(np.max(np.abs(th)), np.max(np.abs(fast)))
    ks = range(1, K + 1)
    g = np.array([m.grad(th[k - 1], y[k - 1], x[k - 1]) for k in ks])
    gf = np.array([m.grad(fast[k - 1], y[k - 1], x[k - 1]) for k in ks])
    gt = np.array([m.grad(th[k - 1], yt[k - 1], x[k - 1]) for k in ks])
    H = np.array([m.hessian(th[k - 1], y[k - 1], x[k - 1]) for k in ks])
    vs = th2[:-1] - fast[1:]  # eq. 67 on the averaged-SGD side: v_k, k = 1..K
    vprev = np.vstack([np.zeros(th.shape[1]), vs[:-1]])  # v_{k-1}
    keep = (1 - dt[:-1])[:, None]  # 1 - dt_{k-1}
    xi = keep * (gt * np.sum(gt * vprev, axis=1, keepdims=True) - np.einsum("kij,kj->ki", H, vprev))  # eq. 73
    out = [
        _eq(th2[1:] - fast[1:], (1 - dt[1:])[:, None] * (th2[:-1] - fast[1:]), "eq. 66", sc),
        _eq(th2[1:], th2[:-1] - dt[1:, None] * vs, "theta_k = theta_{k-1} - dt_k v_k", sc),
        _eq(fast[1:] - th2[:-1], fast[:-1] - th2[:-1] - gamma * gf + gamma * xi, "eq. 68", sc),
        _eq(gf, g + np.einsum("kij,kj->ki", H, fast[:-1] - th2[:-1]), "eq. 69", np.max(np.abs(gf))),
        _eq(vs, th2[:-1] - fast[:-1] + gamma * g + gamma * np.einsum("kij,kj->ki", H, fast[:-1] - th2[:-1]) - gamma * xi,
            "eq. 70", sc),
        _eq(th2[:-1] - fast[:-1], keep * vprev, "eq. 71", sc),
        _eq(vs, keep * vprev + gamma * g - gamma * keep * np.einsum("kij,kj->ki", H, vprev) - gamma * xi, "eq. 72", sc),
        _all([_eq(th2, th, "averaged SGD with xi of eq. 73 vs TANGO", sc),
              _eq(vs, v[1:], "v_k = theta_{k-1} - theta^fast_k vs TANGO's v_k", np.max(np.abs(v)))], "eq. 73"),
        _all([_eq(RT.fisher_by_scores(m, th[k - 1], x[k - 1]), H[k - 1], f"E[g~ g~^T] vs H at step {k}")
              for k in (1, K // 2, K)], "eqs 74-75"),
        _eq(xi, np.einsum("kij,kj->ki", gt[:, :, None] * gt[:, None, :] - H, th2[:-1] - fast[:-1]),
            "xi_k as a function of theta_{k-1} - theta^fast_{k-1}", np.max(np.abs(xi)) + 1e-300),
    ]
    return out


# == Proposition 4 ==================================================================================

def _A(th):
    """A smooth field of symmetric positive definite matrices with bounded derivatives: Gershgorin puts its
    eigenvalues in [0.5, 4.5]; its entries are 1-, 0.5- and 1-Lipschitz, so |A(a) - A(b)|_F <= sqrt(2.5) |a - b|."""
    return np.array([[2.0 + np.sin(th[0]), 0.5 * np.cos(th[1])], [0.5 * np.cos(th[1]), 3.0 + np.cos(th[0])]])


def _F(th):
    """A bounded C^1 field with bounded derivatives."""
    return np.array([np.tanh(th[0] - 1.0) + 0.3 * np.sin(th[1]), np.tanh(th[1] + 0.5)])


LIP_A = np.sqrt(2.5)


def _inv_lipschitz(a, b):
    """|A(a)^-1 - A(b)^-1| <= |A(a)^-1| |A(a) - A(b)| |A(b)^-1| <= sqrt(2.5) |a - b| / (lambda(a) lambda(b))."""
    return LIP_A * np.linalg.norm(a - b) / (np.linalg.eigvalsh(_A(a))[0] * np.linalg.eigvalsh(_A(b))[0])


def _prop4_run(dt, gamma, K, A=_A, theta0=(2.0, -1.0)):
    th, v = T.two_timescale_iterates(np.array(theta0), gamma, dt, K, lambda t, r: _F(t), lambda t, r: A(t),
                                     return_velocity=True)
    return th, v


def _certify_prop4_bounded_F():
    """Exact rationals: F(theta) = theta (C^1, F' = 1 bounded) with A = 1, gamma = 1/2, dt = 1/10, theta_0 = 1."""
    gamma, dt, lam = Fr(1, 2), Fr(1, 10), 1
    th, v, ok = Fr(1), Fr(0), True
    seen = [abs(th)]
    for _ in range(50):  # eq. 13-14 with F(theta) = theta, A = 1
        v = v + gamma * th - gamma * v
        th = th - dt * v
        ok = ok and abs(v) <= max(seen) / lam
        seen.append(abs(th))
    # sup_theta |F(theta)| = sup |theta| over R is infinite: the printed bound sup|F| / lambda_min is no bound
    return Certificate(instance="F(theta) = theta, A = 1, gamma = 1/2, dt = 1/10, theta_0 = 1, k <= 50",
                       printed=False, corrected=bool(ok), arithmetic="exact rationals (fractions)",
                       detail="sup_theta |F| = oo under the statement's hypotheses (F' = 1 is bounded); "
                              f"|v_k| <= max_(j<k) |F(theta_j)| / lambda_min holds at every k <= 50 (last v = {float(v):.6g})")


PROP4_ERRATUM = Erratum(
    "missing hypothesis",
    "Proposition 4's proof bounds |v_k| <= sup|F| / lambda_min 'since F is bounded', but the statement only "
    "assumes F C^1 with bounded derivatives (linear regression's F(theta) = J theta - b is unbounded); the step "
    "holds with sup|F| over the visited theta_j, which is finite on [0, T] by a Gronwall bound the proof does not give.",
    seed=SRC, line=430, passage="Since λmin > 0 and F is bounded",
    evidence="F(theta) = theta, A = 1 satisfies the statement's hypotheses with sup|F| = oo; along its iterates "
             "(gamma = 1/2, dt = 1/10, exact rationals) |v_k| <= max_(j<k)|F(theta_j)|/lambda_min holds for k <= 50; "
             "the conclusion O(dt) is not in doubt (for this linear F it is checked by the order check "
             "tango.proposition4_order_one on linear regression)",
    certify=_certify_prop4_bounded_F)


@proof(statement="Ollivier, Proposition 4", seed=SRC, line=400,
       stated=("F, A C^1 with bounded derivatives", "A symmetric, lambda_min > 0, lambda_max < oo",
               "gamma < 1/lambda_max", "v_0 = 0"),
       used=("F, A C^1 with bounded derivatives", "A symmetric, lambda_min > 0, lambda_max < oo",
             "gamma < 1/lambda_max", "v_0 = 0", "F bounded (line 430)"),
       steps=(Step("sum_k dt (Id - gamma A)^k v_1 = dt gamma^-1 A^-1 v_1 (constant A)", 403),
              Step("eq. 16 defines z_{k+1} := theta_k - dt gamma^-1 A^-1 v_{k+1}", 411, checked=False, how="a definition"),
              Step("eq. 17: z_{k+1} = theta_{k-1} - dt v_k - dt gamma^-1 A^-1 (v_k + gamma F(theta_k) - gamma A v_k)", 417),
              Step("eq. 18: z_{k+1} = z_k - dt A^-1 F(theta_k) exactly (constant A)", 419),
              Step("eq. 19: z_k = theta_k + dt v_k - dt gamma^-1 A^-1 v_k", 424),
              Step("|Id - gamma A| = 1 - gamma lambda_min when gamma < 1/lambda_max (the v update contracts)", 427),
              Step("|v_k| <= sup|F| / lambda_min by induction (checked with sup over the visited theta_j)", 430),
              Step("eq. 20: z_{k+1} = z_k - dt A^-1 F(z_k) + O(dt^2) (local slope 2 on a dt grid)", 436),
              Step("eqs 21-22: z_{k+1} = theta_{k-1} - dt gamma^-1 A(theta_k)^-1 v_k - dt A(theta_k)^-1 F(theta_k)", 452),
              Step("eq. 23: = z_k + dt gamma^-1 (A(theta_{k-1})^-1 - A(theta_k)^-1) v_k - dt A(theta_k)^-1 F(theta_k)", 454),
              Step("d A^-1 = -A^-1 (dA) A^-1 (finite differences)", 461),
              Step("eq. 24: |A(theta_{k-1})^-1 - A(theta_k)^-1| <= Lip(A^-1) dt |v_k|", 464),
              Step("eqs 25-26: |z_{k+1} - z_k + dt A(z_k)^-1 F(z_k)| = O(dt^2 (|v_k| + |v_k|^2)) (local slope 2)", 467),
              Step("the Euler scheme of dz/dt = -A^-1 F converges with error O(dt); so does theta (local slope 1)", 439)),
       result="every step reproduces (identities to rounding, the O() terms with slope 1 or 2); the proof uses F "
              "bounded (line 430), which the statement does not assume",
       family="tango", source=f"{SRC} Proposition 4 (statement line 372; proof eqs 16-26)",
       instances=_one("A(theta) with eigenvalues in [0.5, 4.5], F = tanh-type bounded, gamma = 0.2, T = 1"),
       erratum=PROP4_ERRATUM)
def proof_proposition4(instance, rng):
    gamma, T_end = 0.2, 1.0
    out = []
    # line 403: the geometric series with a constant A
    A0 = _A(np.array([0.3, -0.7]))
    v1 = rng.standard_normal(2)
    S, P = np.zeros(2), v1.copy()
    for _ in range(2000):  # |Id - gamma A0| <= 1 - 0.2 * 0.5 = 0.9: 0.9^2000 ~ 1e-92
        S, P = S + P, P - gamma * A0 @ P
    out.append(_eq(S, np.linalg.solve(A0, v1) / gamma, "sum (Id - gamma A)^k v_1 vs gamma^-1 A^-1 v_1"))
    # eqs 16-19 with the constant A0 (z from the library's auxiliary_sequence)
    dt, K = 0.01, 100
    th, v = _prop4_run(dt, gamma, K, A=lambda t: A0)
    z = T.auxiliary_sequence(th, v, lambda t: A0, gamma, dt)  # z_1..z_K; z[k-1] = z_k
    iA = np.linalg.inv(A0)
    k = np.arange(1, K)  # z_{k+1} for k = 1..K-1
    F_k = np.array([_F(th[i]) for i in k])
    sc = np.max(np.abs(th))
    out.append(_eq(z[k], th[k - 1] - dt * v[k] - dt / gamma * (v[k] + gamma * F_k - gamma * v[k] @ A0.T) @ iA.T, "eq. 17", sc))
    out.append(_eq(z[k], z[k - 1] - dt * F_k @ iA.T, "eq. 18", sc))
    out.append(_eq(z[k - 1], th[k] + dt * v[k] - dt / gamma * v[k] @ iA.T, "eq. 19", sc))
    # variable A along a path
    th, v = _prop4_run(dt, gamma, K)
    lam = np.array([np.linalg.eigvalsh(_A(t)) for t in th])
    contraction = np.array([np.linalg.norm(np.eye(2) - gamma * _A(t), 2) for t in th])
    out.append(_all([_le(gamma * lam[:, 1], np.ones(len(th)) - 1e-12, "gamma lambda_max < 1"),
                     _eq(contraction, 1 - gamma * lam[:, 0], "|Id - gamma A| vs 1 - gamma lambda_min")], "line 427"))
    Fn = np.array([np.linalg.norm(_F(t)) for t in th])
    vn = np.linalg.norm(v, axis=1)
    out.append(_le(vn[1:], np.maximum.accumulate(Fn[:-1]) / lam[:, 0].min(), "|v_k| vs max_(j<k)|F(theta_j)|/lambda_min"))
    # eq. 20 and eqs 25-26: the Euler defect of z, slope 2 in dt; eq. 15's error, slope 1
    dts = [0.02, 0.01, 0.005]
    d20, d26, err = [], [], []
    for h in dts:
        n = int(round(T_end / h))
        th_h, v_h = _prop4_run(h, gamma, n, A=lambda t: A0)
        z_h = T.auxiliary_sequence(th_h, v_h, lambda t: A0, gamma, h)
        d20.append(max(np.linalg.norm(z_h[i + 1] - z_h[i] + h * iA @ _F(z_h[i])) for i in range(n - 1)))
        th_h, v_h = _prop4_run(h, gamma, n)
        z_h = T.auxiliary_sequence(th_h, v_h, _A, gamma, h)
        d26.append(max(np.linalg.norm(z_h[i + 1] - z_h[i] + h * np.linalg.solve(_A(z_h[i]), _F(z_h[i]))) for i in range(n - 1)))
        ref = T.preconditioned_flow(_F, _A, th_h[0], h * np.arange(n + 1), rtol=1e-11, atol=1e-12)
        err.append(np.max(np.linalg.norm(th_h - ref, axis=1)))

    def slope(vals, p, what):  # local slopes of a deterministic O(dt^p) term: within 0.2 of p
        s = np.diff(np.log(vals)) / np.diff(np.log(dts))
        ok = np.all(np.abs(s - p) <= 0.2)
        return Verdict(PASS if ok else FAIL, "deterministic", f"{what}: local slopes {np.round(s, 3).tolist()} "
                       f"({'within' if ok else 'outside'} {p} +- 0.2)")

    out.append(slope(d20, 2.0, "eq. 20 defect (constant A)"))
    # eqs 21-23 with variable A
    z = T.auxiliary_sequence(th, v, _A, gamma, dt)
    iAk = np.array([np.linalg.inv(_A(th[i])) for i in k])
    iAk1 = np.array([np.linalg.inv(_A(th[i - 1])) for i in k])
    F_k = np.array([_F(th[i]) for i in k])
    sc = np.max(np.abs(th))
    out.append(_eq(z[k], th[k - 1] - dt / gamma * np.einsum("kij,kj->ki", iAk, v[k]) - dt * np.einsum("kij,kj->ki", iAk, F_k),
                   "eq. 22", sc))
    out.append(_eq(z[k], z[k - 1] + dt / gamma * np.einsum("kij,kj->ki", iAk1 - iAk, v[k])
                   - dt * np.einsum("kij,kj->ki", iAk, F_k), "eq. 23", sc))
    # line 461: d A^-1 = -A^-1 dA A^-1 by central differences (h = 1e-5: truncation ~1e-10, rounding ~1e-11)
    t0 = np.array([0.4, 1.1])
    fd = RT.finite_difference_jacobian(lambda t: np.linalg.inv(_A(t)).ravel(), t0)
    dA = RT.finite_difference_jacobian(lambda t: _A(t).ravel(), t0)
    iA0 = np.linalg.inv(_A(t0))
    formula = np.stack([(-iA0 @ dA[:, i].reshape(2, 2) @ iA0).ravel() for i in range(2)], axis=1)
    out.append(Verdict.close(fd, formula, rtol=1e-7, atol=1e-8, what="d A^-1 vs -A^-1 dA A^-1"))
    jumps = np.array([np.linalg.norm(iAk1[i] - iAk[i], 2) for i in range(len(k))])
    out.append(_le(jumps, np.array([_inv_lipschitz(th[i - 1], th[i]) for i in k]), "eq. 24: |A^-1 jump| vs Lip bound"))
    out.append(slope(d26, 2.0, "eqs 25-26 defect (variable A)"))
    out.append(slope(err, 1.0, "max_k |theta_k - theta(k dt)|"))
    return out


# == Theorem 5 and Lemma 11: one stochastic trajectory, every quantity of the proof ====================

def _thm5_path(seed, dt=0.01, n=150, gamma=1.0 / 9.0):
    """Eqs 27-28 with A^ = a a^T, a = L(theta) eps (eps Rademacher in R^2, so E A^ = L L^T = A(theta)) and
    F^ = F(theta) + 0.5 eta (eta Rademacher): |a|^2 <= 2 lambda_max(A) <= 9, so E[A^2] <= 9 A and gamma = 1/9 <= 1/R^2.
    Records F^_k, A^_k; returns the proof's A_k, F_k, xi_k, zeta_k, B_k, z_k, y_k."""
    rec_F, rec_A = [], []

    def F_hat(t, r):
        out = _F(t) + 0.5 * r.choice([-1.0, 1.0], 2)
        rec_F.append(out)
        return out

    def A_hat(t, r):
        a = np.linalg.cholesky(_A(t)) @ r.choice([-1.0, 1.0], 2)
        rec_A.append(np.outer(a, a))
        return rec_A[-1]

    th, v = T.two_timescale_iterates(np.array([2.0, -1.0]), gamma, dt, n, F_hat, A_hat, rng=seed, return_velocity=True)
    Fh, Ah = np.array(rec_F), np.array(rec_A)  # index k - 1 for k = 1..n
    A = np.array([_A(th[k - 1]) for k in range(1, n + 1)])
    F = np.array([_F(th[k - 1]) for k in range(1, n + 1)])
    iA = np.linalg.inv(A)
    xi = Fh - F
    zeta = np.einsum("kij,kj->ki", Ah - A, v[:-1])  # (A^_k - A_k) v_{k-1}
    B = np.empty_like(A)
    B[-1] = iA[-1]  # B_n = A_n^-1
    for k in range(n, 1, -1):  # eq. 54: B_{k-1} = B_k + gamma (Id - B_k A_k)
        B[k - 2] = B[k - 1] + gamma * (np.eye(2) - B[k - 1] @ A[k - 1])
    z = th[:-1] - dt / gamma * np.einsum("kij,kj->ki", B, v[1:])  # eq. 50: z_k, k = 1..n
    noise = np.einsum("kij,kj->ki", B, xi - zeta)
    tail = np.vstack([np.cumsum(noise[::-1], axis=0)[::-1][1:], np.zeros((1, 2))])  # sum_{j=k+1}^n
    y = z - dt * tail  # eq. 56
    return dict(th=th, v=v, Fh=Fh, Ah=Ah, A=A, F=F, iA=iA, xi=xi, zeta=zeta, B=B, z=z, y=y, dt=dt, n=n, gamma=gamma)


def _mv(M, x):
    return np.einsum("kij,kj->ki", M, x)


@proof(statement="Ollivier, Theorem 5", seed=SRC, line=957,
       stated=("E_{k-1} F^_k = F(theta_{k-1}), E_{k-1} A^_k = A(theta_{k-1}) (eq. 30)", "A^_k symmetric",
               "F, A C^1 with bounded derivatives", "lambda = inf lambda_min(A) > 0",
               "E_{k-1}|F^_k|^2 <= sigma^2, E_{k-1}[A^_k^T A^_k] <= R^2 A_k (eq. 31)", "0 < gamma <= 1/R^2", "v_0 = 0"),
       used=("E_{k-1} F^_k = F(theta_{k-1}), E_{k-1} A^_k = A(theta_{k-1}) (eq. 30)", "A^_k symmetric",
             "F, A C^1 with bounded derivatives", "lambda = inf lambda_min(A) > 0",
             "E_{k-1}|F^_k|^2 <= sigma^2, E_{k-1}[A^_k^T A^_k] <= R^2 A_k (eq. 31)", "0 < gamma <= 1/R^2", "v_0 = 0"),
       steps=(Step("eq. 50 defines z_k := theta_{k-1} - dt gamma^-1 B_k v_k", 965, checked=False, how="a definition"),
              Step("eqs 51-52: z_k = theta_{k-2} - dt B_k (F^_k - zeta_k) - dt (Id + gamma^-1 B_k - B_k A_k) v_{k-1}", 975),
              Step("eq. 53: = z_{k-1} - dt B_k (F^_k - zeta_k) - dt (Id - B_k A_k + gamma^-1 (B_k - B_{k-1})) v_{k-1}", 994),
              Step("eq. 54: B_{k-1} := B_k + gamma (Id - B_k A_k) cancels the v_{k-1} term; B = A^-1 for constant A", 1004),
              Step("eq. 55: z_k = z_{k-1} - dt B_k (F_k + xi_k - zeta_k)", 1014),
              Step("eqs 56-57: y_k := z_k - dt sum_{j>k} B_j (xi_j - zeta_j) gives y_k = y_{k-1} - dt B_k F_k", 1018),
              Step("eq. 58: y_k - y_{k-1} + dt A^-1(theta_{k-1}) F(theta_{k-1}) = -dt (B_k - A_k^-1) F_k, "
                   "<= dt sup|B - A^-1| |F_k| (Lemma 11)", 1035),
              Step("eqs 59-60 and the Euler scheme's O(sqrt dt) over [0, T]", 1038, checked=False,
                   how="the O(sqrt dt) rate of the conclusion is measured by the registered check "
                       "tango.stochastic_tango_order_half; here its ingredients (eqs 58, 63-65, line 1311) are checked"),
              Step("A_j^-1 = A^-1(theta_{j-1}) is F_{j-1}-measurable, B_j is not; Lemmas 9-10 apply with M_j = A_j^-1, "
                   "Lambda = 1/lambda (printed 'A_j xi_j', read as A_j^-1 xi_j as in eq. 64)", 1233, checked=False,
                   how="a measurability argument; Lemmas 9-10 are audited separately"),
              Step("eqs 63-64: z_k - y_k = dt sum_{j>k} A_j^-1 (xi_j - zeta_j) + a remainder <= dt sup|B - A^-1| "
                   "sum (|xi_j| + |zeta_j|)", 1199),
              Step("eq. 65: sum |xi_j| <= sqrt(n) sqrt(sum |xi_j|^2) (Cauchy-Schwarz)", 1263),
              Step("z_k - theta_k = dt (Id - gamma^-1 B_k) v_k = O(dt |v_k|)", 1311)),
       result="sound: the algebra of eqs 51-57 and 63 reproduces to rounding on a stochastic trajectory, and the "
              "inequalities behind eqs 58, 64, 65 and line 1311 hold with the constants of Lemma 11",
       family="tango", source=f"{SRC} Theorem 5 (statement line 491; proof eqs 50-65)",
       instances=_one("eqs 27-28, d = 2, A^ = a a^T (a = L(theta) eps), F^ = F + 0.5 eta, gamma = 1/9, dt = 0.01, 150 steps"))
def proof_theorem5(instance, rng):
    P = _thm5_path(int(rng.integers(2**32)))
    th, v, A, F, iA, xi, zeta, B, z, y = (P[k] for k in ("th", "v", "A", "F", "iA", "xi", "zeta", "B", "z", "y"))
    dt, n, gamma, Fh = P["dt"], P["n"], P["gamma"], P["Fh"]
    sc = np.max(np.abs(th))
    I = np.eye(2)
    k = np.arange(2, n + 1)  # 1-based k; arrays indexed k - 1
    Bk, Bk1, Ak = B[k - 1], B[k - 2], A[k - 1]
    vk1 = v[k - 1]
    out = [
        _eq(z[k - 1], th[k - 2] - dt * _mv(Bk, Fh[k - 1] - zeta[k - 1]) - dt * _mv(I + Bk / gamma - Bk @ Ak, vk1), "eq. 52", sc),
        _eq(z[k - 1], z[k - 2] - dt * _mv(Bk, Fh[k - 1] - zeta[k - 1]) - dt * _mv(I - Bk @ Ak + (Bk - Bk1) / gamma, vk1),
            "eq. 53", sc),
    ]
    const = np.empty((n, 2, 2))  # constant A: the recursion of eq. 54 keeps B = A^-1
    A0 = A[0]
    const[-1] = np.linalg.inv(A0)
    for j in range(n - 1, 0, -1):
        const[j - 1] = const[j] + gamma * (I - const[j] @ A0)
    out.append(_all([_eq(I - Bk @ Ak + (Bk - Bk1) / gamma, np.zeros_like(Bk), "the v_{k-1} coefficient", 1.0),
                     _eq(const, np.broadcast_to(np.linalg.inv(A0), const.shape), "B for a constant A")], "eq. 54"))
    out.append(_eq(z[k - 1], z[k - 2] - dt * _mv(Bk, F[k - 1] + xi[k - 1] - zeta[k - 1]), "eq. 55", sc))
    out.append(_eq(y[k - 1], y[k - 2] - dt * _mv(Bk, F[k - 1]), "eq. 57", sc))
    defect = y[k - 1] - y[k - 2] + dt * _mv(iA[k - 1], F[k - 1])  # k = 2..n (y_0 is not defined by the proof)
    gap = np.array([np.linalg.norm(b - a, 2) for b, a in zip(B, iA)])
    out.append(_all([_eq(defect, -dt * _mv(Bk - iA[k - 1], F[k - 1]), "eq. 58 identity", dt * np.max(np.abs(F))),
                     _le(np.linalg.norm(defect, axis=1), dt * gap.max() * np.linalg.norm(F[k - 1], axis=1), "eq. 58 bound")],
                    "eq. 58"))
    # eqs 63-64 at every k
    w = xi - zeta
    first = np.vstack([np.cumsum(_mv(iA, w)[::-1], axis=0)[::-1][1:], np.zeros((1, 2))])
    norms = np.linalg.norm(xi, axis=1) + np.linalg.norm(zeta, axis=1)
    tailn = np.concatenate([np.cumsum(norms[::-1])[::-1][1:], [0.0]])
    rem = np.linalg.norm(z - y - dt * first, axis=1)
    out.append(_le(rem, dt * gap.max() * tailn + 1e-12 * sc, "eq. 64 remainder vs dt sup|B - A^-1| sum(|xi| + |zeta|)"))
    xn = np.linalg.norm(xi, axis=1)
    out.append(_le(np.sum(xn), np.sqrt(n) * np.sqrt(np.sum(xn**2)), "eq. 65 (Cauchy-Schwarz)"))
    zt = z - th[1:]
    out.append(_all([_eq(zt, dt * (v[1:] - _mv(B, v[1:]) / gamma), "z_k - theta_k identity", sc),
                     _le(np.linalg.norm(zt, axis=1), dt * (1 + np.array([np.linalg.norm(b, 2) for b in B]) / gamma)
                         * np.linalg.norm(v[1:], axis=1), "|z_k - theta_k| <= dt (1 + |B_k|/gamma) |v_k|")], "line 1311"))
    return out


@proof(statement="Ollivier, Lemma 11", seed=SRC, line=1093,
       stated=("the assumptions of Theorem 5", "B_{k-1} := B_k + gamma (Id - B_k A_k), B_n = A_n^-1"),
       used=("the assumptions of Theorem 5", "B_{k-1} := B_k + gamma (Id - B_k A_k), B_n = A_n^-1",
             "A^-1 Lipschitz (Lemma 6)", "sup_k |v_k| = O(sqrt n) with probability >= 1 - eps (Corollary 8)"),
       steps=(Step("eq. 61: B_{k-1} - A_{k-1}^-1 = (B_k - A_k^-1)(Id - gamma A_k) + A_k^-1 - A_{k-1}^-1", 1096),
              Step("A_k^-1 - A_{k-1}^-1 = O(theta_{k-1} - theta_{k-2}) = O(dt |v_{k-1}|) (A^-1 Lipschitz)", 1105),
              Step("Id - gamma A_k is (1 - gamma lambda)-contracting", 1129),
              Step("eq. 62: |B_{k-1} - A_{k-1}^-1| <= (1 - gamma lambda)|B_k - A_k^-1| + |A_k^-1 - A_{k-1}^-1|", 1145),
              Step("by induction from B_n = A_n^-1: sup_k |B_k - A_k^-1| <= max_k |A_k^-1 - A_{k-1}^-1| / (gamma lambda)", 1166)),
       result="sound: eq. 61 reproduces to rounding and eq. 62 with its induction hold step by step on a stochastic trajectory",
       family="tango", source=f"{SRC} Lemma 11 and its proof (eqs 61-62)",
       instances=_one("eqs 27-28, d = 2, as for Theorem 5, 150 steps"))
def proof_lemma11(instance, rng):
    P = _thm5_path(int(rng.integers(2**32)))
    th, v, A, iA, B, gamma, dt, n = (P[k] for k in ("th", "v", "A", "iA", "B", "gamma", "dt", "n"))
    I = np.eye(2)
    k = np.arange(2, n + 1)
    lhs = B[k - 2] - iA[k - 2]
    out = [_eq(lhs, (B[k - 1] - iA[k - 1]) @ (I - gamma * A[k - 1]) + iA[k - 1] - iA[k - 2], "eq. 61", 1.0)]
    jump = np.array([np.linalg.norm(iA[i - 1] - iA[i - 2], 2) for i in k])
    lip = np.array([_inv_lipschitz(th[i - 1], th[i - 2]) for i in k])
    out.append(_all([_eq(np.linalg.norm(th[k - 1] - th[k - 2], axis=1), dt * np.linalg.norm(v[k - 1], axis=1),
                         "|theta_{k-1} - theta_{k-2}| = dt |v_{k-1}|"),
                     _le(jump, lip, "|A_k^-1 - A_{k-1}^-1| vs Lip(A^-1) |theta_{k-1} - theta_{k-2}|")], "line 1105"))
    lam = np.array([np.linalg.eigvalsh(a)[0] for a in A])
    contr = np.array([np.linalg.norm(I - gamma * a, 2) for a in A])
    out.append(_le(contr, 1 - gamma * lam, "|Id - gamma A_k| vs 1 - gamma lambda_k"))
    gap = np.array([np.linalg.norm(b - a, 2) for b, a in zip(B, iA)])
    out.append(_le(gap[k - 2], (1 - gamma * lam.min()) * gap[k - 1] + jump, "eq. 62"))
    out.append(_le(gap.max(), jump.max() / (gamma * lam.min()), "sup |B_k - A_k^-1| vs max jump / (gamma lambda)"))
    return out


# == Lemmas 6, 7, Corollary 8, Lemmas 9, 10: finite laws, exact expectations ============================

def _rank_one_law(L):
    """A^ = a a^T, a = L eps, eps uniform on {-1, 1}^d: outcomes and probabilities (E A^ = L L^T)."""
    d = L.shape[0]
    eps = np.array(list(product([-1.0, 1.0], repeat=d)))
    a = eps @ L.T
    return a[:, :, None] * a[:, None, :], np.full(len(eps), 1.0 / len(eps))


def _spd(rng, d=2, lo=0.3):
    G = rng.standard_normal((d, d))
    return G @ G.T / d + lo * np.eye(d)


@proof(statement="Ollivier, Lemma 6", seed=SRC, line=593,
       stated=("the assumptions of Theorem 5",),
       used=("the assumptions of Theorem 5", "|F| <= sigma (Jensen on eq. 31; not written, needed for d(A^-1 F))"),
       steps=(Step("|A u|^2 = |E A^ u|^2 <= E|A^ u|^2 (Jensen)", 595),
              Step("E|A^ u|^2 = E[u^T A^T A^ u] <= R^2 u^T A u (eq. 31)", 622),
              Step("lambda_max(A) <= R^2 (u an eigenvector)", 624),
              Step("for gamma <= 1/R^2 the eigenvalues of Id - gamma A lie in [0, 1 - gamma lambda]", 640),
              Step("A invertible with |A^-1| <= 1/lambda", 643),
              Step("d A^-1 = -A^-1 (dA) A^-1, so A^-1 has bounded derivatives", 644),
              Step("(not written) |F|^2 = |E F^|^2 <= E|F^|^2 <= sigma^2, so d(A^-1 F) = -A^-1 dA A^-1 F + A^-1 dF is bounded", 590)),
       result="sound; the claim on A^-1 F needs |F| <= sigma, which follows from eq. 31 by Jensen but is not written",
       family="tango", source=f"{SRC} Lemma 6 and its proof",
       instances=lambda profile, seed: [Inst(f"A^ = a a^T, a = L eps (eps Rademacher), d = {d}", {"d": d, "seed": seed})
                                        for d in (2, 3)])
def proof_lemma6(instance, rng):
    d = instance.params["d"]
    out = [[] for _ in range(7)]
    for _ in range(3):
        A = _spd(rng, d)
        Ah, p = _rank_one_law(np.linalg.cholesky(A))
        EA2 = np.einsum("o,oij,ojk->ik", p, Ah, Ah)
        R2 = RT.R2_min(A, EA2)
        lam = np.linalg.eigvalsh(A)
        U = np.vstack([rng.standard_normal((5, d)), np.linalg.eigh(A)[1].T])
        Au2 = np.sum((U @ A) ** 2, axis=1)
        EAhu2 = np.array([np.sum(p * np.sum((Ah @ u) ** 2, axis=1)) for u in U])
        quad = np.einsum("ui,ij,uj->u", U, A, U)
        out[0].append(_le(Au2, EAhu2, "|A u|^2 vs E|A^ u|^2"))
        out[1].append(_le(EAhu2, R2 * quad, "E|A^ u|^2 vs R^2 u^T A u"))
        out[2].append(_le(lam[-1], R2, "lambda_max(A) vs R^2"))
        e = np.linalg.eigvalsh(np.eye(d) - A / R2)
        out[3].append(_all([_le(-1e-12 * np.ones(d), e, "eig(Id - gamma A) >= 0"),
                            _le(e, 1 - lam[0] / R2, "eig(Id - gamma A) <= 1 - gamma lambda")], "line 640"))
        out[4].append(_eq(np.linalg.norm(np.linalg.inv(A), 2), 1 / lam[0], "|A^-1| vs 1/lambda"))
        # a constant F^ law: E|F^|^2 = sigma^2 bounds |F|
        f, s = rng.standard_normal(d), 0.7
        Fh = f + s * np.array(list(product([-1.0, 1.0], repeat=d)))
        sigma2 = float(np.mean(np.sum(Fh**2, axis=1)))
        out[6].append(_le(np.sum(np.mean(Fh, axis=0) ** 2), sigma2, "|E F^|^2 vs E|F^|^2"))
    t0 = rng.standard_normal(2)
    fd = RT.finite_difference_jacobian(lambda t: np.linalg.inv(_A(t)).ravel(), t0)
    dA = RT.finite_difference_jacobian(lambda t: _A(t).ravel(), t0)
    iA0 = np.linalg.inv(_A(t0))
    formula = np.stack([(-iA0 @ dA[:, i].reshape(2, 2) @ iA0).ravel() for i in range(2)], axis=1)
    out[5].append(Verdict.close(fd, formula, rtol=1e-7, atol=1e-8, what="d A^-1 vs -A^-1 dA A^-1"))
    return [_all(v, f"Lemma 6 step {i + 1}") for i, v in enumerate(out)]


def _joint_law(Ah, pA, Fh, pF):
    """The independent product of the A^ and F^ laws: (A^ outcomes, F^ outcomes, probabilities)."""
    ia, jf = np.meshgrid(np.arange(len(pA)), np.arange(len(pF)), indexing="ij")
    return Ah[ia.ravel()], Fh[jf.ravel()], (pA[:, None] * pF[None, :]).ravel()


def _lemma7_law(rng, d, edge):
    if edge:  # A^ = R^2 Id deterministic: gamma lambda = 1 at gamma = 1/R^2
        R2 = 2.0
        Ah, pA = np.array([R2 * np.eye(d)]), np.array([1.0])
    else:
        Ah, pA = _rank_one_law(np.linalg.cholesky(_spd(rng, d)))
    f = rng.standard_normal(d)
    Fh = f + 0.6 * np.array(list(product([-1.0, 1.0], repeat=d)))
    pF = np.full(len(Fh), 1.0 / len(Fh))
    A = np.einsum("o,oij->ij", pA, Ah)
    EA2 = np.einsum("o,oij,ojk->ik", pA, Ah, Ah)
    R2 = RT.R2_min(A, EA2)
    sigma2 = float(pF @ np.sum(Fh**2, axis=1))
    return Ah, pA, Fh, pF, A, R2, sigma2


@proof(statement="Ollivier, Lemma 7", seed=SRC, line=681,
       stated=("the assumptions of Theorem 5",),
       used=("E_{k-1}|F^_k|^2 <= sigma^2", "E_{k-1}[A^_k^T A^_k] <= R^2 A_k", "A^_k symmetric", "gamma R^2 <= 1",
             "lambda_min(A_k) >= lambda", "v_0 = 0"),
       steps=(Step("eq. 35: |v_k|^2 = |w_k|^2 + |gamma F^|^2 + 2 gamma w.F^ <= (1 + a)|w_k|^2 + (1 + 1/a)|gamma F^|^2", 690),
              Step("eq. 36: |w_k|^2 = |v|^2 - gamma v^T (A^ + A^T) v + gamma^2 v^T A^T A^ v", 732),
              Step("eq. 37: E_{k-1}|w_k|^2 <= |v|^2 - gamma (2 - gamma R^2) v^T A v", 755),
              Step("eq. 38: E_{k-1}|w_k|^2 <= (1 - gamma lambda)|v|^2", 765),
              Step("eqs 39-40 with 1 + a = (1 - gamma lambda/2)/(1 - gamma lambda) (needs gamma lambda < 1; at gamma "
                   "lambda = 1, attained by A^ = R^2 Id, eq. 38 gives w_k = 0 and eq. 40 holds directly)", 767),
              Step("eqs 41-42: E|v_k|^2 <= (1 - gamma lambda/2) gamma^2 sigma^2 / (gamma lambda/2)^2 <= 4 sigma^2/lambda^2 "
                   "(exact second moments)", 782),
              Step("optimal up to 4: F^ = f along the lambda-eigenvector, A^ = A gives |v_oo|^2 = |f|^2/lambda^2", 657)),
       result="sound; the choice of alpha (line 767) is undefined at gamma lambda = 1 (A^ = R^2 Id, gamma = 1/R^2), "
              "where the bound holds directly",
       family="tango", source=f"{SRC} Lemma 7 (eq. 33) and its proof (eqs 34-42)",
       instances=lambda profile, seed: [Inst(f"finite laws, d = {d}, {'A^ = R^2 Id (gamma lambda = 1)' if edge else 'A^ = a a^T'}, "
                                             "gamma = 1/R^2", {"d": d, "edge": edge}) for d, edge in ((2, False), (3, False), (2, True))])
def proof_lemma7(instance, rng):
    d, edge = instance.params["d"], instance.params["edge"]
    Ah, pA, Fh, pF, A, R2, sigma2 = _lemma7_law(rng, d, edge)
    gamma = 1.0 / R2
    lam = float(np.linalg.eigvalsh(A)[0])
    Aj, Fj, pj = _joint_law(Ah, pA, Fh, pF)
    I = np.eye(d)
    V = np.vstack([rng.standard_normal((4, d)) * 3, np.linalg.eigh(A)[1].T])
    s = [[] for _ in range(7)]
    c = gamma * lam
    for vv in V:
        w = vv - gamma * Aj @ vv  # w_k = (Id - gamma A^) v for each outcome
        vk = w + gamma * Fj
        nv = vv @ vv
        if c < 1:
            alpha = (1 - c / 2) / (1 - c) - 1
            s[0].append(_le(np.sum(vk**2, axis=1), (1 + alpha) * np.sum(w**2, axis=1) + (1 + 1 / alpha) * gamma**2
                            * np.sum(Fj**2, axis=1), "eq. 35"))
        else:
            s[0].append(_eq(np.sum(w**2, axis=1), np.zeros(len(w)), "w_k = 0 when gamma lambda = 1", nv))
        s[1].append(_eq(np.sum(w**2, axis=1), nv - gamma * np.einsum("i,oij,j->o", vv, Aj + Aj.transpose(0, 2, 1), vv)
                        + gamma**2 * np.sum((Aj @ vv) ** 2, axis=1), "eq. 36", nv))
        Ew2 = float(pj @ np.sum(w**2, axis=1))
        s[2].append(_le(Ew2, nv - gamma * (2 - gamma * R2) * vv @ A @ vv, "eq. 37", scale=nv))
        s[3].append(_le(Ew2, (1 - c) * nv, "eq. 38", scale=nv))
        Ev2 = float(pj @ np.sum(vk**2, axis=1))
        s[4].append(_le(Ev2, (1 - c / 2) * nv + (1 - c / 2) / (c / 2) * gamma**2 * sigma2, "eq. 40", scale=nv))
    # exact E|v_k|^2 by the first and second moment recursions (F^, A^ independent of the past)
    m, S, b = np.zeros(d), np.zeros((d, d)), 0.0
    Ms = I[None] - gamma * Aj
    vals, bounds = [], []
    for _ in range(80):
        S = (np.einsum("o,oij,jk,olk->il", pj, Ms, S, Ms) + gamma * np.einsum("o,oij,j,ol->il", pj, Ms, m, Fj)
             + gamma * np.einsum("o,oi,j,olj->il", pj, Fj, m, Ms) + gamma**2 * np.einsum("o,oi,oj->ij", pj, Fj, Fj))
        m = np.einsum("o,oij,j->i", pj, Ms, m) + gamma * pj @ Fj
        b = (1 - c / 2) * b + (1 - c / 2) / (c / 2) * gamma**2 * sigma2
        vals.append(np.trace(S))
        bounds.append(b)
    s[5].append(_all([_le(vals, bounds, "E|v_k|^2 vs eq. 41 recursion"),
                      _le(bounds, np.full(len(bounds), (1 - c / 2) * gamma**2 * sigma2 / (c / 2) ** 2), "eq. 42 first bound"),
                      _le((1 - c / 2) * gamma**2 * sigma2 / (c / 2) ** 2, 4 * sigma2 / lam**2, "eq. 42 second bound")], "eqs 41-42"))
    # line 657: deterministic F^ = f along the lambda-eigenvector, A^ = A: v_k -> A^-1 f, |A^-1 f|^2 = |f|^2/lambda^2
    e = np.linalg.eigh(A)[1][:, 0] * 1.7
    vinf = np.linalg.solve(A, e)
    vK = (I - np.linalg.matrix_power(I - gamma * A, 4000)) @ vinf  # v_k = (Id - (Id - gamma A)^k) A^-1 f
    s[6].append(_eq(vK @ vK / (4 * (e @ e) / lam**2), 0.25, "|v_oo|^2 / (4 sigma^2/lambda^2)", 1.0))
    return [_all(v, f"Lemma 7 step {i + 1}") for i, v in enumerate(s)]


def _enumerate_paths(n_out, n):
    """Every outcome sequence of n i.i.d. steps with n_out equiprobable outcomes: (n_out^n, n) indices."""
    return np.array(list(product(range(n_out), repeat=n)), dtype=int)


def _rot(phi):
    c, s = np.cos(phi), np.sin(phi)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


@proof(statement="Ollivier, Corollary 8", seed=SRC, line=826,
       stated=("the assumptions of Theorem 5",), used=("Lemma 7", "Markov's inequality", "a union bound over k <= n"),
       steps=(Step("Markov: P(|v_k| > t) <= E|v_k|^2 / t^2 <= 4 sigma^2 / (lambda^2 t^2)", 827),
              Step("union bound: P(max_{k<=n} |v_k| > t) <= sum_k P(|v_k| > t)", 827),
              Step("t = (2 sigma/lambda) sqrt(n/eps) makes the sum <= eps (eq. 43)", 814)),
       result="sound (exact path probabilities on a finite law)",
       family="tango", source=f"{SRC} Corollary 8 (eq. 43)",
       instances=_one("d = 1, A^ in {0.5, 2} x 1/2, F^ = 1 +- 1, gamma = 1/R^2, all 4^8 paths of 8 steps"))
def proof_corollary8(instance, rng):
    Ahv, Fhv = np.array([0.5, 2.0]), np.array([0.0, 2.0])
    A, EA2 = Ahv.mean(), np.mean(Ahv**2)
    R2, lam, sigma2 = EA2 / A, A, float(np.mean(Fhv**2))
    gamma, n = 1.0 / R2, 8
    idx = _enumerate_paths(4, n)
    v = np.zeros(len(idx))
    vs = []
    for k in range(n):
        a, f = Ahv[idx[:, k] // 2], Fhv[idx[:, k] % 2]
        v = v + gamma * f - gamma * a * v
        vs.append(np.abs(v))
    vs = np.array(vs)  # (n, paths), each path probability 4^-n
    ts = np.array([0.5, 1.0, 1.5, 2.0 * np.sqrt(sigma2) / lam * np.sqrt(n / 0.05)])
    Pk = np.array([[np.mean(vk > t) for vk in vs] for t in ts])
    Ev2 = np.mean(vs**2, axis=1)
    Psup = np.array([np.mean(vs.max(axis=0) > t) for t in ts])
    return [_all([_le(Pk[i], Ev2 / t**2, f"Markov at t = {t:.3g}") for i, t in enumerate(ts)]
                 + [_le(Ev2, np.full(n, 4 * sigma2 / lam**2), "Lemma 7")], "Markov"),
            _le(Psup, Pk.sum(axis=1), "union bound"),
            _all([_le(Psup[-1], 0.05, "P(max |v_k| > t_eps) vs eps"),
                  _eq(n * 4 * sigma2 / (lam**2 * ts[-1] ** 2), 0.05, "n 4 sigma^2 / (lambda^2 t^2) at t_eps", 1.0)], "eq. 43")]


def _martingale_paths(n, with_v):
    """All paths of Lemma 9 (xi = 0.8 eta, eta Rademacher in R^2) or Lemma 10 (zeta = (A^ - A) v_{k-1} with eqs
    27-28's v, A^ = a a^T from 4 sign patterns, F^ = f + 0.6 eta); M_j = Lambda Rot(phi_j), phi_j a function of the
    past outcomes (F_{j-1}-measurable).  Returns the increments M_j x_j per path and step, and the quantities."""
    Lam = 1.5
    if with_v:
        L = np.array([[1.0, 0.0], [0.4, 0.8]])
        Ah, pA = _rank_one_law(L)
        eta = np.array(list(product([-1.0, 1.0], repeat=2)))
        Fh = np.array([0.7, -0.3]) + 0.6 * eta
        A = L @ L.T
        EA2 = np.einsum("o,oij,ojk->ik", pA, Ah, Ah)
        R2 = RT.R2_min(A, EA2)
        gamma, n_out = 1.0 / R2, 16
    else:
        n_out = 4
    idx = _enumerate_paths(n_out, n)
    N = len(idx)
    v = np.zeros((N, 2))
    phi = np.zeros(N)
    incs, raw, vprev = [], [], []
    for k in range(n):
        o = idx[:, k]
        M = Lam * _rot(phi)
        if with_v:
            a, f = Ah[o // 4], Fh[o % 4]
            x = np.einsum("nij,nj->ni", a - A, v)  # zeta_k
            vprev.append(v.copy())
            v = v + gamma * f - gamma * np.einsum("nij,nj->ni", a, v)
        else:
            x = 0.8 * np.array(list(product([-1.0, 1.0], repeat=2)))[o]
        raw.append(x)
        incs.append(np.einsum("nij,nj->ni", M, x))
        phi = phi + 0.7 * (o % 2) - 0.3 * (o // 2 % 2)  # depends on the outcomes so far
    out = dict(idx=idx, incs=np.array(incs), raw=np.array(raw), Lam=Lam, n_out=n_out)
    if with_v:
        out.update(vprev=np.array(vprev), A=A, R2=R2, EA2=EA2, sigma2=float(np.mean(np.sum(Fh**2, axis=1))),
                   lam=float(np.linalg.eigvalsh(A)[0]), lmax=float(np.linalg.eigvalsh(A)[-1]))
    else:
        out.update(sigma2=0.8**2 * 2)
    return out


def _cond_mean(values, idx, k, n_out):
    """E[values | first k outcomes] for equiprobable paths listed in product order: average over blocks."""
    N = len(idx)
    block = n_out ** (idx.shape[1] - k)
    return values.reshape(N // block, block, *values.shape[1:]).mean(axis=1)


def _doob_checks(incs, bound_EX, eps_list, factor):
    """E X_n, the probability of sup_k X_k > E X_n/eps (Doob) and of max_k |sum_{j>=k}| > factor sqrt(bound/eps)."""
    S = np.cumsum(incs, axis=0)  # (n, N, 2)
    X = np.sum(S**2, axis=2)
    EXn = X[-1].mean()
    vs = [_le(EXn, bound_EX, "E X_n vs the lemma's bound")]
    for eps in eps_list:
        vs.append(_le(np.mean(X.max(axis=0) > EXn / eps), eps, f"Doob: P(sup X_k > E X_n/eps) vs eps = {eps}"))
        total = S[-1]
        tails = np.linalg.norm(total[None] - np.vstack([np.zeros((1,) + total.shape), S[:-1]]), axis=2)  # sum_{j=k}^n
        vs.append(_le(np.mean(tails.max(axis=0) > factor * np.sqrt(bound_EX / eps)), eps,
                      f"P(max_k |sum_(j>=k)| > bound) vs eps = {eps}"))
    return vs


@proof(statement="Ollivier, Lemma 9", seed=SRC, line=1430,
       stated=("the assumptions of Theorem 5", "M_k F_{k-1}-measurable, |M_k|_op <= Lambda"),
       used=("E_{k-1}|F^_k|^2 <= sigma^2", "E_{k-1} xi_k = 0", "M_k F_{k-1}-measurable, |M_k|_op <= Lambda",
             "Doob's maximal inequality for the submartingale X_k"),
       steps=(Step("E_{k-1}|xi_k|^2 <= sigma^2 and E_{k-1}|M_k xi_k|^2 <= Lambda^2 sigma^2", 1431),
              Step("E_{k-1} M_k xi_k = 0: martingale increments", 1435),
              Step("E_k X_{k+1} = X_k + E_k|M_{k+1} xi_{k+1}|^2 (cross term vanishes)", 1455),
              Step("eq. 45: E X_n = E sum |M_j xi_j|^2 <= n Lambda^2 sigma^2", 1460),
              Step("Doob: P(sup_k X_k > E X_n / eps) <= eps (eq. 76)", 1461),
              Step("eq. 46 by the triangle inequality: max_k |sum_{j>=k} M_j xi_j| <= 2 sqrt(n Lambda^2 sigma^2/eps)", 1478)),
       result="sound (exact path probabilities: all 4^6 paths)",
       family="tango", source=f"{SRC} Lemma 9 (eqs 45-46) and its proof (Appendix A)",
       instances=_one("xi = 0.8 eta (eta Rademacher in R^2), M_j = 1.5 Rot(phi(past)), n = 6"))
def proof_lemma9(instance, rng):
    n = 6
    P = _martingale_paths(n, with_v=False)
    incs, raw, idx, Lam, sigma2 = P["incs"], P["raw"], P["idx"], P["Lam"], P["sigma2"]
    s1, s2, s3 = [], [], []
    S = np.cumsum(incs, axis=0)
    for k in range(n):  # conditional on the first k outcomes
        s1.append(_le(_cond_mean(np.sum(raw[k] ** 2, axis=1), idx, k, 4), sigma2, f"E_(k-1)|xi_k|^2, k = {k + 1}"))
        s1.append(_le(_cond_mean(np.sum(incs[k] ** 2, axis=1), idx, k, 4), Lam**2 * sigma2, f"E_(k-1)|M xi|^2, k = {k + 1}"))
        s2.append(_eq(_cond_mean(incs[k], idx, k, 4), 0.0 * _cond_mean(incs[k], idx, k, 4), f"E_(k-1) M_k xi_k, k = {k + 1}", 1.0))
        if k:
            Xk1, Xk = np.sum(S[k] ** 2, axis=1), np.sum(S[k - 1] ** 2, axis=1)
            s3.append(_eq(_cond_mean(Xk1, idx, k, 4), _cond_mean(Xk + np.sum(incs[k] ** 2, axis=1), idx, k, 4),
                          f"E_k X_(k+1), k = {k}", np.max(Xk1)))
    EX = np.sum(S[-1] ** 2, axis=1).mean()
    doob = _doob_checks(incs, n * Lam**2 * sigma2, (0.05, 0.2, 0.5), 2.0)
    return [_all(s1, "variance"), _all(s2, "martingale"), _all(s3, "submartingale"),
            _all([_eq(EX, np.sum(incs**2, axis=2).sum(axis=0).mean(), "E X_n vs E sum |M xi|^2"), doob[0]], "eq. 45"),
            _all(doob[1::2], "Doob"), _all(doob[2::2], "eq. 46")]


@proof(statement="Ollivier, Lemma 10", seed=SRC, line=1489,
       stated=("the assumptions of Theorem 5", "M_k F_{k-1}-measurable, |M_k|_op <= Lambda"),
       used=("E_{k-1}[A^_k^2] <= R^2 A_k (A^ symmetric)", "Lemma 7", "M_k F_{k-1}-measurable, |M_k|_op <= Lambda",
             "the argument of Lemma 9"),
       steps=(Step("E_{k-1}|zeta_k|^2 = v^T E_{k-1}[A^^2] v - v^T A_k^2 v", 1491),
              Step("<= R^2 v^T A_k v <= R^2 lambda_max |v_{k-1}|^2", 1500),
              Step("E|zeta_k|^2 <= R^2 lambda_max E|v_{k-1}|^2 <= 4 R^2 lambda_max sigma^2/lambda^2 (Lemma 7)", 1504),
              Step("(implicit) E_{k-1} zeta_k = 0: martingale increments", 1514),
              Step("eq. 48: E sum |M_k zeta_k|^2 <= 4 n R^2 Lambda^2 lambda_max sigma^2/lambda^2", 1510),
              Step("eq. 49 as in Lemma 9: max_k |sum_{j>=k} M_j zeta_j| <= 4 sqrt(n R^2 lambda_max Lambda^2 sigma^2/(eps lambda^2))", 1514)),
       result="sound (exact path probabilities: all 16^4 paths of eqs 27-28)",
       family="tango", source=f"{SRC} Lemma 10 (eqs 47-49) and its proof (Appendix A)",
       instances=_one("A^ = a a^T (4 sign patterns), F^ = f + 0.6 eta, gamma = 1/R^2, M_j = 1.5 Rot(phi(past)), n = 4"))
def proof_lemma10(instance, rng):
    n = 4
    P = _martingale_paths(n, with_v=True)
    incs, raw, idx, Lam, vprev, A, EA2, R2, sigma2, lam, lmax = (P[k] for k in (
        "incs", "raw", "idx", "Lam", "vprev", "A", "EA2", "R2", "sigma2", "lam", "lmax"))
    s = [[] for _ in range(6)]
    for k in range(n):
        z2 = _cond_mean(np.sum(raw[k] ** 2, axis=1), idx, k, 16)
        vb = _cond_mean(vprev[k], idx, k, 16)  # v_{k-1} is F_{k-1}-measurable: its block mean is itself
        s[0].append(_eq(z2, np.einsum("ni,ij,nj->n", vb, EA2 - A @ A, vb), f"E_(k-1)|zeta|^2, k = {k + 1}", max(np.max(z2), 1e-12)))
        s[1].append(_all([_le(z2, R2 * np.einsum("ni,ij,nj->n", vb, A, vb), "vs R^2 v^T A v"),
                          _le(R2 * np.einsum("ni,ij,nj->n", vb, A, vb), R2 * lmax * np.sum(vb**2, axis=1), "vs R^2 lmax |v|^2")],
                         f"k = {k + 1}"))
        s[2].append(_all([_le(np.mean(np.sum(raw[k] ** 2, axis=1)), R2 * lmax * np.mean(np.sum(vprev[k] ** 2, axis=1)), "E|zeta|^2"),
                          _le(R2 * lmax * np.mean(np.sum(vprev[k] ** 2, axis=1)), 4 * R2 * lmax * sigma2 / lam**2, "Lemma 7")],
                         f"k = {k + 1}"))
        cm = _cond_mean(incs[k], idx, k, 16)
        s[3].append(_eq(cm, 0.0 * cm, f"E_(k-1) M zeta, k = {k + 1}", 1.0))
    bound = 4 * n * R2 * Lam**2 * lmax * sigma2 / lam**2
    doob = _doob_checks(incs, bound, (0.05, 0.2, 0.5), 2.0)
    s[4].append(doob[0])
    s[5] += doob[2::2] + [_eq(2 * np.sqrt(bound / 0.05), 4 * np.sqrt(n * R2 * lmax * Lam**2 * sigma2 / (0.05 * lam**2)),
                              "2 sqrt(E bound / eps) vs eq. 49's constant", 1.0)]
    return [_all(v, f"Lemma 10 step {i + 1}") for i, v in enumerate(s)]


# == Theorem 3 as a corollary of Theorem 5, footnote 3 ==================================================

@proof(statement="Ollivier, Theorem 3 from Theorem 5 (with footnote 3)", seed=SRC, line=478,
       stated=("Theorem 3's assumptions: E|g|^2, E|g~|^4 bounded, lambda_min(J) >= lambda_J > 0, J C^1 with bounded "
               "derivatives", "gamma small enough"),
       used=("Theorem 3's assumptions: E|g|^2, E|g~|^4 bounded, lambda_min(J) >= lambda_J > 0, J C^1 with bounded "
             "derivatives", "gamma small enough", "a constant dt", "lambda_max(J) <= R^2 (Lemma 6) in footnote 3"),
       steps=(Step("TANGO (eq. 3, constant dt) is eq. 27 with F^ = g, A^ = (1 - dt) g~ g~^T + (dt/gamma) Id", 479),
              Step("E A^ = (1 - dt) J + (dt/gamma) Id, lambda_min(E A^) >= (1 - dt) lambda_min(J)", 480),
              Step("R^2 = E|g~|^4 / lambda works for A^ = g~ g~^T", 569),
              Step("footnote 3: E[A^_t^2] = (1-dt)^2 E[(g~ g~^T)^2] + 2 (1-dt)(dt/gamma) J + (dt/gamma)^2 Id", 628),
              Step("footnote 3: A^_t satisfies eq. 31 with max(R^2, 1/gamma) (sharp: equality for g~ = +-c)", 634),
              Step("footnote 3: gamma <= 1/R^2 implies gamma <= 1/max(R^2, 1/gamma)", 639),
              Step("(not written) Theorem 5's limit -A_dt^-1 E g differs from eq. 12's -J^-1 E g by O(dt)", 479)),
       result="sound; footnote 3's 'one checks' holds and needs lambda_max(J) <= R^2 (Lemma 6); the O(dt) gap between "
              "Theorem 5's ODE (A_dt = (1 - dt) J + dt/gamma Id) and eq. 12 is not written but holds",
       family="tango", source=f"{SRC} Theorem 3 (line 350) as a corollary of Theorem 5 (line 478), footnote 3",
       instances=lambda profile, seed: [Inst("finite laws g~ = L eps in R^2 and g~ = +-c in R; linear regression "
                                             "for the TANGO step", {"seed": seed})])
def proof_theorem3_from_theorem5(instance, rng):
    out = [[] for _ in range(7)]
    d, gamma, dt = 3, 0.07, 0.2
    v, th, g, gt = (rng.standard_normal(d) for _ in range(4))
    v1, _ = T.tango_step(v, th, g, gt, gamma, dt, dt)
    Ah = (1 - dt) * np.outer(gt, gt) + dt / gamma * np.eye(d)
    out[0].append(_eq(v1, v + gamma * g - gamma * Ah @ v, "TANGO step vs eq. 27"))
    for L, label in ((np.linalg.cholesky(_spd(rng, 2)), "g~ = L eps"), (np.array([[1.3]]), "g~ = +-c")):
        D = L.shape[0]
        eps = np.array(list(product([-1.0, 1.0], repeat=D)))
        G = eps @ L.T
        p = np.full(len(G), 1.0 / len(G))
        gg = G[:, :, None] * G[:, None, :]
        J = np.einsum("o,oij->ij", p, gg)
        EJ2 = np.einsum("o,oij,ojk->ik", p, gg, gg)
        R2 = RT.R2_min(J, EJ2)
        lamJ = np.linalg.eigvalsh(J)[0]
        m4 = float(p @ np.sum(G**2, axis=1) ** 2)
        out[2].append(_le(R2, m4 / lamJ, f"R^2_min vs E|g~|^4/lambda ({label})"))
        for dtt in (0.1, 0.5, 0.9):
            for gam in (1.0 / R2, 0.5 / R2):
                At = (1 - dtt) * gg + dtt / gam * np.eye(D)
                EA = np.einsum("o,oij->ij", p, At)
                EA2 = np.einsum("o,oij,ojk->ik", p, At, At)
                out[1].append(_all([_eq(EA, (1 - dtt) * J + dtt / gam * np.eye(D), "E A^"),
                                    _le((1 - dtt) * lamJ, np.linalg.eigvalsh(EA)[0], "lambda_min(E A^)")], "E A^"))
                out[3].append(_eq(EA2, (1 - dtt) ** 2 * EJ2 + 2 * (1 - dtt) * dtt / gam * J + (dtt / gam) ** 2 * np.eye(D),
                                  "E[A^_t^2]"))
                r = RT.R2_min(EA, EA2)
                out[4].append(_le(r, max(R2, 1 / gam), f"R^2(A^_t) vs max(R^2, 1/gamma) ({label})"))
                if D == 1 and gam == 1.0 / R2:
                    out[4].append(_eq(r, max(R2, 1 / gam), "R^2(A^_t) attains max(R^2, 1/gamma) for g~ = +-c", 1.0))
    grid = [Fr(a, b) for a in range(1, 13) for b in range(1, 13)]
    out[5].append(Verdict(PASS if all(g_ <= 1 / max(R, 1 / g_) for R in grid for g_ in grid if g_ <= 1 / R) else FAIL,
                          "deterministic", "gamma <= 1/R^2 => gamma <= 1/max(R^2, 1/gamma) on a 144 x 144 rational grid"))
    lin = TI.linear_regression(2, 40, 1.0, int(instance.params["seed"]))
    J = lin.model.fisher(lin.theta0, lin.x)
    F = lin.model.expected_gradient(lin.theta0 + 0.5, lin.x, lin.y)
    # A_dt^-1 F - J^-1 F = dt J^-1 (J - Id/gamma) J^-1 F + O((dt/gamma)^2): relative O(dt/gamma) = 1e-3 at dt = 1e-4
    iJ = np.linalg.inv(J)
    slope = np.linalg.norm(iJ @ (J - np.eye(2) / 0.1) @ iJ @ F)
    gap = [np.linalg.norm(np.linalg.solve((1 - h) * J + h / 0.1 * np.eye(2), F) - iJ @ F) / h for h in (1e-4, 1e-5)]
    out[6].append(Verdict.close(gap, slope, rtol=1e-2, what="|A_dt^-1 F - J^-1 F| / dt vs |J^-1 (J - Id/gamma) J^-1 F|"))
    return [_all(v, f"step {i + 1}") for i, v in enumerate(out)]


# == footnote 2 ==========================================================================================

def _fn2_iterates(x0, gamma, steps, x_star=None):
    """Gradient descent with rate gamma on l(x) = |x| for |x| >= gamma/2 (gradient sign x there); inside the open
    interval the loss is any C^1 extension: here (x - x_star)^2-like, gradient 2 (x - x_star) / gamma (only used if
    an iterate enters the interior)."""
    xs = [Fr(x0)]
    for _ in range(steps):
        x = xs[-1]
        gr = (1 if x > 0 else -1) if abs(x) >= gamma / 2 else 2 * (x - (x_star or 0)) / gamma
        xs.append(x - gamma * gr)
    return xs


def _certify_footnote2():
    gamma = Fr(1)
    even = _fn2_iterates(gamma, gamma, 1)  # x_0 = gamma = 2 (gamma/2)
    odd = _fn2_iterates(3 * gamma / 2, gamma, 100)
    interior = lambda xs: any(abs(x) < gamma / 2 for x in xs)  # noqa: E731
    return Certificate(instance="gamma = 1, l(x) = |x| for |x| >= 1/2; x_0 = 1 (even multiple) and x_0 = 3/2 (odd)",
                       printed=not interior(even), corrected=not interior(odd), arithmetic="exact rationals (fractions)",
                       detail=f"from x_0 = 1: x_1 = {even[1]} (interior); from x_0 = 3/2 the 100 iterates take the values "
                              f"{[str(x) for x in sorted(set(odd))]} (odd multiples of 1/2 only), mean {sum(odd[1:]) / 100}")


FN2_ERRATUM = Erratum(
    "missing hypothesis",
    "Footnote 2: gradient descent with rate gamma on l(x) = |x| outside [-gamma/2, gamma/2] avoids the interior only "
    "from an odd multiple of gamma/2 (and with gradients +-1 at the end points +-gamma/2, which it visits); from an even "
    "multiple it reaches 0, e.g. x_0 = gamma gives x_1 = 0.",
    seed=SRC, line=321, passage="initialized at a multiple of γ/2, will make jumps of size exactly γ and never visit the",
    evidence="exact rationals, gamma = 1: x_0 = 1 (the smallest positive even multiple) gives x_1 = 0 after one step; "
             "x_0 = 3/2 visits only {-1/2, 1/2, 3/2} (odd multiples of 1/2 map to odd multiples under x -> x -+ 1), "
             "so its average tends to 0 whatever the minimum on (-1/2, 1/2): the bias the footnote wants is there, "
             "of size up to gamma/2",
    certify=_certify_footnote2)


@proof(statement="Ollivier, footnote 2 (bias of averaged SGD)", seed=SRC, line=318,
       stated=("l(x) = |x| for |x| > gamma/2, arbitrary on [-gamma/2, gamma/2]", "x_0 a multiple of gamma/2"),
       used=("l(x) = |x| for |x| > gamma/2, arbitrary on [-gamma/2, gamma/2]", "x_0 an odd multiple of gamma/2",
             "gradient +-1 at the end points +-gamma/2 (a C^1 extension)"),
       steps=(Step("outside the interval the gradients are +-1: each step jumps by exactly gamma", 320),
              Step("from a multiple of gamma/2 the iterates never visit the interior (false for even multiples)", 321,
                   holds=False),
              Step("from an odd multiple the average of the iterates is unrelated to the minimum on the interval", 322)),
       result="the claim needs an odd multiple of gamma/2 (an even multiple reaches 0) and gradients +-1 at +-gamma/2",
       family="tango", source=f"{SRC} footnote 2 (after eq. 9)",
       instances=_one("gamma = 1 and gamma = 1/4, exact rationals"), erratum=FN2_ERRATUM)
def proof_footnote2(instance, rng):
    s1, s2, s3 = [], [], []
    for gamma in (Fr(1), Fr(1, 4)):
        xs = _fn2_iterates(7 * gamma / 2, gamma, 3)  # 7/2 -> 5/2 -> 3/2 -> 1/2 gamma: outside, jumps of gamma
        s1.append(Verdict(PASS if all(abs(b - a) == gamma for a, b in zip(xs, xs[1:])) else FAIL, "deterministic",
                          f"jumps {[str(b - a) for a, b in zip(xs, xs[1:])]} (gamma = {gamma})"))
        even = _fn2_iterates(gamma, gamma, 1)
        printed = Verdict(PASS if all(abs(x) >= gamma / 2 for x in even) else FAIL, "deterministic",
                          f"x_0 = gamma -> x_1 = {even[1]}")
        s2.append(_shown_false(printed, f"never in the interior from x_0 = gamma (gamma = {gamma})"))
        means = []
        for x_star in (-gamma / 3, Fr(0), gamma / 3):
            odd = _fn2_iterates(3 * gamma / 2, gamma, 200, x_star)
            ok = all(abs(x) >= gamma / 2 for x in odd)
            means.append((ok, sum(odd[1:]) / 200))
        s3.append(Verdict(PASS if all(ok for ok, _ in means) and len({m for _, m in means}) == 1 else FAIL, "deterministic",
                          f"odd start: the mean of 200 iterates is {means[0][1]} for every minimum x_star"))
    return [_all(s1, "jumps"), _all(s2, "even multiple"), _all(s3, "odd multiple")]
