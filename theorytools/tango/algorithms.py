"""TANGO and its relatives, on listed samples (000_3b01ec78f4f92394.txt Definition 1, eqs 2-9, 13-14, 27-28).

Every iteration here has one vectorized step routine (leading axis: independent runs), used both by
the single-trajectory functions that consume listed samples and by the Monte Carlo simulator
(:mod:`theorytools.tango.simulation`).

Index conventions, exactly as printed (Definition 1): the k-th sample (k = 1..K) is row ``k - 1`` of
``x``, ``y``, ``ytilde``; ``dt[k]`` is ``delta t_k`` for k = 0..K; the velocity update (eq. 3) uses
``delta t_{k-1}`` and the parameter update (eq. 4) ``delta t_k``::

    v_k     = (1 - dt_{k-1}) v_{k-1} + gamma g_k - gamma (1 - dt_{k-1}) (v_{k-1}^T g~_k) g~_k     (3)
    theta_k = theta_{k-1} - dt_k v_k                                                          (4)

with ``g_k, g~_k`` the gradients at ``theta_{k-1}`` of the sample and the pseudo-sample.
"""

from __future__ import annotations

import warnings

import numpy as np

from theorytools.linalg.validation import real_array
from theorytools.errors import NonFiniteError
from theorytools.tango.preconditioners import as_preconditioner

GAMMA_RULES = ("max_norm", "gaussian", "kurtosis")


class StabilityWarning(UserWarning):
    """gamma is above a stability limit of the velocity update."""


def gamma_from_samples(gt, rule: str, batch: int = 1) -> float:
    """A step gamma from gradients of pseudo-samples ``gt`` (rows), by the rules of the text after Definition 1:

    * ``"max_norm"``: ``1 / max |g~|^2`` (theoretically safe for bounded gradients);
    * ``"gaussian"``: ``1 / (3 E|g~|^2)`` (safe for Gaussian g~ of any covariance: R^2 = 3 E|g~|^2);
    * ``"kurtosis"``: ``E|g~|^2 / E|g~|^4`` (necessary, not sufficient).

    With minibatch means of ``batch`` = B pseudo-samples (eq. 5) the estimate of A is ``B g~ g~^T``, so R^2 and
    every rule scale by B: the rule is divided by B.
    """
    gt = np.atleast_2d(real_array("gt", gt))
    sq = np.sum(gt * gt, axis=-1)
    return float(_gamma_rule(rule, np.max(sq), np.mean(sq), np.mean(sq * sq))) / batch


def _gamma_rule(rule, max_sq, mean_sq, mean_sq2):
    if rule == "max_norm":
        return 1.0 / max_sq
    if rule == "gaussian":
        return 1.0 / (3.0 * mean_sq)
    if rule == "kurtosis":
        return mean_sq / mean_sq2
    raise ValueError(f"gamma rule must be one of {GAMMA_RULES}, got {rule!r}")


class _Gamma:
    """A fixed gamma, or one of the rules above estimated online from the g~ seen so far (the current one included)."""

    def __init__(self, gamma, runs, batch: int = 1):
        self.rule = gamma if isinstance(gamma, str) else None
        self.batch = batch
        if self.rule is None:
            g = float(gamma)
            if not (np.isfinite(g) and g > 0):
                raise ValueError(f"gamma must be a positive finite number or one of {GAMMA_RULES}, got {gamma!r}")
            self.value = g
        else:
            _gamma_rule(self.rule, 1.0, 1.0, 1.0)  # validates the name
            self.n, self.max_sq, self.sum_sq, self.sum_sq2 = 0, np.zeros(runs), np.zeros(runs), np.zeros(runs)

    def __call__(self, gt):
        if self.rule is None:
            return self.value
        sq = np.sum(gt * gt, axis=-1)
        self.n += 1
        self.max_sq = np.maximum(self.max_sq, sq)
        self.sum_sq += sq
        self.sum_sq2 += sq * sq
        with np.errstate(divide="ignore", invalid="ignore"):
            g = _gamma_rule(self.rule, self.max_sq, self.sum_sq / self.n, self.sum_sq2 / self.n)
        return np.where(np.isfinite(g), g / self.batch, 0.0)[..., None]  # no information yet (g~ = 0): do not move v


def tango_step(v, theta, g, gt, gamma, dt_prev, dt_cur, Cg=None, Cgt=None, batch: int = 1):
    """One step of eqs 3-4 (eq. 5 with ``batch`` B, eqs 6-7 with the preconditioned ``Cg``, ``Cgt``)."""
    keep = 1.0 - dt_prev
    Cg = g if Cg is None else Cg
    Cgt = gt if Cgt is None else Cgt
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported by the caller, at its step
        coef = np.sum(v * gt, axis=-1, keepdims=True)
        v = keep * v + gamma * Cg - (gamma * batch * keep) * coef * Cgt
        return v, theta - dt_cur * v


def _check_step(where, k, *arrays):
    for a in arrays:
        if not np.all(np.isfinite(a)):
            run = int(np.argwhere(~np.isfinite(a))[0][0]) if a.ndim > 1 else 0
            raise NonFiniteError(f"{where}: non-finite iterate at step k = {k} (run {run}); gamma or dt is too large "
                                 "for this model, or the loss overflowed")


def _as_dt(dt, K: int) -> np.ndarray:
    d = real_array("dt", dt)
    d = np.full(K + 1, float(d)) if d.ndim == 0 else d
    if d.shape != (K + 1,):
        raise ValueError(f"dt must be a number or hold delta t_0..delta t_K ({K + 1} values for {K} samples), got shape {d.shape}")
    if not np.all(np.isfinite(d)) or np.any(d < 0) or np.any(d > 1):
        raise ValueError(f"dt must lie in [0, 1] (Definition 1: delta t_k <= 1), got values in [{d.min()}, {d.max()}]")
    return d


def _samples(model, theta0, x, y, ytilde, minibatch):
    """Validate the listed samples: ``y`` (K,) [or (K, B)], ``ytilde`` like ``y``, ``x`` None or (K[, B], p)."""
    y = real_array("y", y)
    need = 2 if minibatch else 1
    if y.ndim != need:
        raise ValueError(f"y must have shape {'(K, B)' if minibatch else '(K,)'} (one {'minibatch' if minibatch else 'sample'} "
                         f"per step), got shape {y.shape}")
    if ytilde is None:
        raise ValueError("ytilde must be given (pseudo-samples y~ ~ p_theta(.|x); ytilde = y for the outer-product variant)")
    yt = real_array("ytilde", ytilde)
    if yt.shape != y.shape:
        raise ValueError(f"ytilde must have the shape of y {y.shape}, got {yt.shape}")
    if model.unsupervised:
        if x is not None:
            raise ValueError(f"x must be None for {model!r} (it has no input)")
        return None, y, yt
    if x is None:
        raise ValueError(f"x must be given for {model!r}: shape {y.shape + ('p',)}")
    x = real_array("x", x)
    if x.shape[:-1] != y.shape:
        raise ValueError(f"x must have shape {y.shape + ('p',)} (an input per sample), got {x.shape}")
    return x, y, yt


def tango_iterates(model, theta0, gamma, dt, x, y, ytilde, C=None, *, minibatch: bool = False,
                   return_velocity: bool = False, on_unstable: str = "warn"):
    """``theta_0..theta_K`` of TANGO (Definition 1, eqs 2-4) consuming the listed samples.

    Parameters
    ----------
    model : GaussianModel | LinearRegressionModel | LogisticModel | SoftmaxModel
    theta0 : (d,) array
    gamma : float, or ``"max_norm"``, ``"gaussian"``, ``"kurtosis"`` (estimated online from the g~ so far)
    dt : float or (K+1,) array, ``dt[k] = delta t_k`` in [0, 1]
    x : None (Gaussian model) or (K, p) inputs [(K, B, p) with ``minibatch``]
    y : (K,) samples [(K, B)]
    ytilde : pseudo-samples of y's shape; ``ytilde = y`` gives the outer-product variant
    C : None, a (d, d) positive definite matrix, or a preconditioner (``RMSProp()``, ``DiagonalFisher()``):
        preconditioned TANGO, eqs 6-7
    minibatch : the second axis of y is a minibatch of B samples: g, g~ are minibatch means and the
        correction term is multiplied by B (eq. 5; E[g~ g~^T] = J / B for independent pseudo-samples)
    return_velocity : also return ``v_0..v_K``
    on_unstable : "warn" | "raise" | "ignore" when ``gamma B |g~_k|^2 > 2`` (the velocity update then
        amplifies v along g~_k)

    Returns
    -------
    (K+1, d) array (and the (K+1, d) velocities with ``return_velocity``)
    """
    theta = real_array("theta0", theta0).reshape(1, -1).copy()
    x, y, yt = _samples(model, theta0, x, y, ytilde, minibatch)
    K = y.shape[0]
    dts = _as_dt(dt, K)
    if on_unstable not in ("warn", "raise", "ignore"):
        raise ValueError(f"on_unstable must be 'warn', 'raise' or 'ignore', got {on_unstable!r}")
    batch = y.shape[1] if minibatch else 1
    d = theta.shape[1]
    gam = _Gamma(gamma, 1, batch)
    pre = as_preconditioner(C, d)
    state = pre.init(1, d)
    v = np.zeros((1, d))
    thetas, vs = [theta[0].copy()], [v[0].copy()]
    warned = False
    sq_sum = sq2_sum = 0.0
    for k in range(1, K + 1):
        xk = None if x is None else x[k - 1][None]
        yk, ytk = y[k - 1][None], yt[k - 1][None]
        th = theta[:, None, :] if minibatch else theta
        g = model.grad(th, yk, xk)
        gt = model.grad(th, ytk, xk)
        if minibatch:
            g, gt = g.mean(axis=1), gt.mean(axis=1)
        gk = gam(gt)
        sq = float(np.sum(gt * gt))
        sq_sum, sq2_sum = sq_sum + sq, sq2_sum + sq * sq
        with np.errstate(over="ignore", invalid="ignore"):
            ratio = float(np.max(np.asarray(gk) * batch * sq))
        if ratio > 2.0 and on_unstable != "ignore" and not warned:
            msg = (f"gamma B |g~_k|^2 = {ratio:.3g} > 2 at step k = {k}: the velocity update amplifies v along g~_k "
                   "(stability needs gamma <= 1/R^2, Theorem 5)")
            if on_unstable == "raise":
                raise ValueError(msg)
            warnings.warn(msg, StabilityWarning, stacklevel=2)
            warned = True
        state, Cg, Cgt = pre.apply(state, theta, g, gt)
        v, theta = tango_step(v, theta, g, gt, gk, dts[k - 1], dts[k], Cg, Cgt, batch)
        _check_step("tango_iterates", k, v, theta)
        thetas.append(theta[0].copy())
        vs.append(v[0].copy())
    if gam.rule is None and K >= 20 and sq2_sum > 0 and on_unstable != "ignore":
        necessary = sq_sum / sq2_sum / batch  # E|g~|^2 / E|g~|^4 from this run's g~ (B g~ g~^T estimates J)
        if gam.value > necessary:
            msg = (f"gamma = {gam.value:.3g} exceeds E|g~|^2 / (B E|g~|^4) = {necessary:.3g} estimated on this run's g~: "
                   "a necessary condition for gamma <= 1/R^2 (Theorem 5) fails")
            if on_unstable == "raise":
                raise ValueError(msg)
            warnings.warn(msg, StabilityWarning, stacklevel=2)
    out = np.array(thetas)
    return (out, np.array(vs)) if return_velocity else out


def sgd_iterates(model, theta0, lr, x, y):
    """Plain SGD ``theta_k = theta_{k-1} - lr dl(y_k|x_k)/dtheta_{k-1}`` on the listed samples."""
    x, y, _ = _samples(model, theta0, x, y, y, False)
    theta = real_array("theta0", theta0).copy()
    out = [theta.copy()]
    for k in range(1, y.shape[0] + 1):
        theta = theta - lr * model.grad(theta, y[k - 1], None if x is None else x[k - 1])
        _check_step("sgd_iterates", k, theta)
        out.append(theta.copy())
    return np.array(out)


def averaged_sgd_iterates(model, theta0, gamma, dt, x, y, ytilde=None, xi=None):
    """Averaged SGD, eqs 8-9 (Proposition 2), on the listed samples; returns ``(theta_0..K, theta^fast_0..K)``::

        theta^fast_k = theta^fast_{k-1} - gamma dl(y_k|x_k)/dtheta^fast_{k-1} + gamma xi_k      (8)
        theta_k      = (1 - dt_k) theta_{k-1} + dt_k theta^fast_k                                (9)

    with ``theta^fast_0 = theta_0`` (eq. 71 at k = 1 with v_0 = 0).  The noise ``xi_k`` is 0, the
    given (K, d) array, or, when ``ytilde`` is given, eq. 73:
    ``xi_k = (1 - dt_{k-1}) (g~_k g~_k^T - H_k) v_{k-1}`` with ``v_{k-1} = theta_{k-2} - theta^fast_{k-1}``,
    ``g~_k`` the gradient of the pseudo-sample at ``theta_{k-1}`` and ``H_k`` the Hessian of the k-th loss.
    """
    x, y, yt = _samples(model, theta0, x, y, y if ytilde is None else ytilde, False)
    K = y.shape[0]
    dts = _as_dt(dt, K)
    if xi is not None and ytilde is not None:
        raise ValueError("give either xi (a noise sequence) or ytilde (the noise of eq. 73), not both")
    if xi is not None:
        xi = real_array("xi", xi)
        if xi.shape != (K, np.size(theta0)):
            raise ValueError(f"xi must have shape {(K, np.size(theta0))}, got {xi.shape}")
    theta = real_array("theta0", theta0).copy()
    fast = theta.copy()
    v_prev = np.zeros_like(theta)
    thetas, fasts = [theta.copy()], [fast.copy()]
    for k in range(1, K + 1):
        xk = None if x is None else x[k - 1]
        noise = 0.0
        if ytilde is not None:
            gt = model.grad(theta, yt[k - 1], xk)
            H = model.hessian(theta, y[k - 1], xk)
            noise = (1.0 - dts[k - 1]) * (gt * (gt @ v_prev) - H @ v_prev)
        elif xi is not None:
            noise = xi[k - 1]
        fast = fast - gamma * model.grad(fast, y[k - 1], xk) + gamma * noise
        v_prev = theta - fast  # v_k = theta_{k-1} - theta^fast_k (eq. 67)
        theta = (1.0 - dts[k]) * theta + dts[k] * fast
        _check_step("averaged_sgd_iterates", k, theta, fast)
        thetas.append(theta.copy())
        fasts.append(fast.copy())
    return np.array(thetas), np.array(fasts)


def two_timescale_iterates(theta0, gamma, dt, steps: int, F_hat, A_hat, rng=None, return_velocity: bool = False):
    """The general iteration of Theorem 5 (eqs 27-28), ``v_0 = 0``::

        v_k = v_{k-1} + gamma F^_k - gamma A^_k v_{k-1},    theta_k = theta_{k-1} - dt v_k

    ``F_hat(theta, rng) -> (d,)`` and ``A_hat(theta, rng) -> (d, d)`` are evaluated at ``theta_{k-1}``
    (their conditional means ``F(theta)``, ``A(theta)`` define the limit ODE eq. 32).  Deterministic
    callables give Proposition 4 (eqs 13-14).
    """
    theta = real_array("theta0", theta0).copy()
    dts = _as_dt(dt, int(steps))
    v = np.zeros_like(theta)
    thetas, vs = [theta.copy()], [v.copy()]
    for k in range(1, int(steps) + 1):
        v = v + gamma * np.asarray(F_hat(theta, rng)) - gamma * np.asarray(A_hat(theta, rng)) @ v
        theta = theta - dts[k] * v
        _check_step("two_timescale_iterates", k, v, theta)
        thetas.append(theta.copy())
        vs.append(v.copy())
    return (np.array(thetas), np.array(vs)) if return_velocity else np.array(thetas)


def noise_free_iterates(model, theta0, gamma, dt, steps: int, variant: str = "prop4", x=None, y=None,
                        return_velocity: bool = False, on_unstable: str = "warn"):
    """The noise-free systems, with ``F = E g`` (exact expected gradient) and ``A = J`` (exact Fisher):

    * ``"prop4"``: Proposition 4, eqs 13-14, ``v_k = v_{k-1} + gamma F(theta_{k-1}) - gamma J(theta_{k-1}) v_{k-1}``,
      ``theta_k = theta_{k-1} - dt v_k`` (a constant dt);
    * ``"tango"``: eqs 3-4 with every expectation exact,
      ``v_k = (1 - dt_{k-1}) v_{k-1} + gamma F - gamma (1 - dt_{k-1}) J v_{k-1}``, ``theta_k = theta_{k-1} - dt_k v_k``.

    ``x, y``: the dataset of a supervised model (the expectations are means over its rows).  Proposition 4
    needs ``gamma < 1/lambda_max(A)``; ``on_unstable`` ("warn", "raise", "ignore") reports a violation at theta_0.
    """
    if variant not in ("prop4", "tango"):
        raise ValueError(f"variant must be 'prop4' or 'tango', got {variant!r}")
    F = lambda th, _rng=None: model.expected_gradient(th, x, y)  # noqa: E731
    J = lambda th: model.fisher(th, x)  # noqa: E731
    lam_max = float(np.linalg.eigvalsh(J(real_array("theta0", theta0)))[-1])
    if gamma * lam_max >= 1.0 and on_unstable != "ignore":
        msg = f"gamma lambda_max(J(theta_0)) = {gamma * lam_max:.3g} >= 1: Proposition 4 needs gamma < 1/lambda_max(A)"
        if on_unstable == "raise":
            raise ValueError(msg)
        warnings.warn(msg, StabilityWarning, stacklevel=2)
    if variant == "prop4":
        if np.ndim(dt) != 0:
            raise ValueError("Proposition 4 uses one constant dt; use variant='tango' for a schedule")
        return two_timescale_iterates(theta0, gamma, dt, steps, F, lambda th, _rng=None: J(th), return_velocity=return_velocity)
    dts = _as_dt(dt, int(steps))
    theta = real_array("theta0", theta0).copy()
    v = np.zeros_like(theta)
    thetas, vs = [theta.copy()], [v.copy()]
    for k in range(1, int(steps) + 1):
        keep = 1.0 - dts[k - 1]
        v = keep * v + gamma * F(theta) - gamma * keep * (J(theta) @ v)
        theta = theta - dts[k] * v
        _check_step("noise_free_iterates", k, v, theta)
        thetas.append(theta.copy())
        vs.append(v.copy())
    return (np.array(thetas), np.array(vs)) if return_velocity else np.array(thetas)


def auxiliary_sequence(thetas, vs, A, gamma, dt):
    """``z_{k+1} = theta_k - dt gamma^-1 A(theta_k)^-1 v_{k+1}`` (eq. 21; eq. 16 when A is constant), k = 0..K-1.

    Proposition 4's proof: z follows the Euler scheme of eq. 15 up to O(dt^2) per step (eqs 18, 20, 25-26)
    and ``z_k - theta_k = O(dt)`` (eq. 19).  Returns z_1..z_K, shape (K, d).
    """
    thetas, vs = real_array("thetas", thetas), real_array("vs", vs)
    return np.array([thetas[k] - dt / gamma * np.linalg.solve(A(thetas[k]), vs[k + 1]) for k in range(len(thetas) - 1)])
