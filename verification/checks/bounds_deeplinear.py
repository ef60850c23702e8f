"""Bounds of Bernacchia, Lengyel & Hennequin (003_34787a2226c5cf0a.txt) for the hunt (:mod:`verification.hunt`).

Footnote 1 (line 484) is not an inequality: it *defines* the predicted decrease of the damping rule (eq. 21) as that of
"the quadratic function whose minimization by the Newton method would require a step in the direction of Delta W_i",
``(-alpha + alpha^2/2) sum_i tr(Delta W_i^T <e_i x_{i-1}^T>)``.  For Eq. 10's update ``D_i = (1/L) Lambda~_i^-1
<e_i x_{i-1}^T> Lambda_i^-1`` that quadratic's Hessian is ``L F_bd`` (L times the block diagonal of the Fisher, whose
blocks are ``Lambda_i (x) Lambda~_i``), and the check ``deeplinear.online_ngd_damping`` shows it equals the quadratic
model of the exact Fisher ``F`` only where Eq. 10 solves ``F d = -grad`` (claim (b)).  What the passage implies everywhere
is an inequality between the two models: ``F <= L F_bd`` (Loewner; Cauchy-Schwarz over the L blocks), so along Eq. 10's
direction ``d^T F d <= sum_i tr(D_i^T <e_i x_{i-1}^T>)``, i.e. for every alpha > 0 the exact-Fisher model's predicted
change ``alpha g^T d + alpha^2/2 d^T F d`` is at most footnote 1's (the footnote never over-promises relative to the
Fisher model, so rho of eq. 21 computed with it is at least rho computed with the Fisher model).  Registered:

* ``footnote1_fisher_model``: ``d^T F d <= sum_i tr(D_i^T <e_i x_{i-1}^T>)`` for the 2-layer bottleneck net 2-1-2 (claim
  (b) fails, so the inequality is strict in general; on claim (b)'s architectures it is an equality), from the
  library's dense Fisher and ``predicted_change``; certified at 50 digits by the layer-wise closed form
  ``d^T F d = tr(St^-1 V Sigma V^T)``, ``V = sum_i B_i D_i A_i``.  Expected to hold.

Not registered: Eq. 18's decay ``E(t) = E(0) e^-2t`` (line 402) is an equality of the solved linear ODE, not a bound
(the check ``deeplinear.decay_law`` verifies it along integrated flows, and its erratum records the bottleneck's slower
rate, 2 (1 - s_(r+1)/s_r), a statement about an asymptotic rate rather than an inequality at finite t); evaluating it
at a point would need an ODE solve per evaluation and a high-precision ODE solver to certify.
"""

from __future__ import annotations


import mpmath as mp
import numpy as np

import theorytools.deeplinear as D
from theorytools.errors import HypothesisError
from verification.hunt import CERTIFY_DPS, LogReal, Real, bound, mpf_exact

SRC = "003_34787a2226c5cf0a.txt"
FAMILY = "deeplinear"
#: The 2-1-2 net: W_1 = r1 (cos a1, sin a1) (1 x 2), W_2 = r2 (cos a2, sin a2)^T (2 x 1); Sigma_x = Rot(c) diag(1, e)
#: Rot(c)^T; Sigma-tilde = I; <y x^T> = W* Sigma_x with W* = diag(1, w).
SPACE = {"r1": LogReal(0.1, 10.0), "r2": LogReal(0.1, 10.0), "a1": Real(0.0, float(np.pi)),
         "a2": Real(0.0, float(np.pi)), "c": Real(0.0, float(np.pi)), "e": LogReal(1e-2, 1.0), "w": Real(-2.0, 2.0)}


def _net(r1, r2, a1, a2, c, e, w):
    W1 = r1 * np.array([[np.cos(a1), np.sin(a1)]])
    W2 = r2 * np.array([[np.cos(a2)], [np.sin(a2)]])
    R = np.array([[np.cos(c), -np.sin(c)], [np.sin(c), np.cos(c)]])
    Sx = R @ np.diag([1.0, e]) @ R.T
    return D.DeepLinearNet([W1, W2], Sx, np.eye(2), np.diag([1.0, w]) @ Sx)



def _footnote1_mp(r1, r2, a1, a2, c, e, w):
    """Both sides at 50 digits, layer by layer: ``A_1 = I``, ``B_1 = W_2``, ``A_2 = W_1``, ``B_2 = I``;
    ``Lambda_i = A_i Sigma A_i^T``, ``Lambda~_i = B_i^T St^-1 B_i``, ``G_i = <e_i x_{i-1}^T> = B_i^T St^-1 (<y x^T> -
    W Sigma) A_i^T``, ``D_i = (1/L) Lambda~_i^-1 G_i Lambda_i^-1``; ``rhs = sum_i tr(D_i^T G_i)``, ``lhs = tr(St^-1 V Sigma
    V^T)`` with ``V = sum_i B_i D_i A_i`` (the first-order change of W along d; the Fisher of the Gaussian output model
    is ``J^T (St^-1 (x) Sigma) J``)."""
    with mp.workdps(CERTIFY_DPS):
        r1, r2, a1, a2, c, e, w = (mpf_exact(v) for v in (r1, r2, a1, a2, c, e, w))
        W1 = r1 * mp.matrix([[mp.cos(a1), mp.sin(a1)]])
        W2 = r2 * mp.matrix([[mp.cos(a2)], [mp.sin(a2)]])
        R = mp.matrix([[mp.cos(c), -mp.sin(c)], [mp.sin(c), mp.cos(c)]])
        Sx = R * mp.diag([1, e]) * R.T
        Cyx = mp.diag([1, w]) * Sx
        W = W2 * W1
        As, Bs = (mp.eye(2), W1), (W2, mp.eye(2))
        rhs, V = mp.mpf(0), mp.zeros(2, 2)
        for A, B in zip(As, Bs):
            Lam, Lamt = A * Sx * A.T, B.T * B
            G = B.T * (Cyx - W * Sx) * A.T
            Di = mp.inverse(Lamt) * G * mp.inverse(Lam) / 2
            rhs += sum(Di[i, j] * G[i, j] for i in range(Di.rows) for j in range(Di.cols))
            V += B * Di * A
        M = V * Sx * V.T
        return M[0, 0] + M[1, 1], rhs


@bound(source=f"{SRC} footnote 1 (line 484) with Eq. 10: the footnote's quadratic (Hessian L F_bd) against the "
              "quadratic model of the exact Fisher F, along Eq. 10's direction; net 2-1-2", family=FAMILY, space=SPACE,
       hypotheses="weights off the saddle set (grad != 0), Sigma_x, Sigma-tilde SPD, Eq. 10's covariances invertible "
                  "(every Lambda_i, Lambda~_i is here)", certify=_footnote1_mp)
def footnote1_fisher_model(r1, r2, a1, a2, c, e, w):
    """``(d^T F d, sum_i tr(D_i^T <e_i x_{i-1}^T>))`` with D = Eq. 10's update (``net.eq10_update``), F the dense Fisher
    (``net.fisher``) and the right side ``-2 predicted_change(1, D, <e x^T>)`` (footnote 1 at alpha = 1 is -1/2 of it).
    Equivalent, for every alpha > 0, to ``alpha g^T d + alpha^2/2 d^T F d <= (-alpha + alpha^2/2) sum_i tr(D_i^T
    <e_i x_{i-1}^T>)``.  Expected to hold (``F <= L F_bd``); an equality where the L terms ``St^-1/2 B_i D_i A_i
    Sigma^1/2`` coincide."""
    net = _net(r1, r2, a1, a2, c, e, w)
    dirs = net.eq10_update()
    grads = [-G for G in net.gradient_layers()]
    rhs = -2.0 * D.online.predicted_change(1.0, dirs, grads)
    if not rhs > 0:
        raise HypothesisError("the gradient vanishes (a stationary point): footnote 1 predicts no change")
    d = net.flatten(dirs)
    return float(d @ net.fisher() @ d), rhs
