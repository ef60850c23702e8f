"""Independent routes for the TANGO paper's quantities (000_3b01ec78f4f92394.txt).

* Expectations over pseudo-samples ``y~ ~ p_theta(.|x)`` by exact enumeration (logistic, softmax:
  the class probabilities written out again here) or Gauss-Hermite quadrature with 30 nodes (Gaussian,
  linear regression: every integrand below is a polynomial of degree <= 8 in the standard normal
  variable, integrated exactly by 30 nodes);
* the Fisher matrix two ways, ``E[g~ g~^T]`` (eq. 10) and ``E[d^2 l / dtheta^2]`` (eq. 75), from the
  models' public gradient and Hessian, each called once on every (row, value of y~) pair at a time (the models
  are vectorized over leading axes);
* the smallest ``R^2`` with ``E[A^2] <= R^2 A`` for ``A^ = g~ g~^T`` (Theorem 5's variance assumption, eq. 31);
* central finite differences of the loss and of the gradient.
"""

from __future__ import annotations

import numpy as np

from theorytools.tango.models import GaussianModel, LinearRegressionModel, LogisticModel, SoftmaxModel

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(30)  # probabilists' Hermite: E f(Z), Z ~ N(0, 1)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def pseudo_sample_law(model, theta, x):
    """``(values, probabilities)`` of ``y~ ~ p_theta(.|x)`` at one input (a finite law or quadrature nodes)."""
    theta = np.asarray(theta, dtype=float)
    if isinstance(model, GaussianModel):
        return theta[0] + np.exp(theta[1]) * _NODES, _WEIGHTS
    if isinstance(model, LinearRegressionModel):
        return float(theta @ x) + np.sqrt(model.s2) * _NODES, _WEIGHTS
    if isinstance(model, LogisticModel):
        p1 = 1.0 / (1.0 + np.exp(-float(theta @ x)))
        return np.array([0.0, 1.0]), np.array([1.0 - p1, p1])
    if isinstance(model, SoftmaxModel):
        z = theta.reshape(model.K, -1) @ x
        e = np.exp(z - z.max())
        return np.arange(model.K, dtype=float), e / e.sum()
    raise TypeError(f"no reference law for {model!r}")


def _rows(model, x):
    return [None] if model.unsupervised else list(np.atleast_2d(np.asarray(x, dtype=float)))


def _law(model, theta, x):
    """The law of y~ at every row of x as arrays: values (rows, n), probabilities (rows, n) divided by the number of
    rows (so that ``sum P f`` is ``E_x E_{y~ ~ p_theta(.|x)} f``, x averaged over the rows of x) and the inputs
    (rows, 1, p) (None for the Gaussian model)."""
    rows = _rows(model, x)
    laws = [pseudo_sample_law(model, theta, xi) for xi in rows]
    vals, P = np.array([v for v, _ in laws]), np.array([p for _, p in laws]) / len(rows)
    return vals, P, None if model.unsupervised else np.array(rows)[:, None, :]


def _scores(model, theta, x):
    """``(G, P)``: the public ``model.grad`` at every value of y~ for every row of x, in one vectorized call (G of
    shape (rows, n, d)), and the probabilities P of :func:`_law`."""
    vals, P, X = _law(model, theta, x)
    return model.grad(theta, vals, X), P


def fisher_by_scores(model, theta, x=None):
    """Eq. 10: ``E[g~ g~^T]``."""
    G, P = _scores(model, theta, x)
    return np.einsum("rn,rni,rnj->ij", P, G, G)


def fisher_by_hessians(model, theta, x=None):
    """Eq. 75: ``E[d^2 l(y~|x) / dtheta^2]``."""
    vals, P, X = _law(model, theta, x)
    return np.einsum("rn,rnij->ij", P, model.hessian(theta, vals, X))


def score_mean(model, theta, x=None):
    """``E[g~]``: 0 for a score (what makes E[g~ g~^T] = J / B for a minibatch mean of B pseudo-samples, eq. 5)."""
    G, P = _scores(model, theta, x)
    return np.einsum("rn,rni->i", P, G)


def score_moments(model, theta, x=None):
    """``(E|g~|^2, E|g~|^4, E[|g~|^2 g~ g~^T])``."""
    G, P = _scores(model, theta, x)
    sq = np.sum(G * G, axis=-1)
    return float(np.sum(P * sq)), float(np.sum(P * sq * sq)), np.einsum("rn,rni,rnj->ij", P * sq, G, G)


def R2_min(A, EA2) -> float:
    """The smallest ``R^2`` with ``E[A^2] <= R^2 A`` (Loewner): ``lambda_max(A^-1/2 E[A^2] A^-1/2)``.

    Whitening by the eigenvalues of the stored ``A`` makes this accurate to about ``eps kappa(A)`` relative (5e-9 at
    kappa = 1e12, found by the hunt's TANGO bounds): a caller with A's eigen-decomposition in exact form (the hunt's
    ``bounds_tango``) should whiten with that instead."""
    w, V = np.linalg.eigh(A)
    S = V / np.sqrt(w)
    return float(np.linalg.eigvalsh(S.T @ EA2 @ S)[-1])


def gaussian_expected_gradient(model: GaussianModel, theta):
    """``E_{y ~ N(m, s^2)} dl(y)/dtheta`` by quadrature over the data law."""
    ys = model.data_mean + model.data_std * _NODES
    return sum(w * model.grad(theta, y) for y, w in zip(ys, _WEIGHTS))


def gaussian_expected_gradient_sq(model: GaussianModel, theta):
    """``E_{y ~ N(m, s^2)} (dl(y)/dtheta)^2`` per coordinate, by quadrature over the data law."""
    ys = model.data_mean + model.data_std * _NODES
    return sum(w * model.grad(theta, y) ** 2 for y, w in zip(ys, _WEIGHTS))


def finite_difference_gradient(f, theta, h=1e-5):
    """Central differences of a scalar function; error ~ h^2 |f'''| / 6 + eps |f| / h (~1e-10 here)."""
    theta = np.asarray(theta, dtype=float)
    out = np.empty(theta.size)
    for i in range(theta.size):
        e = np.zeros(theta.size)
        e[i] = h * (1.0 + abs(theta[i]))
        out[i] = (f(theta + e) - f(theta - e)) / (2.0 * e[i])
    return out


def finite_difference_jacobian(F, theta, h=1e-5):
    """Central differences of a vector function (columns: derivatives along each coordinate)."""
    theta = np.asarray(theta, dtype=float)
    cols = []
    for i in range(theta.size):
        e = np.zeros(theta.size)
        e[i] = h * (1.0 + abs(theta[i]))
        cols.append((np.asarray(F(theta + e)) - np.asarray(F(theta - e))) / (2.0 * e[i]))
    return np.array(cols).T


def linear_regression_moments(model, x, y):
    """``(J, b)`` with ``E g(theta) = J theta - b`` over the dataset rows: ``J = X^T X / (N s2)``, ``b = X^T y / (N s2)``."""
    X, Y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return X.T @ X / (len(Y) * model.s2), X.T @ Y / (len(Y) * model.s2)


def tango_in_expectation(J, b, theta0, gamma, dt, K):
    """Eqs 3-4 with E g = J theta - b and E[B g~ g~^T] = J (linear regression: the exact mean of TANGO), written out:
    ``v_k = (1 - dt_{k-1}) v_{k-1} + gamma (J theta_{k-1} - b) - gamma (1 - dt_{k-1}) J v_{k-1}``, ``theta_k = theta_{k-1} - dt_k v_k``."""
    th, v = np.asarray(theta0, dtype=float).copy(), np.zeros(len(theta0))
    out = [th.copy()]
    for k in range(1, K + 1):
        v = (1 - dt[k - 1]) * v + gamma * (J @ th - b) - gamma * (1 - dt[k - 1]) * (J @ v)
        th = th - dt[k] * v
        out.append(th.copy())
    return np.array(out)


def tango_written_out(model, theta0, gamma, dt, x, y, yt, C=None, batch: int = 1, running=None, beta=0.9, eps=1e-8,
                      warmup: int = 10):
    """Eqs 3-4 one sample at a time (eq. 5 with ``batch`` samples per step: rows of x, y, yt hold minibatches; eqs
    6-7 with a fixed ``C``, or ``running`` = "rmsprop" / "fisher": C_k from the bias-corrected exponential mean of
    the squares of g resp. g~ of steps 1..k-1 once ``warmup`` of them exist, C_k = I before).  ``gamma`` a rule name
    (the text after Definition 1): gamma_k from the norms of g~_1..g~_k (the current one included), divided by B --
    1 / max |g~|^2, 1 / (3 mean |g~|^2) or mean |g~|^2 / mean |g~|^4, recomputed from the whole list at every step."""
    d = len(theta0)
    theta, v = np.array(theta0, dtype=float), np.zeros(d)
    C = np.eye(d) if C is None else np.asarray(C, dtype=float)
    squares, norms, out = [], [], [theta.copy()]
    rules = {"max_norm": lambda n: 1.0 / np.max(n), "gaussian": lambda n: 1.0 / (3.0 * np.mean(n)),
             "kurtosis": lambda n: np.mean(n) / np.mean(n * n)}
    for k in range(1, len(y) + 1):
        xs = [None] * batch if x is None else (x[k - 1] if batch > 1 else [x[k - 1]])
        ys, yts = (y[k - 1], yt[k - 1]) if batch > 1 else ([y[k - 1]], [yt[k - 1]])
        g = np.mean([model.grad(theta, yi, xi) for yi, xi in zip(ys, xs)], axis=0)
        gt = np.mean([model.grad(theta, yi, xi) for yi, xi in zip(yts, xs)], axis=0)
        if running is not None:
            c = np.ones(d)
            if len(squares) >= warmup:
                wts = (1 - beta) * beta ** np.arange(len(squares))[::-1]
                mhat = wts @ np.array(squares) / (1 - beta ** len(squares))
                c = 1.0 / ((np.sqrt(mhat) if running == "rmsprop" else mhat) + eps)
            squares.append(g * g if running == "rmsprop" else gt * gt)
            C = np.diag(c)
        norms.append(float(gt @ gt))
        gam = rules[gamma](np.array(norms)) / batch if isinstance(gamma, str) else gamma
        v = (1 - dt[k - 1]) * v + gam * C @ g - gam * batch * (1 - dt[k - 1]) * (v @ gt) * (C @ gt)
        theta = theta - dt[k] * v
        out.append(theta.copy())
    return np.array(out)


def two_timescale_moments(theta0, gamma, dts, steps, f, Sigma_F, Sigma_A):
    """Exact ``(E theta_k, E|v_k|^2)``, k = 0..steps, of eqs 27-28 with ``v_0 = 0``, ``F^_k = f + N(0, Sigma_F)`` and the
    rank-one ``A^_k = a a^T``, ``a ~ N(0, Sigma_A)``, all independent of each other and of the past.  With
    ``m = E v_{k-1}``, ``S = E v_{k-1} v_{k-1}^T`` and Isserlis' theorem ``E[a a^T S a a^T] = 2 Sigma S Sigma +
    tr(Sigma S) Sigma``::

        E v_k = (I - gamma Sigma) m + gamma f
        E v_k v_k^T = S - gamma (Sigma S + S Sigma) + gamma^2 (2 Sigma S Sigma + tr(Sigma S) Sigma)
                      + gamma [(I - gamma Sigma) m f^T + f m^T (I - gamma Sigma)] + gamma^2 (f f^T + Sigma_F)
        E theta_k = E theta_{k-1} - dt_k E v_k
    """
    d = len(theta0)
    Sg, I = np.asarray(Sigma_A, dtype=float), np.eye(d)
    m, S, th = np.zeros(d), np.zeros((d, d)), np.asarray(theta0, dtype=float).copy()
    thetas, vsq = [th.copy()], [0.0]
    for k in range(1, steps + 1):
        P = (I - gamma * Sg) @ m
        S = (S - gamma * (Sg @ S + S @ Sg) + gamma**2 * (2 * Sg @ S @ Sg + np.trace(Sg @ S) * Sg)
             + gamma * (np.outer(P, f) + np.outer(f, P)) + gamma**2 * (np.outer(f, f) + Sigma_F))
        m = P + gamma * f
        th = th - dts[k] * m
        thetas.append(th.copy())
        vsq.append(float(np.trace(S)))
    return np.array(thetas), np.array(vsq)

