"""Independent routes for the Fisher-geometry quantities (001_7d31b3ff3a2f0401.txt §5-13, 002_add1c097d251ec63.txt).

* Expectations over y ~ N(mu, sigma^2) by 40-node Gauss-Hermite quadrature (exact for the polynomial integrands here);
* scores and Hessians of log N(y; mu, sigma^2) by central finite differences in each coordinate system, whose maps
  from (mu, sigma) are written out again here;
* the categorical Fisher by exact enumeration of the classes, with the log-softmax written out again;
* the damped block inverse by forming J^T J / m + beta I from explicit per-example gradients.
"""

from __future__ import annotations

import numpy as np

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()

def hessian_by_differences(f, z, steps) -> np.ndarray:
    """Second central differences of a scalar f at z, with step ``steps[a]`` in coordinate a (one routine for every
    Hessian route here; rounding ~ eps |f| / step^2, truncation ~ step^2 times the fourth derivative).  Symmetric by
    construction: entry (a, b) for a <= b, mirrored."""
    z = np.asarray(z, dtype=float)
    n = z.size
    steps = np.broadcast_to(np.asarray(steps, dtype=float), (n,))
    H = np.empty((n, n))
    for a in range(n):
        for b in range(a, n):  # the formula is symmetric in (a, b): the same four points
            ea, eb = np.eye(n)[a] * steps[a], np.eye(n)[b] * steps[b]
            H[a, b] = H[b, a] = (f(z + ea + eb) - f(z + ea - eb) - f(z - ea + eb) + f(z - ea - eb)) / (4 * steps[a] * steps[b])
    return H


_TO_MU_SIGMA = {  # coordinates -> (mu, sigma)
    "mu_sigma": lambda a, b: (a, b),
    "mu_log_sigma": lambda a, b: (a, np.exp(b)),
    "mu_log_var": lambda a, b: (a, np.exp(b / 2.0)),
    "natural": lambda a, b: (-a / (2.0 * b), np.sqrt(-1.0 / (2.0 * b))),
}
_FROM_MU_SIGMA = {
    "mu_sigma": lambda m, s: np.array([m, s]),
    "mu_log_sigma": lambda m, s: np.array([m, np.log(s)]),
    "mu_log_var": lambda m, s: np.array([m, np.log(s * s)]),
    "natural": lambda m, s: np.array([m / (s * s), -1.0 / (2.0 * s * s)]),
}


def _logpdf(y, z, param):
    m, s = _TO_MU_SIGMA[param](*z)
    return -((y - m) ** 2) / (2.0 * s * s) - np.log(s) - 0.5 * np.log(2.0 * np.pi)


def _score(y, z, param, h=1e-6):
    out = []
    for k in range(2):
        e = np.zeros(2)
        e[k] = h * max(1.0, abs(z[k]))
        out.append((_logpdf(y, z + e, param) - _logpdf(y, z - e, param)) / (2 * e[k]))
    return np.array(out)


def _hessian(y, z, param, h=1e-4):
    H = np.empty((2, 2) + np.shape(y))
    for k in range(2):
        e = np.zeros(2)
        e[k] = h * max(1.0, abs(z[k]))
        H[:, k] = (_score(y, z + e, param) - _score(y, z - e, param)) / (2 * e[k])
    return H


def gaussian_fisher_routes(mu, sigma, param):
    """``(E[score score^T], -E[Hessian], E[score])`` at (mu, sigma) in ``param`` (quadrature of differences)."""
    z = _FROM_MU_SIGMA[param](mu, sigma)
    y = mu + sigma * _NODES
    S = _score(y, z, param)  # (2, nodes)
    F_score = (S * _WEIGHTS) @ S.T
    F_hess = -np.einsum("abn,n->ab", _hessian(y, z, param), _WEIGHTS)
    return F_score, F_hess, S @ _WEIGHTS


def coordinate_jacobian(mu, sigma, frm, to, h=1e-6):
    """``d to / d frm`` at (mu, sigma) by central differences of the composed coordinate maps."""
    z = _FROM_MU_SIGMA[frm](mu, sigma)
    J = np.empty((2, 2))
    for k in range(2):
        e = np.zeros(2)
        e[k] = h * max(1.0, abs(z[k]))
        J[:, k] = (_FROM_MU_SIGMA[to](*_TO_MU_SIGMA[frm](*(z + e))) - _FROM_MU_SIGMA[to](*_TO_MU_SIGMA[frm](*(z - e)))) / (2 * e[k])
    return J


def logvar_loss_hessian(y, mu, gamma, h=1e-4):
    """Hessian of ``gamma/2 + (y - mu)^2 / (2 e^gamma)`` in (mu, gamma) by differences (§9.2's L up to its constant)."""
    L = lambda z: 0.5 * z[1] + (y - z[0]) ** 2 / (2.0 * np.exp(z[1]))  # noqa: E731
    return hessian_by_differences(L, [mu, gamma], h)


def categorical_routes(z):
    """``(E[score score^T], E[score], Hessian of log-sum-exp by differences)`` for logits z (exact enumeration)."""
    z = np.asarray(z, dtype=float)
    lse = lambda v: np.max(v) + np.log(np.sum(np.exp(v - np.max(v))))  # noqa: E731
    p = np.exp(z - lse(z))
    K = z.size
    scores = np.eye(K) - p  # d log p_y / dz = e_y - p, row y
    F = (scores.T * p) @ scores
    return F, p @ scores, hessian_by_differences(lse, z, 1e-4)


def damped_block_inverse_applied(I, G, u, beta):
    """``(J^T J / m + beta I)^-1 u`` from per-example gradients ``outer(I[:, i], G[:, i])`` flattened row-major."""
    m = I.shape[1]
    J = np.array([np.outer(I[:, i], G[:, i]).ravel() for i in range(m)])
    return np.linalg.solve(J.T @ J / m + beta * np.eye(J.shape[1]), np.ravel(u))


def kl_hessian_by_differences(z, param, direction, h=1e-4):
    """Hessian in theta' at theta' = z of KL(z || theta') (``"forward"``) or KL(theta' || z), from the closed-form KL of
    two Gaussians written out again here, by second differences."""
    def kl(a, b):
        m1, s1 = _TO_MU_SIGMA[param](*a)
        m2, s2 = _TO_MU_SIGMA[param](*b)
        return np.log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2 * s2 * s2) - 0.5

    f = (lambda w: kl(z, w)) if direction == "forward" else (lambda w: kl(w, z))
    z = np.asarray(z, dtype=float)
    return hessian_by_differences(f, z, h * np.maximum(1.0, np.abs(z)))


def kl_by_quadrature(z1, z2, param) -> float:
    """``KL(N_1 || N_2) = int p_1 ln(p_1 / p_2)`` by adaptive quadrature (scipy.integrate.quad) of the log-density ratio,
    the two Gaussians given by their coordinates in ``param`` (decoded by the table written out here); the
    integrand is ``p_1 (ln p_1 - ln p_2)`` with the log-densities in closed form, so no closed-form KL enters."""
    from scipy import integrate

    m1, s1 = _TO_MU_SIGMA[param](*z1)
    m2, s2 = _TO_MU_SIGMA[param](*z2)

    def logpdf(y, m, s):
        return -0.5 * ((y - m) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)

    f = lambda y: np.exp(logpdf(y, m1, s1)) * (logpdf(y, m1, s1) - logpdf(y, m2, s2))  # noqa: E731
    return float(integrate.quad(f, m1 - 40 * s1, m1 + 40 * s1, points=[m1, m2], epsabs=1e-15, epsrel=1e-13,
                                limit=200)[0])


def section_11_1_iterates(theta0, alphas, xi):
    """The right-hand side of §11.1's iteration, (1 - alpha_k |theta_k|^{-2 xi}) theta_k, one step at a time."""
    th = [float(theta0)]
    for a in alphas:
        th.append((1.0 - a * abs(th[-1]) ** (-2.0 * xi)) * th[-1])
    return np.array(th)


def gamma_curvatures(problem, gamma, h=1e-5):
    """``(F_gamma, F-bar_gamma, H_gamma)`` computed directly in gamma coordinates for the §12 model: scores of
    log N(y; mu, sigma^2) at theta = zeta(gamma) by central differences in gamma, averaged by quadrature over the model
    (F) or the data (F-bar); H by second differences of h(zeta(gamma)), with h = E_data[-log p] written out again."""
    def logp(y, g):
        mu, ls = problem.zeta(g)
        return -((y - mu) ** 2) * np.exp(-2 * ls) / 2 - ls

    def score(y, g):
        return np.array([(logp(y, g + e) - logp(y, g - e)) / (2 * h) for e in np.eye(2) * h])

    gamma = np.asarray(gamma, dtype=float)
    mu, ls = problem.zeta(gamma)
    S_model = score(mu + np.exp(ls) * _NODES, gamma)
    S_data = score(problem.m_d + problem.s_d * _NODES, gamma)
    F = (S_model * _WEIGHTS) @ S_model.T
    Fbar = (S_data * _WEIGHTS) @ S_data.T

    def hfun(g):
        m, s = problem.zeta(g)
        return s + (problem.s_d**2 + (problem.m_d - m) ** 2) * np.exp(-2 * s) / 2

    return F, Fbar, hessian_by_differences(hfun, gamma, 1e-4)


def stationary_gamma(problem):
    """gamma* with zeta(gamma*) = (m_d, ln s_d), the minimizer of h, by Newton's method on zeta (started at 0)."""
    target = np.array([problem.m_d, np.log(problem.s_d)])
    g = np.zeros(2)
    for _ in range(50):
        g = g - np.linalg.solve(problem.zeta_jacobian(g), problem.zeta(g) - target)
    return g


def hessian_transformation(problem, gamma, h=1e-5):
    """The two terms of the chain rule for the Hessian of h(zeta(gamma)): ``(J^T H_theta J, sum_i (dh/dtheta_i) H_[zeta]_i)``
    (the second is why the Hessian is not invariant away from stationary points), everything by differences."""
    gamma = np.asarray(gamma, dtype=float)
    th = problem.zeta(gamma)
    J = np.array([(problem.zeta(gamma + e) - problem.zeta(gamma - e)) / (2 * h) for e in np.eye(2) * h]).T

    def hfun(t):
        return t[1] + (problem.s_d**2 + (problem.m_d - t[0]) ** 2) * np.exp(-2 * t[1]) / 2

    Ht = hessian_by_differences(hfun, th, 1e-4)
    grad = np.array([(hfun(th + e) - hfun(th - e)) / (2 * h) for e in np.eye(2) * h])
    return J.T @ Ht @ J, sum(grad[i] * zeta_component_hessians(problem)[i] for i in range(2))


def zeta_component_hessians(problem, k=1e-3):
    """H_[zeta]_i by second differences (exact for the quadratic zeta up to rounding)."""
    return [hessian_by_differences(lambda g, i=i: problem.zeta(g)[i], np.zeros(2), k) for i in range(2)]


def softmax_regression_routes(problem, theta, h=1e-6):
    """``(F, grad h)`` for §13's softmax regression: F = mean over x of E_{y ~ p(.|x)}[score score^T] by enumerating
    the classes (scores d log p_y / d theta by differences), grad h by central differences of h."""
    theta = np.asarray(theta, dtype=float)
    K, x = problem.K, np.asarray(problem.x, dtype=float)

    def logp(th, xi):
        z = th.reshape(K, -1) @ xi
        return z - (np.max(z) + np.log(np.sum(np.exp(z - np.max(z)))))

    F = np.zeros((theta.size, theta.size))
    for xi in x:
        p = np.exp(logp(theta, xi))
        S = np.array([(logp(theta + e, xi) - logp(theta - e, xi)) / (2 * h) for e in np.eye(theta.size) * h])  # (P, K)
        F += (S * p) @ S.T
    grad = np.array([(problem.h(theta + e) - problem.h(theta - e)) / (2 * h) for e in np.eye(theta.size) * h])
    return F / len(x), grad


def section13_bound(problem, theta):
    """§13's bound for softmax regression in closed form: with g = e_y - p (1^T g = 0), F_R (diag(1/p) g) = g, so
    g^T F_R^+ g = sum_k g_k^2 / p_k = (1 - p_y) / p_y and the bound is -(1/(2|S|)) sum (1 - p_y) / p_y."""
    th = np.asarray(theta, dtype=float).reshape(problem.K, -1)
    z = np.asarray(problem.x, dtype=float) @ th.T
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    py = p[np.arange(len(problem.y)), np.asarray(problem.y, dtype=int)]
    return -0.5 * float(np.mean((1.0 - py) / py))


def _neg_log_r(kind, y, z):
    """-log r(y|z) (up to constants) written out again for the output models of theorytools.fisher.ggn."""
    if kind == "gaussian_mean":
        return 0.5 * float(np.sum((np.asarray(y) - z) ** 2))
    if kind == "categorical":
        return float(np.max(z) + np.log(np.sum(np.exp(z - np.max(z)))) - z[int(y)])
    if kind == "gaussian_natural":  # -eta_1 y - eta_2 y^2 + A(eta), A = -eta_1^2 / (4 eta_2) - log(-2 eta_2) / 2
        return float(-z[0] * y - z[1] * y * y - z[0] ** 2 / (4 * z[1]) - 0.5 * np.log(-2 * z[1]))
    return float(0.5 * z[1] + 0.5 * (y - z[0]) ** 2 * np.exp(-z[1]))


def _output_kl(kind, z1, z2):
    """KL(R(.|z1) || R(.|z2)) in closed form for each output model."""
    if kind == "gaussian_mean":
        return 0.5 * float(np.sum((z1 - z2) ** 2))
    if kind == "categorical":
        l1, l2 = z1 - np.log(np.sum(np.exp(z1))), z2 - np.log(np.sum(np.exp(z2)))
        return float(np.exp(l1) @ (l1 - l2))
    if kind == "gaussian_natural":
        (m1, v1), (m2, v2) = [(-z[0] / (2 * z[1]), -1 / (2 * z[1])) for z in (z1, z2)]
    else:
        (m1, v1), (m2, v2) = (z1[0], np.exp(z1[1])), (z2[0], np.exp(z2[1]))
    return float(0.5 * np.log(v2 / v1) + (v1 + (m1 - m2) ** 2) / (2 * v2) - 0.5)


def _model_outcomes(kind, z, degree=4):
    """``(ys, weights)``: a quadrature of y ~ R(.|z) exact for polynomials in y of the given degree -- Gauss-Hermite with
    degree // 2 + 1 nodes per output (exact to degree 2 n - 1): score outer products are of degree <= 4 in y, Hessians
    of -log r of degree <= 2 -- and the classes, exactly, for the categorical."""
    n, w = np.polynomial.hermite_e.hermegauss(degree // 2 + 1)
    w = w / w.sum()
    if kind == "gaussian_mean":
        grids = np.meshgrid(*[n] * z.size, indexing="ij")
        weights = np.prod(np.meshgrid(*[w] * z.size, indexing="ij"), axis=0).ravel()
        return [z + np.array(p) for p in zip(*[g.ravel() for g in grids])], list(weights)
    if kind == "categorical":
        p = np.exp(z - np.max(z))
        p /= p.sum()
        return list(range(z.size)), list(p)
    sd = np.sqrt(-1 / (2 * z[1])) if kind == "gaussian_natural" else np.exp(z[1] / 2)
    mean = -z[0] / (2 * z[1]) if kind == "gaussian_natural" else z[0]
    return [mean + sd * a for a in n], list(w)


def _network_score(net, theta, x, y, kind, h):
    """d/dtheta of -log r(y | f(x, theta)) by central differences."""
    return np.array([(_neg_log_r(kind, y, net.output(theta + e, x)) - _neg_log_r(kind, y, net.output(theta - e, x))) / (2 * h)
                     for e in np.eye(theta.size) * h])


def network_fisher_by_scores(net, theta, X, kind, h=1e-6):
    """``mean_x E_{y ~ R(.|f(x))}[s s^T]`` with the score s = -d L(y, f(x, theta)) / d theta by central differences."""
    theta = np.asarray(theta, dtype=float)
    F = np.zeros((theta.size, theta.size))
    for x in X:
        ys, ws = _model_outcomes(kind, net.output(theta, x))
        for y, w in zip(ys, ws):
            s = _network_score(net, theta, x, y, kind, h)
            F += w * np.outer(s, s)
    return F / len(X)


def _net_outputs(net, theta, X) -> np.ndarray:
    """``f(x, theta)`` for every row x of X (one row of outputs each): ``z = W2 tanh(W1 x) + offset`` written out again
    on the net's parameter layout (``net.split``), one product for all rows (the second differences below evaluate
    the outputs at ~P^2 / 2 parameter vectors)."""
    W1, W2 = net.split(theta)
    return np.tanh(np.asarray(X, dtype=float) @ W1.T) @ W2.T + net.offset


def network_kl_hessians(net, theta, X, kind, h=1e-4):
    """``mean_x`` Hessians in theta' at theta' = theta of KL(R_theta || R_theta') and of KL(R_theta' || R_theta)
    (002_add1c097d251ec63.txt A.3, both directions), closed-form output KLs, second differences."""
    theta = np.asarray(theta, dtype=float)
    Z = _net_outputs(net, theta, X)

    def kl(t, forward):
        return np.mean([_output_kl(kind, z, zt) if forward else _output_kl(kind, zt, z)
                        for z, zt in zip(Z, _net_outputs(net, t, X))])

    return [hessian_by_differences(lambda t, f=f: kl(t, f), theta, h) for f in (True, False)]


def network_neg_expected_hessian(net, theta, X, kind, h=1e-4):
    """``-mean_x E_(y ~ R)[Hessian_theta log r(y | f(x, theta))]`` (001_7d31b3ff3a2f0401.txt eq. 4; Shrestha A.2):
    the exact label quadrature of :func:`_model_outcomes` frozen at theta, the Hessian by second differences."""
    theta = np.asarray(theta, dtype=float)
    labels = [_model_outcomes(kind, z, degree=2) for z in _net_outputs(net, theta, X)]

    def expected_loss(t):  # each output once, not once per label
        return sum(w * _neg_log_r(kind, y, z) for z, (ys, ws) in zip(_net_outputs(net, t, X), labels)
                   for y, w in zip(ys, ws)) / len(X)

    return hessian_by_differences(expected_loss, theta, h)


def network_empirical_fisher(net, theta, X, Y, kind, h=1e-6):
    """``mean s s^T`` over the data with s the differenced gradient of -log r(y | f(x, theta)) at the data's labels."""
    theta = np.asarray(theta, dtype=float)
    F = np.zeros((theta.size, theta.size))
    for x, y in zip(X, Y):
        s = _network_score(net, theta, x, y, kind, h)
        F += np.outer(s, s)
    return F / len(X)


def network_ggn_by_differences(net, theta, X, Y, kind, h=1e-6):
    """``mean J^T H_L J`` with J and H_L (of -log r in z) both by differences."""
    theta = np.asarray(theta, dtype=float)
    G = np.zeros((theta.size, theta.size))
    for x, y in zip(X, Y):
        J = np.array([(net.output(theta + e, x) - net.output(theta - e, x)) / (2 * h) for e in np.eye(theta.size) * h]).T
        H = hessian_by_differences(lambda z, y=y: _neg_log_r(kind, y, z), net.output(theta, x), 1e-4)
        G += J.T @ H @ J
    return G / len(X)


def mlp_fisher(net, Ws, X, Y, fisher, h=1e-6):
    """``(g, F)`` of an MLP over all P parameters, written from the definitions with central differences: g the mean
    of the per-example loss gradients; F = mean_i s_i s_i^T with s_i the per-example loss gradient (empirical, eq. 37)
    or F = mean_i J_f,i^T F_R(z_i) J_f,i with J_f the output Jacobian (exact, eq. 7), F_R written out again."""
    theta = net.flatten(Ws)
    E = np.eye(theta.size) * h
    grads, F = [], np.zeros((theta.size, theta.size))
    for i in range(len(X)):
        x, y = X[i:i + 1], Y[i:i + 1]
        s = np.array([(net.loss_value(net.unflatten(theta + e), x, y) - net.loss_value(net.unflatten(theta - e), x, y))
                      / (2 * h) for e in E])
        grads.append(s)
        if fisher == "empirical":
            F += np.outer(s, s)
            continue
        out = [(net.forward(net.unflatten(theta + e), x)[1] - net.forward(net.unflatten(theta - e), x)[1])[:, 0] / (2 * h)
               for e in E]
        Jf = np.array(out).T
        z = net.forward(Ws, x)[1][:, 0]
        if net.loss == "squared":
            FR = np.eye(z.size)
        else:
            p = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
            FR = np.diag(p) - np.outer(p, p)
        F += Jf.T @ FR @ Jf
    return np.mean(grads, axis=0), F / len(X)


def block_diagonal(F, sizes):
    """F with the entries outside the diagonal blocks of the given sizes set to zero (eq. 38)."""
    out = np.zeros_like(F)
    for a, b in zip(np.cumsum([0, *sizes[:-1]]), np.cumsum(sizes)):
        out[a:b, a:b] = F[a:b, a:b]
    return out
