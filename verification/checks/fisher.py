"""Checks of the Fisher-geometry results (001_7d31b3ff3a2f0401.txt §5-13 and 002_add1c097d251ec63.txt): the Fisher of
predictive distributions three ways and across parameterizations, the §9.2 Hessian, and the explicit, Woodbury and
TENGraD forms of per-layer damped NGD (eqs 39-43).

The library is called through ``theorytools.fisher`` (``FI.name``) at run time, so tests can plant a wrong formula
there and see the check FAIL.  Independent routes live in :mod:`verification.reference.fisher`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import theorytools.fisher as FI
from verification.reference import fisher as RF
from verification.registry import check
from verification.verdict import FAIL, PASS, Verdict

MARTENS, SHRESTHA = "001_7d31b3ff3a2f0401.txt", "002_add1c097d251ec63.txt"


@dataclass(frozen=True, eq=False)
class Case:
    name: str
    params: dict = field(default_factory=dict)


def _gaussian_points(profile, seed):
    rng = np.random.default_rng([seed, 9])
    pts = [(0.0, 1.0), (1.5, 0.3), (-2.0, 3.0)] + [(float(rng.normal(0, 2)), float(rng.uniform(0.2, 4)))]
    return [Case(f"N(mu = {m:.3g}, sigma = {s:.3g})", {"mu": m, "sigma": s}) for m, s in pts]


@check(source=f"{SHRESTHA} A.1-A.2 (E[score] = 0, F = -E[H]); {MARTENS} eq. 4 and §12 (J^T F J)", family="fisher",
       kind="deterministic", hypotheses="none",
       rule="in each of (mu, sigma), (mu, ln sigma), (mu, ln sigma^2) and natural coordinates: gaussian_fisher == "
            "E[score score^T] (rtol 1e-7: differenced scores, 40-node Gauss-Hermite) == -E[Hessian] (nested "
            "differences: rtol 1e-4, atol 1e-5 |F|), E[score] == 0 (atol 1e-7 sqrt|F|); and for every pair of parameterizations F_a == J^T F_b J with "
            "J = d b / d a by differences (rtol 1e-7)",
       instances=_gaussian_points)
def gaussian_fisher_three_ways(case, rng):
    mu, sigma = case.params["mu"], case.params["sigma"]
    verdicts = []
    for p in FI.PARAMS:
        F = FI.gaussian_fisher(mu, sigma, p)
        Fs, Fh, mean = RF.gaussian_fisher_routes(mu, sigma, p)
        scale = np.max(np.abs(F))
        verdicts += [Verdict.close(F, Fs, rtol=1e-7, atol=1e-9 * scale, what=f"{p}: F vs E[score score^T]"),
                     # nested differences (1e-6 inside 1e-4): rounding ~ eps |log p| / 1e-10 ~ 1e-5 of the scale
                     Verdict.close(F, Fh, rtol=1e-4, atol=1e-5 * scale, what=f"{p}: F vs -E[Hessian]"),
                     Verdict.close(mean, 0.0, rtol=0.0, atol=1e-7 * np.sqrt(scale), what=f"{p}: E[score]")]
        for q in FI.PARAMS:
            J = RF.coordinate_jacobian(mu, sigma, p, q)
            pulled = J.T @ FI.gaussian_fisher(mu, sigma, q) @ J
            verdicts.append(Verdict.close(F, pulled, rtol=1e-7, atol=1e-9 * scale, what=f"F_{p} vs J^T F_{q} J"))
    return Verdict.all_of(verdicts, "Gaussian Fisher, 4 parameterizations, three definitions and the Jacobian rule")


def _logits(profile, seed):
    rng = np.random.default_rng([seed, 10])
    return [Case("logits (0, 0, 0)", {"z": np.zeros(3)}), Case("logits (2, -1, 0.5, 3)", {"z": np.array([2.0, -1.0, 0.5, 3.0])}),
            Case("random logits, K = 6", {"z": rng.normal(0, 2, 6)})]


@check(source=f"{MARTENS} §9.2 (softmax in L: Fisher = GGN = Hessian of log-sum-exp); {SHRESTHA} A.1-A.2",
       family="fisher", kind="deterministic", hypotheses="none",
       rule="categorical_fisher(z) == E[score score^T] over the classes (exact enumeration, rtol 1e-12) == the Hessian of "
            "log-sum-exp by second differences (rtol 1e-5, atol 1e-6: rounding eps |lse| / h^2); E[score] == 0; F 1 == 0 (the shift z + c 1)",
       instances=_logits)
def categorical_fisher_identities(case, rng):
    z = case.params["z"]
    F = FI.categorical_fisher(z)
    Fs, mean, H = RF.categorical_routes(z)
    return Verdict.all_of([
        Verdict.close(F, Fs, rtol=1e-12, atol=1e-15, what="F_R vs E[score score^T]"),
        # second differences with h = 1e-4: rounding ~ eps |lse| / h^2 ~ 1e-7
        Verdict.close(F, H, rtol=1e-5, atol=1e-6, what="F_R vs Hessian of log-sum-exp"),
        Verdict.close(mean, 0.0, rtol=0.0, atol=1e-15, what="E[score]"),
        Verdict.close(F @ np.ones(z.size), 0.0, rtol=0.0, atol=1e-15, what="F_R 1")], "categorical Fisher")


def _logvar_cases(profile, seed):
    return [Case("the paper's point y = 2, mu = gamma = 0, and a grid of (y, mu, gamma)", {})]


@check(source=f"{MARTENS} §9.2 (H_L of the (mu, log sigma^2) Gaussian; 'indefinite for certain settings ... e.g. x = 2, "
              "mu = gamma = 0')", family="fisher", kind="deterministic", hypotheses="none",
       rule="gaussian_mu_logvar_hessian == second differences of gamma/2 + (y - mu)^2 e^-gamma / 2 (rtol 1e-6) on a 7 x 5 x "
            "3 grid; its determinant is -(y - mu)^2 e^-2gamma / 2: the smallest eigenvalue is < 0 at every grid point with "
            "y != mu (not only 'for certain settings') and >= 0 at y = mu; indefinite at the paper's point",
       instances=_logvar_cases)
def logvar_hessian_indefinite(case, rng):
    verdicts, indefinite, total = [], 0, 0
    for y in np.linspace(-3, 3, 7):
        for mu in (-1.0, 0.0, 0.5, 1.0, 2.0):
            for gamma in (-1.0, 0.0, 1.5):
                H = FI.gaussian_mu_logvar_hessian(y, mu, gamma)
                verdicts.append(Verdict.close(H, RF.logvar_loss_hessian(y, mu, gamma), rtol=1e-6, atol=1e-7 * np.exp(-gamma),
                                              what=f"H_L at y={y:g}, mu={mu:g}, gamma={gamma:g}"))
                lam = np.linalg.eigvalsh(H)[0]
                if y != mu:
                    total += 1
                    indefinite += lam < 0
                elif lam < -1e-12:
                    verdicts.append(Verdict(FAIL, "deterministic", f"H_L not PSD at y = mu = {mu:g}"))
    paper = np.linalg.eigvalsh(FI.gaussian_mu_logvar_hessian(2.0, 0.0, 0.0))
    v = Verdict.all_of(verdicts, "H_L")
    if v.failed:
        return v
    ok = indefinite == total and paper[0] < 0 < paper[1]
    return Verdict(PASS if ok else FAIL, "deterministic",
                   f"H_L indefinite at {indefinite} of {total} grid points with y != mu; at the paper's point eigenvalues "
                   f"{paper[0]:.4g}, {paper[1]:.4g}", {"indefinite": int(indefinite), "points": total})


def _tengrad_cases(profile, seed):
    rng = np.random.default_rng([seed, 11])
    shapes = [(4, 3, 5), (6, 5, 40), (8, 4, 16), (1, 1, 3)]
    return [Case(f"d_in = {a}, d_out = {b}, m = {m}, beta = {beta:g}",
                 {"I": rng.standard_normal((a, m)), "G": rng.standard_normal((b, m)), "u": rng.standard_normal(a * b), "beta": beta})
            for (a, b, m), beta in zip(shapes, (1e-3, 0.5, 1e-2, 1.0))]


@check(source=f"{SHRESTHA} eqs 27-28, 34, 39-43 (Woodbury form A.4; TENGraD A.5)", family="fisher", kind="deterministic",
       hypotheses="beta > 0",
       rule="damped_block_direction by 'explicit', 'woodbury' and 'tengrad' == (J^T J / m + beta I)^-1 u from explicit "
            "per-example gradients (rtol 1e-9 relative to the largest entry, scaled by the condition number up to 1e3); "
            "per_example_jacobian rows == vec(I_i G_i^T); tengrad_gram == J J^T (eq. 41); jacobian_vector == J vec(g) "
            "(eq. 42 corrected: the printed ((g^T I) o G) 1 has d_out entries, not m); jacobian_transpose_vector == J^T v "
            "(eq. 43 as printed)",
       instances=_tengrad_cases)
def tengrad_forms_agree(case, rng):
    I, G, u, beta = (case.params[k] for k in ("I", "G", "u", "beta"))
    m = I.shape[1]
    ref = RF.damped_block_inverse_applied(I, G, u, beta)
    J = np.array([np.outer(I[:, i], G[:, i]).ravel() for i in range(m)])
    cond = np.linalg.cond(J.T @ J / m + beta * np.eye(J.shape[1]))
    tol = 1e-12 * max(cond, 1.0) + 1e-10
    scale = np.max(np.abs(ref))
    g = rng.standard_normal((I.shape[0], G.shape[0]))
    v = rng.standard_normal(m)
    verdicts = [Verdict.close(FI.damped_block_direction(I, G, u, beta, meth), ref, rtol=0.0, atol=tol * scale,
                              what=f"{meth} vs explicit per-example route") for meth in ("explicit", "woodbury", "tengrad")]
    verdicts += [Verdict.close(FI.per_example_jacobian(I, G), J, rtol=1e-14, atol=1e-14, what="J"),
                 Verdict.close(FI.tengrad_gram(I, G), J @ J.T, rtol=1e-12, atol=1e-12 * np.max(np.abs(J @ J.T)), what="eq. 41"),
                 Verdict.close(FI.jacobian_vector(I, G, g), J @ g.ravel(), rtol=1e-12, atol=1e-12, what="eq. 42 (corrected)"),
                 Verdict.close(FI.jacobian_transpose_vector(I, G, v).ravel(), J.T @ v, rtol=1e-12, atol=1e-12, what="eq. 43")]
    printed = ((g.T @ I) * G) @ np.ones(m)
    v_all = Verdict.all_of(verdicts, "explicit, Woodbury and TENGraD agree")
    if v_all.failed:
        return v_all
    return Verdict(PASS, "deterministic", f"{v_all.message}; eq. 42 as printed has {printed.size} entries (d_out), J vec(g) "
                   f"has {m}", {**v_all.details, "condition": float(cond)})
