"""Independent routes for the deep-linear-network quantities (003_34787a2226c5cf0a.txt).

* The Jacobian of the total map by differences: ``W`` is linear in each single parameter (a product of
  layers), so the forward difference with step 1 is exact up to rounding;
* the Fisher from its definition for the Gaussian regression ``y ~ N(W x, St)``, ``E[score score^T]``
  = ``J^T (Sigma kron St^-1) J``, and by Monte Carlo over ``x ~ N(0, Sigma)``, ``y ~ N(W x, St)``;
* the gradient by central differences of the excess loss (a quadratic in each parameter: exact up to rounding);
* the null directions of the Fisher from the symmetry ``W_i -> G W_i, W_{i+1} -> W_{i+1} G^-1``;
* the forward pass of the online MLP and the gradient of its mean squared error by central differences;
* one step of online NGD (Eq. 20) with explicit layer products and ``numpy.linalg.inv``;
* Eq. 10 written out with ``numpy.linalg.pinv`` of the covariance matrices formed directly;
* the tangent-space projection of the rank-``r`` matrices in the whitened coordinates (the exact natural
  gradient in a bottleneck net);
* the exact natural-gradient flow ``theta' = -pinv(F) grad`` (Moore-Penrose, numpy) with the Fisher and the gradient
  built from the differenced Jacobian, integrated by ``solve_ivp`` with no singularity guard, and the Fisher's rank
  by ``numpy.linalg.matrix_rank`` of that dense Fisher.
"""

from __future__ import annotations

import numpy as np


def _product(layers, n0):
    W = np.eye(n0)
    for Wi in layers:
        W = Wi @ W
    return W


def loss_from_moments(net) -> float:
    """Eq. 6 without its constant, expanded in second moments: ``1/2 tr(St^-1 (Cyy - W Cxy - Cyx W^T + W Sigma W^T))``."""
    W = _product(net.weights, net.widths[0])
    M = net.Cyy - W @ net.Cyx.T - net.Cyx @ W.T + W @ net.Sigma_x @ W.T
    return 0.5 * float(np.trace(np.linalg.solve(net.Sigma_out, M)))


def jacobian_by_differences(net) -> np.ndarray:
    """``d vec(W)/d theta`` column by column: ``vec(W(theta + e_k) - W(theta))`` (exact: W is affine in theta_k)."""
    theta = net.flatten(net.weights)
    W0 = _product(net.weights, net.widths[0])
    cols = []
    for k in range(theta.size):
        th = theta.copy()
        th[k] += 1.0
        cols.append((_product(net.unflatten(th), net.widths[0]) - W0).reshape(-1, order="F"))
    return np.array(cols).T


def fisher_by_definition(net) -> np.ndarray:
    """``E[score score^T] = J^T (Sigma kron St^-1) J`` with the differenced Jacobian."""
    J = jacobian_by_differences(net)
    return J.T @ np.kron(net.Sigma_x, np.linalg.inv(net.Sigma_out)) @ J


def score_samples(net, rng, runs: int) -> np.ndarray:
    """``runs`` scores ``d log p_theta(x, y)/d theta`` with ``(x, y) ~ p_theta``: layer ``i`` gets ``e_i x_{i-1}^T``
    (eq. 7 with the errors of eq. 12 at model samples), shape ``(runs, P)``."""
    n0, nL = net.widths[0], net.widths[-1]
    x = rng.standard_normal((runs, n0)) @ np.linalg.cholesky(net.Sigma_x).T
    eps = rng.standard_normal((runs, nL)) @ np.linalg.cholesky(net.Sigma_out).T
    r = np.linalg.solve(net.Sigma_out, eps.T).T  # St^-1 (y - W x)
    acts, h = [], x
    for Wi in net.weights:
        acts.append(h)
        h = h @ Wi.T
    errs, e = [None] * net.L, r
    for i in range(net.L - 1, -1, -1):
        errs[i] = e
        e = e @ net.weights[i]
    # column-major vec(e x^T) = x kron e
    return np.hstack([(a[:, :, None] * er[:, None, :]).reshape(runs, -1) for a, er in zip(acts, errs)])


def gradient_by_differences(net, h: float = 1e-3) -> np.ndarray:
    """Central differences of the excess loss (exact for a quadratic in each parameter, up to rounding)."""
    theta = net.flatten(net.weights)
    g = np.empty_like(theta)
    for k in range(theta.size):
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        Wp = _product(net.unflatten(tp), net.widths[0])
        Wm = _product(net.unflatten(tm), net.widths[0])
        g[k] = (net.excess_loss(Wp) - net.excess_loss(Wm)) / (2 * h)
    return g


def gauge_directions(net) -> np.ndarray:
    """``(P, sum_hidden n_i^2)``: for each hidden layer i and each basis matrix X, the tangent of
    ``W_i -> (I + s X) W_i, W_{i+1} -> W_{i+1} (I + s X)^-1`` at s = 0; the total map does not move."""
    cols = []
    for i in range(net.L - 1):
        n = net.widths[i + 1]
        for a in range(n):
            for b in range(n):
                X = np.zeros((n, n))
                X[a, b] = 1.0
                layers = [np.zeros_like(W) for W in net.weights]
                layers[i] = X @ net.weights[i]
                layers[i + 1] = -net.weights[i + 1] @ X
                cols.append(net.flatten(layers))
    return np.array(cols).reshape(-1, net.P).T


def eq10_written_out(net) -> list:
    """Eq. 10 from ``numpy.linalg.pinv`` of ``<e_i e_i^T>`` and ``<x_{i-1} x_{i-1}^T>`` (eqs 14-15) formed directly."""
    Si = np.linalg.inv(net.Sigma_out)
    G = Si @ (net.Cyx - _product(net.weights, net.widths[0]) @ net.Sigma_x)  # St^-1 <(y - x_L) x^T>
    out = []
    for i in range(net.L):
        A = _product(net.weights[i + 1:], net.widths[i + 1])
        B = _product(net.weights[:i], net.widths[0])
        ex = A.T @ G @ B.T  # <e_i x_{i-1}^T>
        out.append(np.linalg.pinv(A.T @ Si @ A, rcond=1e-10, hermitian=True) @ ex
                   @ np.linalg.pinv(B @ net.Sigma_x @ B.T, rcond=1e-10, hermitian=True) / net.L)
    return out


def tangent_projection_velocity(net) -> np.ndarray:
    """``-Pi_T (W - W*)``: the M-orthogonal projection (``M = Sigma kron St^-1``) of ``W* - W`` onto the tangent
    space of the rank-``r`` matrices at ``W``, computed in the whitened coordinates ``Z = St^-1/2 W Sigma^1/2``,
    where it is ``P_U X + X P_V - P_U X P_V`` with ``U, V`` the leading singular vectors of Z."""
    Sx_half = _sqrtm(net.Sigma_x)
    So_half = _sqrtm(net.Sigma_out)
    to_z = lambda X: np.linalg.solve(So_half, X) @ Sx_half  # noqa: E731
    Z = to_z(_product(net.weights, net.widths[0]))
    D = to_z(net.W_star) - Z
    U, s, Vt = np.linalg.svd(Z)
    r = int(np.sum(s > max(Z.shape) * np.finfo(float).eps * s[0]))
    PU, PV = U[:, :r] @ U[:, :r].T, Vt[:r].T @ Vt[:r]
    T = PU @ D + D @ PV - PU @ D @ PV
    return So_half @ T @ np.linalg.inv(Sx_half)


def _split(net, theta) -> list:
    """The layers of the column-major parameter vector ``theta`` (plain slicing, no validation)."""
    out, at = [], 0
    for n_in, n_out in zip(net.widths[:-1], net.widths[1:]):
        out.append(theta[at:at + n_in * n_out].reshape((n_out, n_in), order="F"))
        at += n_in * n_out
    return out


def _fisher_and_gradient(net, theta, M=None, W_star=None):
    """``F = J^T M J`` and ``grad = J^T M vec(W - W*)`` (``M = Sigma kron St^-1``, ``J`` differenced: ``W`` is affine in
    each parameter) at ``theta``: the Gaussian regression's Fisher and gradient, ``dL/dW = St^-1 (W - W*) Sigma``, with
    none of eqs 13-22."""
    M = np.kron(net.Sigma_x, np.linalg.inv(net.Sigma_out)) if M is None else M
    W_star = np.linalg.solve(net.Sigma_x, net.Cyx.T).T if W_star is None else W_star
    W = _product(_split(net, theta), net.widths[0])
    # all P shifted parameter vectors theta + e_k at once: their layers stacked, multiplied as stacks
    shifted = theta[None, :] + np.eye(theta.size)
    Wk = np.broadcast_to(np.eye(net.widths[0]), (theta.size, net.widths[0], net.widths[0]))
    at = 0
    for n_in, n_out in zip(net.widths[:-1], net.widths[1:]):
        layer = shifted[:, at:at + n_in * n_out].reshape((theta.size, n_in, n_out)).transpose(0, 2, 1)  # column-major
        Wk = layer @ Wk
        at += n_in * n_out
    J = (Wk - W).transpose(0, 2, 1).reshape(theta.size, -1).T  # column k: vec(W(theta + e_k) - W(theta)), column-major
    return J.T @ M @ J, J.T @ (M @ (W - W_star).reshape(-1, order="F"))


def fisher_rank_dense(net) -> int:
    """``numpy.linalg.matrix_rank`` of the dense Fisher ``J^T M J`` (tolerance ``P eps |F|_2``)."""
    F, _ = _fisher_and_gradient(net, net.flatten(net.weights))
    return int(np.linalg.matrix_rank(F, tol=F.shape[0] * np.finfo(float).eps * np.linalg.norm(F, 2)))


def moore_penrose_flow(net, t, rtol: float = 1e-10):
    """``theta' = -pinv(F) grad`` (``numpy.linalg.pinv``, rcond 1e-10) integrated by solve_ivp (DOP853) straight through
    whatever it meets; returns ``(Ws, thetas, speeds)`` at the times ``t`` (increasing), ``speeds = |theta'|``."""
    from scipy.integrate import solve_ivp

    M = np.kron(net.Sigma_x, np.linalg.inv(net.Sigma_out))
    W_star = np.linalg.solve(net.Sigma_x, net.Cyx.T).T

    def rhs(_, theta):
        F, g = _fisher_and_gradient(net, theta, M, W_star)
        return -np.linalg.pinv(F, rcond=1e-10, hermitian=True) @ g

    theta0 = net.flatten(net.weights)
    t = np.asarray(t, dtype=float)
    sol = solve_ivp(rhs, (0.0, float(t[-1])), theta0, method="DOP853", t_eval=t, rtol=rtol,
                    atol=1e-12 * max(1.0, float(np.max(np.abs(theta0)))))
    if sol.status != 0:
        raise RuntimeError(f"moore_penrose_flow: solve_ivp failed ({sol.message})")
    thetas = sol.y.T
    Ws = np.array([_product(_split(net, th), net.widths[0]) for th in thetas])
    return Ws, thetas, np.array([np.linalg.norm(rhs(0.0, th)) for th in thetas])


def eq18_solved(net, t) -> np.ndarray:
    """``W* + (W_0 - W*) e^-t`` with ``W* = Cyx Sigma^-1`` by ``numpy.linalg.solve`` and ``W_0`` the product of layers."""
    Ws = np.linalg.solve(net.Sigma_x, net.Cyx.T).T
    W0 = _product(net.weights, net.widths[0])
    return Ws[None] + (W0 - Ws)[None] * np.exp(-np.asarray(t, dtype=float))[:, None, None]


def sign_changes_of_det(net, t_max: float = 12.0, points: int = 4001) -> list:
    """Every t in (0, t_max] at which ``det(W* + (W_0 - W*) e^-t)`` changes sign (scan, then brentq), increasing."""
    from scipy.optimize import brentq

    W0, Ws = _product(net.weights, net.widths[0]), net.W_star
    f = lambda t: np.linalg.det(Ws + (W0 - Ws) * np.exp(-t))  # noqa: E731
    ts = np.linspace(0.0, t_max, points)
    vals = np.linalg.det(Ws[None] + (W0 - Ws)[None] * np.exp(-ts)[:, None, None])
    change = np.flatnonzero(np.sign(vals[1:]) != np.sign(vals[:-1]))
    return [brentq(f, ts[i], ts[i + 1], xtol=1e-14) for i in change]


def first_sign_change_of_det(net, t_max: float = 12.0, points: int = 4001):
    """The first t at which ``det(W* + (W_0 - W*) e^-t)`` changes sign (scan, then brentq), or None."""
    changes = sign_changes_of_det(net, t_max, points)
    return changes[0] if changes else None


def eq21_table(lam, rho):
    """Eq. 21 as printed: lambda_{k+1} = 3/2 lambda_k if rho_k < 0.25, 2/3 lambda_k if rho_k > 0.75, else lambda_k."""
    return lam * (3.0 / 2.0) if rho < 0.25 else lam * (2.0 / 3.0) if rho > 0.75 else lam


def mlp_forward(weights, X, activation: str) -> np.ndarray:
    """Eq. 1 written out, one layer at a time: ``x_i = phi(W_i x_{i-1})`` with ``phi = tanh`` on the hidden layers
    only (``activation="tanh"``) and a linear output layer; rows of ``X`` are inputs."""
    h = np.asarray(X, dtype=float)
    for i, W in enumerate(weights):
        h = h @ W.T
        if activation == "tanh" and i < len(weights) - 1:
            h = np.tanh(h)
    return h


def mean_squared_error_gradient(weights, X, Y, activation: str, h: float = 1e-5) -> list:
    """``d/dW_i`` of ``1/2 mean_rows |y - x_L|^2`` by central differences of :func:`mlp_forward` (error ~ h^2)."""
    def loss(ws):
        R = Y - mlp_forward(ws, X, activation)
        return 0.5 * float(np.sum(R * R)) / X.shape[0]

    out = []
    for i, W in enumerate(weights):
        G = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            up = [w.copy() for w in weights]
            dn = [w.copy() for w in weights]
            up[i][idx] += h
            dn[i][idx] -= h
            G[idx] = (loss(up) - loss(dn)) / (2 * h)
        out.append(G)
    return out


def online_ngd_step(weights, X, Y, s2, alpha, lam, xi, eta=None):
    """One step of Eq. 20 on a deep linear net, written out with explicit products and ``numpy.linalg.inv``: with
    ``A_i = W_L ... W_{i+1}`` and ``B_i = W_{i-1} ... W_1``, the true errors ``e_i = A_i^T (y - W x) / s2``, the
    model-sample errors ``e~_i = A_i^T xi_s`` (``xi`` of shape (K, M, n_L): the scaled output noise of the K model
    samples ``y~ = W x + sqrt(s2) z``, ``xi = z / sqrt(s2)``), ``Lambda_i = <B_i x x^T B_i^T> + sqrt(lam) I``,
    ``Lambda~_i = <e~_i e~_i^T> + sqrt(lam) I`` (over the K M samples) and ``W_i += alpha / L Lambda~_i^-1 <e_i h^T>
    Lambda_i^-1``.  With ``eta`` (the running estimates' first step) each covariance is instead ``(1 - eta) c_0 I + eta
    <.>`` with ``c_0`` the mean square entry of that minibatch's factor (its starting value ``C_0 = c_0 I``).  Returns
    the new layers, the directions ``D_i`` and the gradients ``<e_i h_{i-1}^T>``."""
    L, n0 = len(weights), X.shape[1]
    M = X.shape[0]
    R = (Y - X @ _product(weights, n0).T) / s2  # rows: (y - W x)^T / s2
    Z = xi.reshape(-1, xi.shape[-1])
    new, dirs, grads = [], [], []
    for i in range(1, L + 1):
        A = _product(weights[i:], weights[i - 1].shape[0])  # W_L ... W_{i+1}
        H = X @ _product(weights[:i - 1], n0).T  # rows h_{i-1}^T = (B_i x)^T
        G = A.T @ R.T @ H / M
        E = Z @ A
        if eta is None:
            Lam = H.T @ H / M + np.sqrt(lam) * np.eye(H.shape[1])
            Lam_t = E.T @ E / Z.shape[0] + np.sqrt(lam) * np.eye(E.shape[1])
        else:
            Lam = (1 - eta) * np.mean(H * H) * np.eye(H.shape[1]) + eta * H.T @ H / M
            Lam_t = (1 - eta) * np.mean(E * E) * np.eye(E.shape[1]) + eta * E.T @ E / Z.shape[0]
        Dd = np.linalg.inv(Lam_t) @ G @ np.linalg.inv(Lam) / L
        new.append(weights[i - 1] + alpha * Dd)
        dirs.append(Dd)
        grads.append(G)
    return new, dirs, grads


def running_inverse(c0, eta, Hs):
    """``C_k^-1`` for ``C_0 = c0 I``, ``C_k = (1 - eta) C_{k-1} + eta <h h^T>_batch``, by direct inversion."""
    C = c0 * np.eye(Hs[0].shape[1])
    for H in Hs:
        C = (1.0 - eta) * C + eta * H.T @ H / H.shape[0]
    return np.linalg.inv(C)


def _sqrtm(S):
    lam, Q = np.linalg.eigh(S)
    return (Q * np.sqrt(lam)) @ Q.T
