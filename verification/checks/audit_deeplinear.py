"""Proof audit (issue 16 §3) of Bernacchia, Lengyel & Hennequin, *Exact natural gradient in deep linear networks*
(003_34787a2226c5cf0a.txt): the derivations of eqs 11-23 and the text's claims about when they apply, step by step
(see :mod:`verification.audit`).  The supplementary material is not included: the steps it would contain are derived
here and evaluated numerically.

Every step is evaluated through the library (``theorytools.deeplinear``, looked up at run time so that a test can
plant a wrong formula) against a second route written here or in :mod:`verification.reference.deeplinear`.

Tolerances: two routes through the same products of layers agree to rounding, ``1e-12`` relative for products and
``100 P eps kappa_+(F)`` (:func:`verification.checks.deeplinear._rtol`) where a (pseudo-)inverse of an
ill-conditioned covariance or of the Fisher enters; a relation the audit finds false is shown false by a relative
gap ``>= 1e-3``, nine orders of magnitude above those.
"""

from __future__ import annotations

import numpy as np

import theorytools.deeplinear as D
from theorytools.deeplinear import instances as DI
from verification.audit import Step, proof
from verification.checks.deeplinear import SRC, Case, _rtol
from verification.errata import Certificate, Erratum
from verification.reference import deeplinear as RD
from verification.verdict import FAIL, PASS, Verdict

FAMILY = "deeplinear"
GAP = 1e-3  # a relation shown false must miss by at least this much (relative)


def _arch(profile, seed):
    """One random net of each architecture of :data:`DI.ARCHITECTURES` (three seeds in the full profile)."""
    seeds = (seed,) if profile == "quick" else (seed, seed + 1, seed + 2)
    return [Case(f"{kind} {w}" + (f", seed {s}" if len(seeds) > 1 else ""), DI.random_net(w, s))
            for kind, w in DI.ARCHITECTURES.items() for s in seeds]


def _square(profile, seed):
    """Square nets (every layer n x n, invertible with probability one), the hypothesis of eqs 16 and 23."""
    widths = [(3, 3, 3, 3), (2, 2, 2)] + ([(4, 4, 4, 4, 4)] if profile != "quick" else [])
    return [Case(f"square {w}", DI.random_net(w, seed)) for w in widths]


def _scale(x) -> float:
    return float(np.max(np.abs(x))) if np.size(x) else 1.0


def _rel(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / max(_scale(b), np.finfo(float).tiny))


def _product(layers, n):
    out = np.eye(n)
    for W in layers:
        out = W @ out
    return out


def _AB(net):
    """``A_i = W_L...W_{i+1}`` and ``B_i = W_{i-1}...W_1`` multiplied out here (not the library's)."""
    Ws = net.weights
    A = [_product(Ws[i:], net.widths[i]) for i in range(1, net.L + 1)]
    B = [_product(Ws[:i - 1], net.widths[0]) for i in range(1, net.L + 1)]
    return A, B


def _shown_false(gap: float, what: str) -> Verdict:
    """PASS when a relation the audit says is false misses by >= GAP (relative)."""
    ok = gap >= GAP
    return Verdict(PASS if ok else FAIL, "deterministic",
                   f"{what}: shown false (relative gap {gap:.3g})" if ok else
                   f"{what}: holds to {gap:.2e}, though the audit says it is false")


# -- Eqs 11-13: the gradient --------------------------------------------------------------------------------------

@proof(statement="Bernacchia et al., Eq. 13 (the gradient of a deep linear net)", seed=SRC, line=290,
       stated=("linear layers, phi_i = id, b_i = 0", "q_theta(y|x) Gaussian with mean x_L and constant covariance St"),
       used=("linear layers, phi_i = id, b_i = 0", "q_theta(y|x) Gaussian with mean x_L and constant covariance St"),
       steps=(Step("x_{i-1} = (W_{i-1} ... W_1) x (Eq. 11, Eq. 1 with phi = id)", 280),
              Step("e_i = (W_L ... W_{i+1})^T St^-1 (y - x_L) (Eq. 12, Eq. 8 with phi' = 1)", 286),
              Step("dL/dW_i = -<e_i x_{i-1}^T>_{p*} = -(W_L...W_{i+1})^T St^-1 <(y - x_L) x^T> (W_{i-1}...W_1)^T "
                   "(Eq. 13)", 293)),
       result="sound", family=FAMILY, source=f"{SRC} §4, eqs 11-13", instances=_arch)
def proof_gradient(case, rng):
    net = case.net
    A, B = _AB(net)
    x = rng.standard_normal((net.widths[0], 5))
    y = rng.standard_normal((net.widths[-1], 5))
    # forward and backward passes of Eqs 1 and 8 (phi = id)
    acts, h = [], x
    for W in net.weights:
        acts.append(h)
        h = W @ h
    e = np.linalg.solve(net.Sigma_out, y - h)
    errs = [None] * net.L
    for i in range(net.L - 1, -1, -1):
        errs[i] = e
        e = net.weights[i].T @ e
    # products in a different order: rounding ~ L eps |W|^L; 1e-12 relative to the largest entry
    v11 = Verdict.all_of([Verdict.close(acts[i], net.B[i] @ x, rtol=1e-12, atol=1e-12 * _scale(acts[i]),
                                        what=f"x_{i} (Eq. 11)") for i in range(net.L)], "Eq. 11")
    v12 = Verdict.all_of([Verdict.close(errs[i], net.A[i].T @ np.linalg.solve(net.Sigma_out, y - h), rtol=1e-12,
                                        atol=1e-12 * _scale(errs[i]), what=f"e_{i + 1} (Eq. 12)") for i in range(net.L)],
                         "Eq. 12")
    # St^-1 <(y - x_L) x^T> from the second moments
    G = np.linalg.solve(net.Sigma_out, net.Cyx - _product(net.weights, net.widths[0]) @ net.Sigma_x)
    lib = net.gradient_layers()
    g = net.gradient()
    # central differences of a quadratic in each parameter: exact up to rounding ~ eps |E| / h (h = 1e-3): 1e-7
    v13 = Verdict.all_of([Verdict.close(g, RD.gradient_by_differences(net), rtol=1e-7, atol=1e-9 * _scale(g),
                                        what="gradient vs central differences of the loss")]
                         + [Verdict.close(lib[i], -A[i].T @ G @ B[i].T, rtol=1e-12, atol=1e-12 * _scale(lib[i]),
                                          what=f"dL/dW_{i + 1} vs -A^T St^-1 <(y - x_L) x^T> B^T") for i in range(net.L)],
                         "Eq. 13")
    return [v11, v12, v13]


# -- Eqs 14, 15, 22 and the rank of F ---------------------------------------------------------------------------

def _fig1c_count() -> tuple:
    w = DI.figure1_widths("C")
    return sum(a * b for a, b in zip(w, w[1:])), w[0] * w[-1]


def _certify_rank_reason():
    """Exact rationals: the 3-1-3 net has fewer parameters than n_L n_0, so 'rank F <= n_L n_0' does not make F
    singular; it is singular (rank r (n_0 + n_L - r) = 5 < P = 6) through the symmetry W_1 -> c W_1, W_2 -> W_2 / c."""
    from sympy import Matrix

    from verification.checks.deeplinear import _exact_net

    e = _exact_net([[[1, 2, -1]], [[1], [0], [3]]], Matrix.zeros(3, 3))
    P, nn, rank = e["F"].shape[0], 9, e["F"].rank()
    Pc, nnc = _fig1c_count()
    return Certificate(instance="3-1-3 net W_1 = (1, 2, -1), W_2 = (1, 0, 3)^T, Sigma = I, St = I; and the widths of "
                                "Figure 1C",
                       printed=bool(nn < P and nnc < Pc), corrected=bool(rank == 1 * (3 + 3 - 1) < P),
                       arithmetic="exact rationals (sympy rank) and exact integer counts",
                       detail=f"3-1-3: P = {P} < n_L n_0 = {nn}, rank F = {rank}; Figure 1C: P = {Pc} < n_L n_0 = {nnc}")


@proof(statement="Bernacchia et al., Eqs 14, 15 and 22 (the Fisher of a deep linear net and its rank)", seed=SRC,
       line=310,
       stated=("linear layers", "q_theta(y|x) = N(x_L, St)", "averages over p_theta(x, y) = q_theta(y|x) q*(x)"),
       used=("linear layers", "q_theta(y|x) = N(x_L, St)", "averages over p_theta(x, y) = q_theta(y|x) q*(x)"),
       steps=(Step("<e_i e_i^T>_{p_theta} = (W_L...W_{i+1})^T St^-1 (W_L...W_{i+1}) (Eq. 14: <(y - x_L)(y - x_L)^T> = "
                   "St under q_theta)", 316),
              Step("<x_{i-1} x_{i-1}^T>_{p_theta} = (W_{i-1}...W_1) Sigma (W_{i-1}...W_1)^T (Eq. 15)", 337),
              Step("F_ij = <x_{i-1} x_{j-1}^T> kron <e_i e_j^T> (Eq. 22; the expectation of the Kronecker product "
                   "factors because e depends on y - x_L only, independent of x under p_theta)", 669),
              Step("F_ij != 0 for i != j (the exact Fisher is not block-diagonal)", 679),
              Step("only n_L n_0 independent parameters: rank F <= n_L n_0", 226),
              Step("rank F <= n_L n_0, and is therefore necessarily singular (needs n_L n_0 < P)", 227, holds=False)),
       result="the Fisher blocks are right; the reason given for its singularity (rank <= n_L n_0 < P) fails when "
              "P <= n_L n_0 (bottlenecks such as 3-1-3 and the paper's own Figure 1C, and L = 1), where F is singular "
              "(L >= 2) for another reason: its rank is r (n_0 + n_L - r) < P (the symmetry W_i -> G W_i, "
              "W_{i+1} -> W_{i+1} G^-1)",
       family=FAMILY, source=f"{SRC} §3 (rank), §4 eqs 14-15, §7 eq. 22", instances=_arch,
       erratum=Erratum(
           "imprecise",
           "F of a net with L >= 2 is singular, but not because rank F <= n_L n_0: the parameter count P can be <= "
           "n_L n_0 (bottlenecks; P = 39320 < 40000 in Figure 1C). F is singular because its rank is r (n_0 + n_L - r) "
           "(r the smallest width) < P, the hidden-unit symmetry W_i -> G W_i, W_{i+1} -> W_{i+1} G^-1 giving null "
           "directions; with L = 1 it is invertible.",
           seed=SRC, line=227, passage="Thus, the Fisher matrix is of rank nL n0 at most, and is therefore necessarily "
                                       "singular.",
           evidence="Exact count over the paper's architectures (Figure 1C: P = 39320, n_L n_0 = 40000) and the 3-1-3 "
                    "net (P = 6 < 9, exact rank 5); rank r (n_0 + n_L - r) checked numerically on every architecture "
                    "of the toolkit (deeplinear.fisher_closed_form).",
           certify=_certify_rank_reason))
def proof_fisher(case, rng):
    net = case.net
    A, B = _AB(net)
    F = net.fisher()
    Fdef = RD.fisher_by_definition(net)  # J^T (Sigma kron St^-1) J: the covariance of the Gaussian score
    So_inv = np.linalg.inv(net.Sigma_out)
    v14 = Verdict.all_of([Verdict.close(net.Lambda_tilde(i + 1), A[i].T @ So_inv @ A[i], rtol=1e-11,
                                        atol=1e-12 * _scale(A[i]) ** 2 * _scale(So_inv), what=f"Lambda~_{i + 1}")
                          for i in range(net.L)], "Eq. 14")
    v15 = Verdict.all_of([Verdict.close(net.Lambda(i + 1), B[i] @ net.Sigma_x @ B[i].T, rtol=1e-11,
                                        atol=1e-12 * _scale(B[i]) ** 2 * _scale(net.Sigma_x), what=f"Lambda_{i + 1}")
                          for i in range(net.L)], "Eq. 15")
    v22 = Verdict.close(F, Fdef, rtol=1e-10, atol=1e-12 * _scale(F), what="eq. 22 blocks vs the score covariance")
    sizes = np.cumsum([0] + [W.size for W in net.weights])
    blocks = lambda M, i, j: M[sizes[i]:sizes[i + 1], sizes[j]:sizes[j + 1]]  # noqa: E731
    off = max(np.linalg.norm(blocks(F, i, j)) for i in range(net.L) for j in range(net.L) if i != j)
    diag = max(np.linalg.norm(blocks(F, i, i)) for i in range(net.L))
    voff = Verdict(PASS if off / diag >= GAP else FAIL, "deterministic",
                   f"largest off-diagonal / diagonal block norm {off / diag:.3g}")
    rank = int(np.linalg.matrix_rank(F, tol=net.P * np.finfo(float).eps * np.linalg.norm(F, 2)))
    nn = net.widths[0] * net.widths[-1]
    vrank = Verdict.all_of([Verdict.within(np.array([rank]), np.array([0.0]), np.array([nn]), rtol=0.0,
                                           what="rank F <= n_L n_0"),
                            Verdict.close(rank, net.generic_fisher_rank, rtol=0.0, what="rank F = r (n_0 + n_L - r)")],
                           f"rank F = {rank}")
    # the printed reason: P > n_L n_0.  Shown false on the 3-1-3 net (fresh random layers) and Figure 1C's widths,
    # where F is singular all the same: rank r (n0 + nL - r) < P, with the symmetry directions in its null space
    n313 = DI.random_net((3, 1, 3), int(rng.integers(1 << 30)))
    F3 = n313.fisher()
    r3 = int(np.linalg.matrix_rank(F3, tol=n313.P * np.finfo(float).eps * np.linalg.norm(F3, 2)))
    null = np.max(np.abs(F3 @ RD.gauge_directions(n313))) / _scale(F3)
    Pc, nnc = _fig1c_count()
    reason_fails = n313.P < 9 and Pc < nnc and r3 == 5 < n313.P and null < 1e-12
    vreason = Verdict(PASS if reason_fails else FAIL, "deterministic",
                      f"'rank <= n_L n_0 < P' fails: 3-1-3 has P = {n313.P} < 9 and Figure 1C P = {Pc} < {nnc}; "
                      f"F singular anyway (3-1-3: rank {r3} < P, symmetry directions in its null space to {null:.1e}); "
                      f"this instance: P = {net.P}, n_L n_0 = {nn}, rank {rank}")
    return [v14, v15, v22, voff, vrank, vreason]


# -- Eqs 16-18 (square invertible layers) ------------------------------------------------------------------------

@proof(statement="Bernacchia et al., Eqs 16-18 (the total map under Eq. 10 with square invertible layers)", seed=SRC,
       line=353,
       stated=("all W_i square and invertible", "Sigma and St full rank", "not initialized at a saddle point"),
       used=("all W_i square and invertible", "Sigma and St full rank",
             "the layers stay invertible along the whole path (Eq. 16 at every t)"),
       steps=(Step("Eq. 10 with Eqs 13-15: dW_i = (1/L) (W_L...W_{i+1})^-1 <(y - x_L) x^T> Sigma^-1 (W_{i-1}...W_1)^-1 "
                   "(Eq. 16)", 357),
              Step("dW = sum_i (W_L...W_{i+1}) dW_i (W_{i-1}...W_1) (Eq. 17, the product rule)", 377),
              Step("Eq. 16 in Eq. 17: dW = -W + <y x^T> Sigma^-1 (Eq. 18)", 389),
              Step("<y x^T> Sigma^-1 is the least-squares solution (the minimizer of Eq. 6 over W)", 401),
              Step("the loss is quadratic in W, so along Eq. 18 it decays exponentially: E(t) = E(0) e^-2t", 403),
              Step("this holds for every start that is not a saddle point", 405, checked=False,
                   how="the hypothesis the derivation needs (invertible layers along the path, for Eq. 16 and Eq. 10) "
                       "and where it fails are the subject of the check deeplinear.singular_crossing")),
       result="sound on paths that keep every layer invertible: Eq. 16 (Eq. 10) needs that at every t, more than the "
              "stated start off a saddle (see deeplinear.singular_crossing)",
       family=FAMILY, source=f"{SRC} §4, eqs 16-18", instances=_square)
def proof_eq16_eq18(case, rng):
    net = case.net
    A, B = _AB(net)
    F = net.fisher()
    tol = _rtol(F)
    d10 = net.eq10_update()
    R = net.Cyx - net.W @ net.Sigma_x  # <(y - x_L) x^T>
    eq16 = [np.linalg.solve(A[i], R) @ np.linalg.inv(net.Sigma_x) @ np.linalg.inv(B[i]) / net.L for i in range(net.L)]
    v16 = Verdict.all_of([Verdict.close(d10[i], eq16[i], rtol=0.0, atol=tol * _scale(eq16[i]), what=f"dW_{i + 1}")
                          for i in range(net.L)], "Eq. 16")
    u = rng.standard_normal(net.P)
    Ju = (RD.jacobian_by_differences(net) @ u).reshape(net.W.shape, order="F")  # exact: W is affine in each theta_k
    v17 = Verdict.close(net.total_map_velocity(u), Ju, rtol=1e-10, atol=1e-12 * _scale(Ju), what="Eq. 17 vs J u")
    v18 = Verdict.close(net.total_map_velocity(d10), net.W_star - net.W, rtol=0.0,
                        atol=tol * _scale(net.W_star - net.W), what="Eq. 16 in Eq. 17 vs Eq. 18")
    # Eq. 6 is convex quadratic in W with gradient St^-1 (W Sigma - <y x^T>): its minimizer solves the normal equations
    vls = Verdict.close(net.W_star @ net.Sigma_x, net.Cyx, rtol=1e-12, atol=1e-12 * _scale(net.Cyx),
                        what="normal equations W* Sigma = <y x^T>")
    t = np.array([0.0, 0.5, 1.0, 3.0])
    E = np.array([net.excess_loss(W) for W in D.eq18_path(net, t)])
    vE = Verdict.close(E, E[0] * np.exp(-2 * t), rtol=1e-10, atol=1e-14 * E[0], what="E(t) along Eq. 18 vs E(0) e^-2t")
    return [v16, v17, v18, vls, vE]


# -- Eq. 19 (Moore-Penrose inverses) -------------------------------------------------------------------------------

@proof(statement="Bernacchia et al., Eq. 19 (total-map dynamics with Moore-Penrose inverses)", seed=SRC, line=407,
       stated=("covariances of Eqs 14-15 not invertible (non-square layers)", "Moore-Penrose inverses in Eq. 10"),
       used=("Moore-Penrose inverses in Eq. 10",),
       steps=(Step("Eq. 10 (pinv) gives A_i dW_i B_i = -(1/L) P_i^a (W - W*) P_i^b with P_i^a = A_i Lambda~_i^+ A_i^T "
                   "St^-1, P_i^b = Sigma B_i^T Lambda_i^+ B_i (Supplementary eq. 45, derived here)", 410),
              Step("P_i^a and P_i^b are projections", 418),
              Step("P_i^a W P_i^b = W, so dW = -W + (1/L) sum_i P_i^a <y x^T> Sigma^-1 P_i^b (Eq. 19)", 413),
              Step("in a bottleneck W attains only a low-rank approximation of W*", 419),
              Step("P_i^a = I for a non-expanding network, P_i^b = I for a non-contracting one", 421),
              Step("Eq. 19 is the natural gradient's dynamics of W ('the Moore-Penrose pseudo-inverse must be used "
                   "instead, inducing similar dynamics')", 408, holds=False)),
       result="Eq. 19 is derived correctly as the dynamics of Eq. 10 with Moore-Penrose inverses, but it is not the "
              "natural gradient's wherever a hidden width is below max(n_0, n_L) (the erratum of "
              "deeplinear.eq10_counterexample; the condition is deeplinear.claim_b_eq10's)",
       family=FAMILY, source=f"{SRC} §4, eq. 19", instances=_arch)
def proof_eq19(case, rng):
    net = case.net
    A, B = _AB(net)
    F = net.fisher()
    tol = _rtol(F)
    So_inv = np.linalg.inv(net.Sigma_out)
    d10 = net.eq10_update()
    Dm = net.W - net.W_star
    Pa = [A[i] @ np.linalg.pinv(A[i].T @ So_inv @ A[i], rcond=1e-10, hermitian=True) @ A[i].T @ So_inv
          for i in range(net.L)]
    Pb = [net.Sigma_x @ B[i].T @ np.linalg.pinv(B[i] @ net.Sigma_x @ B[i].T, rcond=1e-10, hermitian=True) @ B[i]
          for i in range(net.L)]
    per = [A[i] @ d10[i] @ B[i] for i in range(net.L)]
    v45 = Verdict.all_of([Verdict.close(per[i], -Pa[i] @ Dm @ Pb[i] / net.L, rtol=0.0,
                                        atol=tol * _scale(Dm) / net.L, what=f"A_{i + 1} dW_{i + 1} B_{i + 1}")
                          for i in range(net.L)], "Eq. 10 per layer as projections")
    lib = net.projections()
    vproj = Verdict.all_of([Verdict.close(M @ M, M, rtol=0.0, atol=tol * max(1.0, _scale(M)), what="P^2 = P")
                            for pair in lib for M in pair]
                           + [Verdict.close(lib[i][0], Pa[i], rtol=0.0, atol=tol * max(1.0, _scale(Pa[i])),
                                            what=f"P_{i + 1}^a") for i in range(net.L)]
                           + [Verdict.close(lib[i][1], Pb[i], rtol=0.0, atol=tol * max(1.0, _scale(Pb[i])),
                                            what=f"P_{i + 1}^b") for i in range(net.L)], "projections")
    v19 = Verdict.all_of([Verdict.close(Pa[i] @ net.W @ Pb[i], net.W, rtol=0.0, atol=tol * _scale(net.W),
                                        what=f"P_{i + 1}^a W P_{i + 1}^b = W") for i in range(net.L)]
                         + [Verdict.close(net.eq19_velocity(), sum(per), rtol=0.0, atol=tol * _scale(sum(per)),
                                          what="Eq. 19 vs Eq. 10's dW")], "Eq. 19")
    r = min(net.widths)
    rankW = int(np.linalg.matrix_rank(net.W))
    vlow = Verdict(PASS if rankW <= r else FAIL, "deterministic", f"rank W = {rankW} <= r = {r}")
    w = net.widths
    checks = []
    if all(a >= b for a, b in zip(w, w[1:])):  # non-expanding
        checks += [Verdict.close(Pa[i], np.eye(w[-1]), rtol=0.0, atol=tol, what=f"P_{i + 1}^a = I") for i in range(net.L)]
    if all(a <= b for a, b in zip(w, w[1:])):  # non-contracting
        checks += [Verdict.close(Pb[i], np.eye(w[0]), rtol=0.0, atol=tol, what=f"P_{i + 1}^b = I") for i in range(net.L)]
    # and in every net: P_i^a = I exactly where A_i has full row rank (P_i^b: B_i full column rank)
    for i in range(net.L):
        fa = np.linalg.matrix_rank(A[i]) == w[-1]
        ea = _rel(Pa[i], np.eye(w[-1]))
        checks.append(Verdict(PASS if (ea <= 1e3 * tol) == fa else FAIL, "deterministic",
                              f"P_{i + 1}^a = I iff A_{i + 1} has full row rank ({fa}, |P - I| = {ea:.1e})"))
    vPI = Verdict.all_of(checks, "P^a = I (non-expanding), P^b = I (non-contracting)")
    dWng = net.total_map_velocity(net.natural_gradient())
    gap = _rel(sum(per), dWng)
    if DI.claim_b_expected(w):  # the audit: Eq. 19 is the natural gradient's dynamics only here
        vng = Verdict(PASS if gap <= tol else FAIL, "deterministic",
                      f"every hidden width >= max(n_0, n_L): Eq. 19 = the natural gradient's dW (gap {gap:.1e})")
    else:
        vng = _shown_false(gap, "Eq. 19 vs the natural gradient's dW (a hidden width < max(n_0, n_L))")
    return [v45, vproj, v19, vlow, vPI, vng]


# -- Eqs 22-23: the generalized inverse F^g and the block-diagonal remark -----------------------------------------------

@proof(statement="Bernacchia et al., Eqs 22-23 (the generalized inverse F^g and the block-diagonal puzzle)", seed=SRC,
       line=684,
       stated=("square and invertible blocks (square invertible layers)",),
       used=("square and invertible blocks (square invertible layers)",),
       steps=(Step("(F^g)_ij = (1/L^2) <x_{j-1} x_{i-1}^T>^-1 kron <e_j e_i^T>^-1 (Eq. 23)", 688),
              Step("F^g is a generalized inverse of F: F F^g F = F (Supplementary eq. 36)", 685),
              Step("each block of F^g is the inverse of the corresponding block of the transposed Fisher (with the "
                   "factor 1/L^2 of Eq. 23: (F^g)_ij = (1/L^2) F_ji^-1)", 697),
              Step("F^g is not block-diagonal", 698),
              Step("each block of a row of F^g contributes the same to the natural gradient: (F^g)_ij grad_j = "
                   "(F^g)_ii grad_i (Supplementary eq. 37)", 701),
              Step("so -F^g grad = Eq. 10, and inverting only the diagonal blocks F_ii gives L x Eq. 10", 681)),
       result="sound (the text's 'each block ... is equal to the inverse of the corresponding block' omits Eq. 23's "
              "factor 1/L^2; 'proportional to the exact natural gradient' for the block-diagonal inverse in other "
              "architectures needs claim (b)'s condition, see deeplinear.claim_b_eq10)",
       family=FAMILY, source=f"{SRC} §7, eqs 22-23", instances=_square)
def proof_eq23(case, rng):
    net = case.net
    A, B = _AB(net)
    L, n2 = net.L, net.widths[0] ** 2
    So_inv = np.linalg.inv(net.Sigma_out)
    F, Fg, g = net.fisher(), D.ginverse.eq23(net), net.gradient()
    blk = lambda M, i, j: M[i * n2:(i + 1) * n2, j * n2:(j + 1) * n2]  # noqa: E731
    # inverses of n x n products of 3-4 random layers: condition numbers ~1e2-1e3, so 1e-9 relative
    mine = [[np.kron(np.linalg.inv(B[j] @ net.Sigma_x @ B[i].T), np.linalg.inv(A[j].T @ So_inv @ A[i])) / L**2
             for j in range(L)] for i in range(L)]
    v23 = Verdict.all_of([Verdict.close(blk(Fg, i, j), mine[i][j], rtol=1e-9, atol=1e-12 * _scale(mine[i][j]),
                                        what=f"(F^g)_{i + 1}{j + 1}") for i in range(L) for j in range(L)], "Eq. 23")
    vg = Verdict.close(F @ Fg @ F, F, rtol=0.0, atol=1e-9 * _scale(F), what="F F^g F vs F")
    vT = Verdict.all_of([Verdict.close(L**2 * blk(Fg, i, j), np.linalg.inv(blk(F, j, i)), rtol=1e-9,
                                       atol=1e-12 * _scale(L**2 * blk(Fg, i, j)), what=f"L^2 (F^g)_{i + 1}{j + 1} vs F_{j + 1}{i + 1}^-1")
                         for i in range(L) for j in range(L)], "blocks of F^g vs inverse blocks of F^T")
    off = max(np.linalg.norm(blk(Fg, i, j)) for i in range(L) for j in range(L) if i != j)
    diag = max(np.linalg.norm(blk(Fg, i, i)) for i in range(L))
    voff = Verdict(PASS if off / diag >= GAP else FAIL, "deterministic",
                   f"off-diagonal / diagonal block norm of F^g = {off / diag:.3g}")
    contrib = [[blk(Fg, i, j) @ g[j * n2:(j + 1) * n2] for j in range(L)] for i in range(L)]
    v37 = Verdict.all_of([Verdict.close(contrib[i][j], contrib[i][i], rtol=1e-9, atol=1e-12 * _scale(contrib[i][i]),
                                        what=f"(F^g)_{i + 1}{j + 1} grad_{j + 1}") for i in range(L) for j in range(L)],
                         "equal contributions")
    d10 = net.flatten(net.eq10_update())
    vbd = Verdict.all_of([Verdict.close(-Fg @ g, d10, rtol=1e-9, atol=1e-12 * _scale(d10), what="-F^g grad vs Eq. 10"),
                          Verdict.close(net.flatten(net.blockdiag_update()), L * d10, rtol=1e-12,
                                        atol=1e-13 * _scale(d10), what="block-diagonal inverse vs L x Eq. 10")],
                         "Eq. 10 and the block-diagonal update")
    return [v23, vg, vT, voff, v37, vbd]


# -- Eq. 20 and footnote 1: damping -------------------------------------------------------------------------------

def _eq20(net, lam, alpha=1.0):
    """Eq. 20: (alpha / L) (Lambda~_i + sqrt(lam) I)^-1 <e_i x_{i-1}^T> (Lambda_i + sqrt(lam) I)^-1, written here."""
    s = np.sqrt(lam)
    return [alpha / net.L * np.linalg.solve(net.Lambda_tilde(i + 1) + s * np.eye(W.shape[0]),
                                            -G) @ np.linalg.inv(net.Lambda(i + 1) + s * np.eye(W.shape[1]))
            for i, (W, G) in enumerate(zip(net.weights, net.gradient_layers()))]


@proof(statement="Bernacchia et al., Eq. 20 and footnote 1 (damped natural gradient)", seed=SRC, line=442,
       stated=("lambda_k I added to both covariances Lambda_i and Lambda~_i (sqrt(lambda_k) in Eq. 20)",
               "Delta W_i the natural-gradient update, F d = -grad (footnote 1)"),
       used=("lambda_k I added to both covariances Lambda_i and Lambda~_i (sqrt(lambda_k) in Eq. 20)",
             "Delta W_i the natural-gradient update, F d = -grad (footnote 1)"),
       steps=(Step("adding sqrt(lambda) I to both covariances is not equivalent to adding lambda to the Fisher", 443),
              Step("for large lambda the damped update is a small SGD step: lambda Delta W_i -> (alpha/L) <e_i x_{i-1}^T>",
                   445),
              Step("if Delta W is the natural-gradient update, the quadratic model predicts the change "
                   "(-alpha + alpha^2/2) sum_i tr(Delta W_i^T <e_i x_{i-1}^T>) (footnote 1)", 484),
              Step("lambda_{k+1} = 3/2 lambda_k if rho_k < 1/4, 2/3 lambda_k if rho_k > 3/4 (Eq. 21)", 461, checked=False,
                   how="a definition (checked against the printed table by deeplinear.online_ngd_damping)")),
       result="sound; footnote 1 is the quadratic model of the exact Fisher for the exact natural gradient in every "
              "architecture, and for Eq. 10 only under claim (b)'s condition (see deeplinear.online_ngd_damping)",
       family=FAMILY, source=f"{SRC} §5, eqs 20-21 and footnote 1", instances=_arch)
def proof_eq20(case, rng):
    net = case.net
    F, g = net.fisher(), net.gradient()
    tol = _rtol(F)
    P = net.P
    gaps = []
    for lam in (0.1, 1.0):
        d20 = net.flatten(_eq20(net, lam))
        dF = -np.linalg.solve(F + lam * np.eye(P), g) / net.L  # the Fisher damped by lambda, same 1/L
        dF2 = -np.linalg.solve(F + lam * np.eye(P), g)
        gaps.append(min(_rel(d20, dF), _rel(d20, dF2)))
    vnot = _shown_false(min(gaps), "Eq. 20 vs -(F + lambda I)^-1 grad (also / L), lambda = 0.1, 1")
    lam = 1e8
    big = [lam * U for U in _eq20(net, lam)]
    sgd = [-G / net.L for G in net.gradient_layers()]
    # (X + s I)^-1 = s^-1 (I - X/s + ...): relative error <= 2 (|Lambda~| + |Lambda|)/sqrt(lambda), times 10
    bound = max(20 * (np.linalg.norm(net.Lambda_tilde(i + 1), 2) + np.linalg.norm(net.Lambda(i + 1), 2)) / np.sqrt(lam)
                for i in range(net.L))
    vsgd = Verdict.all_of([Verdict.close(b, s, rtol=bound, atol=bound * _scale(s), what=f"lambda Delta W_{i + 1}")
                           for i, (b, s) in enumerate(zip(big, sgd))], f"large-lambda limit (lambda = {lam:g})")
    grads = [-G for G in net.gradient_layers()]
    vs = []
    dirs = {"exact natural gradient": net.unflatten(net.natural_gradient())}
    if DI.claim_b_expected(net.widths):
        dirs["Eq. 10"] = net.eq10_update()
    for name, dl in dirs.items():
        d = net.flatten(dl)
        for a in (0.25, 1.0):
            model = a * g @ d + 0.5 * a * a * d @ F @ d
            vs.append(Verdict.close(D.online.predicted_change(a, dl, grads), model, rtol=max(tol, 1e-10),
                                    atol=tol * abs(a * g @ d), what=f"footnote 1 vs the quadratic model ({name}, alpha {a})"))
    return [vnot, vsgd, Verdict.all_of(vs, "footnote 1")]
