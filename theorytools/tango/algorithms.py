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

Parameterization invariance (the text after eq. 7: preconditioned TANGO "is TANGO on the variable C^-1/2 theta"):
with ``theta = S phi`` (S invertible), TANGO on phi with preconditioner C_phi gives the same iterates, mapped back,
as TANGO on theta with ``C = S C_phi S^T``, for the same samples and pseudo-samples.  So plain TANGO (C = I) is
invariant under orthogonal changes of variable only; a rescaling ``theta = c phi`` needs ``gamma c^2`` (the gamma
rules do this by themselves: they scale like ``1/|g~|^2``); and TANGO preconditioned by the exact diagonal Fisher
(:class:`~theorytools.tango.ExactDiagonalFisher`, ``C^-1 = diag J``) is invariant under every diagonal rescaling,
since ``diag J`` transforms as ``S^-1 diag(J) S^-1``.  Its limit, the natural gradient ODE, is invariant under all.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from theorytools.errors import DivergenceWarning, NonFiniteError
from theorytools.linalg import (
    as_array,
    as_bool,
    as_callable,
    as_choice,
    as_float,
    as_instance,
    as_int,
    as_seed,
    as_steps,
    check_allocation,
    positive,
    real_array,
)
from theorytools.tango.models import Model
from theorytools.tango.ode import _natural_direction
from theorytools.tango.preconditioners import as_preconditioner

#: The rule names of :func:`gamma_from_samples` (and of a string ``gamma`` in :func:`tango_iterates`,
#: :func:`simulate_tango`): 000_3b01ec78f4f92394.txt, text after Definition 1.
GAMMA_RULES = ("max_norm", "gaussian", "kurtosis")
ON_UNSTABLE = ("warn", "raise", "ignore")

#: A velocity (or an SGD step) this many times its first nonzero value is reported as a divergence.  TANGO's v starts
#: at gamma g_1 and settles near J^-1 E g, up to ~3 d cond(J) times larger with gamma ~ 1/R^2: 1e10 leaves room for that.
DIVERGENCE_FACTOR = 1e10


class StabilityWarning(UserWarning):
    """The step gamma is above a stability limit of the velocity update.

    Issued by :func:`tango_iterates`, :func:`noise_free_iterates` and :func:`simulate_tango` when ``gamma B |g~|^2 > 2``,
    when gamma exceeds the necessary condition ``E|g~|^2 / (B E|g~|^4)``, or when ``gamma lambda_max(J) >= 1``
    (000_3b01ec78f4f92394.txt, text after Definition 1; Proposition 4; Theorem 5).

    Examples
    --------
    >>> import warnings
    >>> from theorytools.tango import GaussianModel, StabilityWarning, tango_iterates
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = tango_iterates(GaussianModel(), [0.0, 0.0], 10.0, 0.0, None, [10.0], [10.0])
    >>> caught[0].category is StabilityWarning
    True
    """


def gamma_from_samples(gt, rule: str, batch: int = 1) -> float:
    """A step gamma from gradients of pseudo-samples, by the rules of the text after Definition 1.

    000_3b01ec78f4f92394.txt, text after Definition 1 (and eq. 5 for minibatches); the rules, for the rows of ``gt``:

    * ``"max_norm"``: ``1 / max |g~|^2`` (theoretically safe for bounded gradients);
    * ``"gaussian"``: ``1 / (3 E|g~|^2)`` (safe for Gaussian g~ of any covariance: R^2 = 3 E|g~|^2);
    * ``"kurtosis"``: ``E|g~|^2 / E|g~|^4`` (necessary, not sufficient).

    With minibatch means of ``batch`` = B pseudo-samples (eq. 5) the estimate of A is ``B g~ g~^T``, so R^2 and
    every rule scale by B: the rule is divided by B.  The rules scale like ``1/|g~|^2``; they are evaluated on
    ``g~ / max|g~|`` so that ``|g~|^4`` cannot overflow (it did for ``|g~| > 1e77``, giving gamma = 0).

    Parameters
    ----------
    gt : array_like, shape (d,) or (n, d)
        Gradients ``g~`` of pseudo-samples, one per row.
    rule : {"max_norm", "gaussian", "kurtosis"}
        Which rule.
    batch : int, default 1
        Minibatch size B of each row (the rule is divided by B).

    Returns
    -------
    float
        The step gamma > 0.

    Examples
    --------
    >>> from theorytools.tango import gamma_from_samples
    >>> gt = [[1.0, 0.0], [0.0, 2.0]]                       # |g~|^2 = 1 and 4
    >>> gamma_from_samples(gt, "max_norm"), round(gamma_from_samples(gt, "gaussian"), 6)   # 1/4, 1/(3 x 2.5)
    (0.25, 0.133333)
    """
    gt = as_array("gt", gt)
    if gt.ndim > 2:
        raise ValueError(f"gt must be one gradient (d,) or rows of gradients (n, d), got shape {gt.shape}")
    rule = as_choice("rule", rule, GAMMA_RULES)
    batch = as_int("batch", batch, low=1)
    gt = np.atleast_2d(gt)
    top = float(np.max(np.abs(gt)))
    if top == 0.0:
        raise ValueError("gt must not be all zero: every rule divides by |g~|^2")
    sq = np.sum((gt / top) ** 2, axis=-1)
    with np.errstate(over="ignore"):
        gamma = float(_gamma_rule(rule, np.max(sq), np.mean(sq), np.mean(sq * sq))) / top / top / batch
    if not 0.0 < gamma < np.inf:
        raise NonFiniteError(f"gamma_from_samples: gamma = {gamma:g} is not a positive float64 for |g~| up to {top:g}")
    return gamma


def _gamma_rule(rule, max_sq, mean_sq, mean_sq2):
    if rule == "max_norm":
        return 1.0 / max_sq
    if rule == "gaussian":
        return 1.0 / (3.0 * mean_sq)
    return mean_sq / mean_sq2


class _Gamma:
    """A fixed gamma, or one of the rules above estimated online from the g~ seen so far (the current one included).

    The running sums are kept in units of the running ``max |g~|^2`` (rescaled when it grows), so that ``|g~|^4``
    does not overflow."""

    def __init__(self, gamma, runs, batch: int = 1):
        self.rule = as_choice("gamma", gamma, GAMMA_RULES) if isinstance(gamma, str) else None
        self.batch = batch
        if self.rule is None:
            self.value = positive("gamma", gamma)
        else:
            self.n, self.max_sq, self.sum_sq, self.sum_sq2 = 0, np.zeros(runs), np.zeros(runs), np.zeros(runs)

    def __call__(self, gt):
        if self.rule is None:
            return self.value
        sq = np.sum(gt * gt, axis=-1)
        self.n += 1
        grown = np.maximum(self.max_sq, sq)
        with np.errstate(divide="ignore", invalid="ignore"):
            shrink = np.where(grown > 0, self.max_sq / grown, 0.0)
            rel = np.where(grown > 0, sq / grown, 0.0)
            self.sum_sq = self.sum_sq * shrink + rel
            self.sum_sq2 = self.sum_sq2 * shrink * shrink + rel * rel
            self.max_sq = grown
            g = _gamma_rule(self.rule, 1.0, self.sum_sq / self.n, self.sum_sq2 / self.n) / grown
        return np.where(np.isfinite(g), g / self.batch, 0.0)[..., None]  # no information yet (g~ = 0): do not move v


def _tango_step(v, theta, g, gt, gamma, dt_prev, dt_cur, Cg=None, Cgt=None, batch: int = 1):
    keep = 1.0 - dt_prev
    Cg = g if Cg is None else Cg
    Cgt = gt if Cgt is None else Cgt
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported by the caller, at its step
        coef = np.sum(v * gt, axis=-1, keepdims=True)
        v = keep * v + gamma * Cg - (gamma * batch * keep) * coef * Cgt
        return v, theta - dt_cur * v


def tango_step(v, theta, g, gt, gamma, dt_prev, dt_cur, Cg=None, Cgt=None, batch: int = 1):
    """One step of TANGO, eqs 3-4 (eq. 5 with ``batch``, eqs 6-7 with ``Cg``, ``Cgt``).

    000_3b01ec78f4f92394.txt Definition 1, eqs 3-4; eq. 5 (minibatches); eqs 6-7 (preconditioned TANGO)::

        v_k     = (1 - dt_{k-1}) v_{k-1} + gamma C g_k - gamma B (1 - dt_{k-1}) (v_{k-1}^T g~_k) C g~_k
        theta_k = theta_{k-1} - dt_k v_k

    Parameters
    ----------
    v : array_like, shape (d,) or (runs, d)
        The velocity ``v_{k-1}``.
    theta : array_like, shape of v
        The parameter ``theta_{k-1}``.
    g : array_like, shape of v
        Gradient of the sample at ``theta_{k-1}``.
    gt : array_like, shape of v
        Gradient ``g~`` of the pseudo-sample at ``theta_{k-1}``.
    gamma : float
        The velocity's step, > 0.
    dt_prev : float
        ``delta t_{k-1}`` in [0, 1].
    dt_cur : float
        ``delta t_k`` in [0, 1].
    Cg : array_like or None, optional
        ``C g`` (preconditioned TANGO, eq. 6); None for ``g``.
    Cgt : array_like or None, optional
        ``C g~``; None for ``g~``.
    batch : int, default 1
        Minibatch size B (eq. 5).

    Returns
    -------
    v : ndarray
        ``v_k``.
    theta : ndarray
        ``theta_k``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import tango_step
    >>> v, theta = tango_step(np.zeros(2), np.zeros(2), [1.0, 0.0], [0.0, 1.0], 0.5, 0.1, 0.1)
    >>> v.tolist(), theta.tolist()                # v_1 = gamma g_1 (v_0 = 0), theta_1 = -dt v_1
    ([0.5, 0.0], [-0.05, 0.0])
    """
    arrays = {n: None if a is None and n in ("Cg", "Cgt") else as_array(n, a) for n, a in
              (("v", v), ("theta", theta), ("g", g), ("gt", gt), ("Cg", Cg), ("Cgt", Cgt))}
    shapes = {n: a.shape for n, a in arrays.items() if a is not None}
    if len(set(shapes.values())) != 1 or arrays["theta"].ndim not in (1, 2):
        raise ValueError(f"{', '.join(shapes)} must have one shape, (d,) or (runs, d), got "
                         + ", ".join(f"{n} {s}" for n, s in shapes.items()))
    v, theta, g, gt, Cg, Cgt = arrays.values()
    gamma = positive("gamma", gamma)
    dt_prev = as_float("dt_prev", dt_prev, low=0.0, high=1.0)
    dt_cur = as_float("dt_cur", dt_cur, low=0.0, high=1.0)
    batch = as_int("batch", batch, low=1)
    v, theta = _tango_step(v, theta, g, gt, gamma, dt_prev, dt_cur, Cg, Cgt, batch)
    _check_step("tango_step", 1, v=v, theta=theta)
    return v, theta


def _check_step(where, k, **arrays):
    for name, a in arrays.items():
        # one reduction per step; a sum that overflows from finite entries is caught by the full test
        with np.errstate(over="ignore", invalid="ignore"):
            total = np.sum(a)
        if not np.isfinite(total) and not np.all(np.isfinite(a)):
            run = int(np.argwhere(~np.isfinite(a))[0][0]) if a.ndim > 1 else 0
            raise NonFiniteError(f"{where}: {name} is not finite at step k = {k} (run {run}): the iteration diverged "
                                 "(gamma or dt too large for this model) or the model overflowed")


class _Divergence:
    """Warn once (DivergenceWarning, naming the step) when ``max|what_k|`` reaches :data:`DIVERGENCE_FACTOR` times its
    first nonzero value.  ``what`` is the velocity v of TANGO-like iterations (not the step dt v, which a dt schedule
    may scale by any factor), the step of SGD (lr g: a constant rate) and of averaged SGD's fast iterate."""

    def __init__(self, where, what):
        self.where, self.what, self.first, self.warned = where, what, 0.0, False

    def __call__(self, k, value):
        if self.warned:
            return
        with np.errstate(over="ignore"):
            size = float(np.abs(value).max())  # the max norm: one reduction, and no square to overflow
        if self.first == 0.0:
            self.first = size
        elif size > DIVERGENCE_FACTOR * self.first:
            warnings.warn(f"{self.where}: max|{self.what}| = {size:.3g} at step k = {k} is {size / self.first:.2g} times "
                          "its first nonzero value: the iteration is probably diverging", DivergenceWarning, stacklevel=3)
            self.warned = True

    def rows(self, k0, values, stacklevel: int = 3):
        """``self(k0 + i, values[i])`` for every row i of ``values`` (finite rows, one per step), in one pass;
        ``stacklevel`` as for :func:`warnings.warn` called here."""
        if self.warned or len(values) == 0:
            return
        with np.errstate(over="ignore"):
            sizes = np.abs(np.reshape(values, (len(values), -1))).max(axis=1)
        i = 0
        if self.first == 0.0:
            nonzero = np.flatnonzero(sizes)
            if nonzero.size == 0:
                return
            i = int(nonzero[0])
            self.first = float(sizes[i])
            i += 1
        over = np.flatnonzero(sizes[i:] > DIVERGENCE_FACTOR * self.first)
        if over.size:
            j = i + int(over[0])
            size = float(sizes[j])
            warnings.warn(f"{self.where}: max|{self.what}| = {size:.3g} at step k = {k0 + j} is {size / self.first:.2g} "
                          "times its first nonzero value: the iteration is probably diverging", DivergenceWarning,
                          stacklevel=stacklevel)
            self.warned = True


#: Steps of a single trajectory between two passes of :meth:`_Divergence.rows` over its stored velocities.
WATCH_BLOCK = 512


def _few_finite(a) -> bool:
    return all(map(math.isfinite, a.tolist()))


def _all_finite(a) -> bool:
    return bool(np.isfinite(a).all())


class _Trajectory:
    """The kept iterates ``theta_0..theta_steps`` (and ``v_0..v_steps`` with ``velocities``) of a single trajectory,
    checked as :func:`_check_step` and :class:`_Divergence` would at every step, for less: theta's finiteness at
    every step (a non-finite v makes ``theta - dt v`` non-finite too, ``0 x inf`` included), the velocity's
    growth on blocks of :data:`WATCH_BLOCK` stored rows (without ``velocities``, in a buffer of that many rows)."""

    def __init__(self, where, theta, v, steps, velocities):
        d = theta.size
        self.where = where
        self.thetas = _trajectory(steps, d, 2 if velocities else 1)
        self.thetas[0] = theta
        self.vs = np.empty_like(self.thetas) if velocities else None
        self.store = self.vs if velocities else np.empty((min(steps, WATCH_BLOCK) + 1, d))
        self.store[0] = v
        self.base = 0  # the store's row r holds v_{base + r}
        self.checked = 0  # v_1..v_checked have been through the divergence watch
        self.next = WATCH_BLOCK  # the step after which the watch runs next
        self.diverging = _Divergence(where, "v_k")
        # no reduction that can overflow (or warn); for a few entries Python's isfinite beats a numpy call
        self.finite = _few_finite if d <= 16 else _all_finite

    def keep(self, k, theta, v):
        """Store theta_k and v_k; raise a NonFiniteError naming the step if either is not finite."""
        self.thetas[k] = theta
        self.store[k - self.base] = v
        if not self.finite(theta):
            self._failed(k, theta, v)
        if k == self.next:
            self.watch(k)

    def watch(self, k, depth: int = 3):
        """Run the divergence watch over v_{checked+1}..v_k; rewind the buffer.  ``depth``: the frames from this
        method up to the function that runs the loop (its caller is where a DivergenceWarning points, as when the
        loop called :class:`_Divergence` itself)."""
        lo = self.checked + 1
        self.diverging.rows(lo, self.store[lo - self.base:k + 1 - self.base], stacklevel=depth + 2)
        self.checked, self.next = k, k + WATCH_BLOCK
        if self.vs is None:
            self.store[0] = self.store[k - self.base]
            self.base = k

    def _failed(self, k, theta, v):
        self.watch(k - 1, 4)  # the warnings of the steps before, as a step-by-step watch would have given them
        _check_step(self.where, k, v=v, theta=theta)

    def result(self, steps):
        self.watch(steps)
        return (self.thetas, self.vs) if self.vs is not None else self.thetas


def _as_dt(dt, K: int, count: str = "steps") -> np.ndarray:
    """``delta t_0..delta t_K`` in [0, 1] from a number or a (K+1,) schedule; ``count`` names what K counts."""
    d = as_array("dt", dt)
    if d.ndim == 0:
        check_allocation(f"the dt schedule for {count} = {K} ({count} + 1 values)", (K + 1,), cheaper=f"fewer {count}")
        d = np.full(K + 1, float(d))
    elif d.shape != (K + 1,):
        raise ValueError(f"dt must be a number or hold delta t_0..delta t_K ({K + 1} values for {count} = {K}), "
                         f"got shape {d.shape}")
    if np.any(d < 0) or np.any(d > 1):
        raise ValueError(f"dt must lie in [0, 1] (Definition 1: delta t_k <= 1), got values in [{d.min():g}, {d.max():g}]")
    return d


def _trajectory(steps: int, d: int, copies: int = 1) -> np.ndarray:
    """The array of theta_0..theta_steps, refused up front when it cannot fit."""
    check_allocation(f"the iterates kept for steps = {steps} (steps + 1 x d{' x 2' if copies == 2 else ''})",
                     (steps + 1, d), copies=copies,
                     cheaper="fewer steps, or simulate_tango, which keeps only the moments at the requested k")
    return np.empty((steps + 1, d))


def _model(model) -> Model:
    return as_instance("model", model, Model, "a model of theorytools.tango (GaussianModel, LinearRegressionModel, ...)")


def _samples(model, theta0, x, y, ytilde, minibatch):
    """Validate the listed samples: ``y`` (K,) [or (K, B)], ``ytilde`` like ``y``, ``x`` None or (K[, B], p), and
    ``theta0`` (d,) for this model and x.  Returns ``(theta0, x, y, ytilde)``."""
    model = _model(model)
    y = model._labels("y", y)
    need = 2 if minibatch else 1
    if y.ndim != need:
        raise ValueError(f"y must have shape {'(K, B)' if minibatch else '(K,)'} (one {'minibatch' if minibatch else 'sample'} "
                         f"per step), got shape {y.shape}")
    if ytilde is None:
        raise ValueError("ytilde must be given (pseudo-samples y~ ~ p_theta(.|x); ytilde = y for the outer-product variant)")
    yt = model._labels("ytilde", ytilde)
    if yt.shape != y.shape:
        raise ValueError(f"ytilde must have the shape of y {y.shape}, got {yt.shape}")
    if model.unsupervised:
        if x is not None:
            raise ValueError(f"x must be None for {model!r} (it has no input)")
    else:
        if x is None:
            raise ValueError(f"x must be given for {model!r}: shape {y.shape + ('p',)}")
        x = as_array("x", x)
        if x.ndim != y.ndim + 1 or x.shape[:-1] != y.shape:
            raise ValueError(f"x and y do not match: x must have shape {y.shape + ('p',)} (an input per sample), "
                             f"got {x.shape}")
    theta0 = model._params(theta0, x, "theta0", ndim=1)
    return theta0, x, y, yt


def tango_iterates(model, theta0, gamma, dt, x, y, ytilde, C=None, *, minibatch: bool = False,
                   return_velocity: bool = False, on_unstable: str = "warn"):
    """``theta_0..theta_K`` of TANGO (Definition 1, eqs 2-4) consuming the listed samples.

    000_3b01ec78f4f92394.txt Definition 1, eqs 2-4 (eq. 5 with ``minibatch``, eqs 6-7 with ``C``).

    Parameters
    ----------
    model : GaussianModel, LinearRegressionModel, LogisticModel or SoftmaxModel
        The model ``p_theta(y|x)``.
    theta0 : array_like, shape (d,)
        The start ``theta_0``.
    gamma : float or {"max_norm", "gaussian", "kurtosis"}
        A fixed gamma > 0, or a rule estimated online from ``g~_1..g~_k``, the current one included: "the largest norm
        of g~ seen so far", line 75, read so that ``gamma_k |g~_k|^2 <= 1`` holds at the step (a reading, listed in the
        report's Readings).
    dt : float or array_like, shape (K+1,)
        ``dt[k] = delta t_k`` in [0, 1].
    x : None or array_like, shape (K, p)
        None (Gaussian model) or the inputs; (K, B, p) with ``minibatch``.
    y : array_like, shape (K,)
        The samples; (K, B) with ``minibatch``.
    ytilde : array_like, shape of y
        Pseudo-samples; ``ytilde = y`` gives the outer-product variant.
    C : None, array_like of shape (d, d), or a preconditioner
        None, a positive definite matrix, or a preconditioner (``RMSProp()``, ``DiagonalFisher()``): preconditioned
        TANGO, eqs 6-7.
    minibatch : bool, default False
        The second axis of y is a minibatch of B samples: g, g~ are minibatch means and the correction term is
        multiplied by B (eq. 5; ``E[g~ g~^T] = J / B`` for independent pseudo-samples).
    return_velocity : bool, default False
        Also return ``v_0..v_K``.
    on_unstable : {"warn", "raise", "ignore"}
        What to do when ``gamma B |g~_k|^2 > 2`` (the velocity update then amplifies v along g~_k).

    Returns
    -------
    thetas : ndarray, shape (K+1, d)
        ``theta_0..theta_K``.
    velocities : ndarray, shape (K+1, d)
        ``v_0..v_K``, only with ``return_velocity``.

    Examples
    --------
    For ``delta t = 1`` TANGO is SGD with learning rate gamma (the text after Definition 1, property 2):

    >>> import numpy as np
    >>> from theorytools.tango import LinearRegressionModel, sgd_iterates, tango_iterates
    >>> m, x, y = LinearRegressionModel(), [[1.0], [1.0]], [2.0, 2.0]
    >>> thetas = tango_iterates(m, [0.0], 0.5, 1.0, x, y, ytilde=y)
    >>> thetas.ravel().tolist(), bool(np.allclose(thetas, sgd_iterates(m, [0.0], 0.5, x, y)))
    ([0.0, 1.0, 1.5], True)
    """
    minibatch = as_bool("minibatch", minibatch)
    return_velocity = as_bool("return_velocity", return_velocity)
    on_unstable = as_choice("on_unstable", on_unstable, ON_UNSTABLE)
    theta0, x, y, yt = _samples(model, theta0, x, y, ytilde, minibatch)
    K = y.shape[0]
    dts = _as_dt(dt, K, "K")
    batch = y.shape[1] if minibatch else 1
    d = theta0.size
    gam = _Gamma(gamma, 1, batch)
    pre = as_preconditioner(C)
    state = pre._init(1, d)
    theta, v = theta0.reshape(1, -1).copy(), np.zeros((1, d))
    thetas = _trajectory(K, d, 2 if return_velocity else 1)
    vs = np.empty_like(thetas) if return_velocity else None
    thetas[0] = theta[0]
    if return_velocity:
        vs[0] = 0.0
    warned = False
    diverging = _Divergence("tango_iterates", "v_k")
    sq_sum = sq2_sum = 0.0
    for k in range(1, K + 1):
        xk = None if x is None else x[k - 1][None]
        yk, ytk = y[k - 1][None], yt[k - 1][None]
        th = theta[:, None, :] if minibatch else theta
        with np.errstate(over="ignore", invalid="ignore"):
            g = model._grad(th, yk, xk)
            gt = model._grad(th, ytk, xk)
        if minibatch:
            g, gt = g.mean(axis=1), gt.mean(axis=1)
        _check_step("tango_iterates", k, g=g, gt=gt)
        gk = gam(gt)
        with np.errstate(over="ignore", invalid="ignore"):
            sq = float(np.sum(gt * gt))
            sq_sum, sq2_sum = sq_sum + sq, sq2_sum + sq * sq
            ratio = float(np.max(np.asarray(gk) * batch * sq))
        if ratio > 2.0 and on_unstable != "ignore" and not warned:
            msg = (f"gamma B |g~_k|^2 = {ratio:.3g} > 2 at step k = {k}: the velocity update amplifies v along g~_k "
                   "(stability needs gamma <= 1/R^2, Theorem 5)")
            if on_unstable == "raise":
                raise ValueError(msg)
            warnings.warn(msg, StabilityWarning, stacklevel=2)
            warned = True
        state, Cg, Cgt = pre._apply(state, theta, g, gt)
        v, theta = _tango_step(v, theta, g, gt, gk, dts[k - 1], dts[k], Cg, Cgt, batch)
        _check_step("tango_iterates", k, v=v, theta=theta)
        diverging(k, v)
        thetas[k] = theta[0]
        if return_velocity:
            vs[k] = v[0]
    if gam.rule is None and K >= 20 and sq2_sum > 0 and on_unstable != "ignore":
        necessary = sq_sum / sq2_sum / batch  # E|g~|^2 / E|g~|^4 from this run's g~ (B g~ g~^T estimates J)
        if gam.value > necessary:
            msg = (f"gamma = {gam.value:.3g} exceeds E|g~|^2 / (B E|g~|^4) = {necessary:.3g} estimated on this run's g~: "
                   "a necessary condition for gamma <= 1/R^2 (Theorem 5) fails")
            if on_unstable == "raise":
                raise ValueError(msg)
            warnings.warn(msg, StabilityWarning, stacklevel=2)
    return (thetas, vs) if return_velocity else thetas


def sgd_iterates(model, theta0, lr, x, y):
    """Plain SGD ``theta_k = theta_{k-1} - lr dl(y_k|x_k)/dtheta_{k-1}`` on the listed samples.

    The ``delta t = 1`` case of TANGO (000_3b01ec78f4f92394.txt, text after Definition 1, property 2) and Figure 1's
    SGD baseline.

    Parameters
    ----------
    model : Model
        The model ``p_theta(y|x)``.
    theta0 : array_like, shape (d,)
        The start.
    lr : float
        Learning rate, > 0.
    x : None or array_like, shape (K, p)
        None (Gaussian model) or the inputs.
    y : array_like, shape (K,)
        The samples.

    Returns
    -------
    ndarray, shape (K+1, d)
        ``theta_0..theta_K``.

    Examples
    --------
    >>> from theorytools.tango import LinearRegressionModel, sgd_iterates
    >>> sgd_iterates(LinearRegressionModel(), [0.0], 0.5, [[1.0], [1.0]], [2.0, 2.0]).ravel().tolist()  # halves 2 - theta
    [0.0, 1.0, 1.5]
    """
    theta, x, y, _ = _samples(model, theta0, x, y, y, False)
    lr = positive("lr", lr)
    out = _trajectory(y.shape[0], theta.size)
    out[0] = theta
    diverging = _Divergence("sgd_iterates", "theta_k - theta_(k-1)")
    for k in range(1, y.shape[0] + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            theta = theta - lr * model._grad(theta, y[k - 1], None if x is None else x[k - 1])
        _check_step("sgd_iterates", k, theta=theta)
        diverging(k, out[k - 1] - theta)
        out[k] = theta
    return out


def averaged_sgd_iterates(model, theta0, gamma, dt, x, y, ytilde=None, xi=None):
    """Averaged SGD, eqs 8-9 (Proposition 2), on the listed samples.

    000_3b01ec78f4f92394.txt Proposition 2, eqs 8-9; Appendix A, eqs 67, 71, 73.  Returns
    ``(theta_0..K, theta^fast_0..K)``::

        theta^fast_k = theta^fast_{k-1} - gamma dl(y_k|x_k)/dtheta^fast_{k-1} + gamma xi_k      (8)
        theta_k      = (1 - dt_k) theta_{k-1} + dt_k theta^fast_k                                (9)

    with ``theta^fast_0 = theta_0`` (eq. 71 at k = 1 with v_0 = 0).  The noise ``xi_k`` is 0, the
    given (K, d) array, or, when ``ytilde`` is given, eq. 73:
    ``xi_k = (1 - dt_{k-1}) (g~_k g~_k^T - H_k) v_{k-1}`` with ``v_{k-1} = theta_{k-2} - theta^fast_{k-1}``,
    ``g~_k`` the gradient of the pseudo-sample at ``theta_{k-1}`` and ``H_k`` the Hessian of the k-th loss.

    Parameters
    ----------
    model : Model
        The model (Proposition 2 needs a quadratic loss whose Hessian does not depend on y).
    theta0 : array_like, shape (d,)
        The start ``theta_0 = theta^fast_0``.
    gamma : float
        The fast rate, > 0.
    dt : float or array_like, shape (K+1,)
        ``delta t_0..delta t_K`` in [0, 1].
    x : None or array_like, shape (K, p)
        None (Gaussian model) or the inputs.
    y : array_like, shape (K,)
        The samples.
    ytilde : array_like or None, optional
        Pseudo-samples: the noise of eq. 73.
    xi : array_like or None, optional
        A noise sequence, shape (K, d) (not with ``ytilde``).

    Returns
    -------
    thetas : ndarray, shape (K+1, d)
        The averaged iterates ``theta_k``.
    fast : ndarray, shape (K+1, d)
        The fast iterates ``theta^fast_k``.

    Examples
    --------
    Proposition 2: on linear regression, with the noise of eq. 73, averaged SGD is TANGO:

    >>> import numpy as np
    >>> from theorytools.tango import LinearRegressionModel, averaged_sgd_iterates, tango_iterates
    >>> m, x, y, yt = LinearRegressionModel(), [[1.0, 0.5], [0.2, 1.0]], [1.0, -1.0], [0.3, 0.4]
    >>> thetas, fast = averaged_sgd_iterates(m, [0.0, 0.0], 0.5, 0.5, x, y, ytilde=yt)
    >>> bool(np.allclose(thetas, tango_iterates(m, [0.0, 0.0], 0.5, 0.5, x, y, yt)))
    True
    """
    if xi is not None and ytilde is not None:
        raise ValueError("give either xi (a noise sequence) or ytilde (the noise of eq. 73), not both")
    theta, x, y, yt = _samples(model, theta0, x, y, y if ytilde is None else ytilde, False)
    gamma = positive("gamma", gamma)
    K, d = y.shape[0], theta.size
    dts = _as_dt(dt, K, "K")
    if xi is not None:
        xi = as_array("xi", xi, shape=(K, d))
    fast = theta.copy()
    v_prev = np.zeros_like(theta)
    thetas, fasts = _trajectory(K, d, 2), np.empty((K + 1, d))
    thetas[0], fasts[0] = theta, fast
    diverging = _Divergence("averaged_sgd_iterates", "theta^fast_k - theta^fast_(k-1)")
    for k in range(1, K + 1):
        xk = None if x is None else x[k - 1]
        noise = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            if ytilde is not None:
                gt = model._grad(theta, yt[k - 1], xk)
                H = model._hessian(theta, y[k - 1], xk)
                noise = (1.0 - dts[k - 1]) * (gt * (gt @ v_prev) - H @ v_prev)
            elif xi is not None:
                noise = xi[k - 1]
            fast = fast - gamma * model._grad(fast, y[k - 1], xk) + gamma * noise
            v_prev = theta - fast  # v_k = theta_{k-1} - theta^fast_k (eq. 67)
            theta = (1.0 - dts[k]) * theta + dts[k] * fast
        _check_step("averaged_sgd_iterates", k, theta=theta, theta_fast=fast)
        diverging(k, fasts[k - 1] - fast)
        thetas[k], fasts[k] = theta, fast
    return thetas, fasts


def _two_timescale(where, theta, gamma, dts, steps, F_hat, A_hat, rng, return_velocity):
    """The loop of eqs 27-28 on validated arguments (shared by Proposition 4's noise-free system)."""
    d = theta.size
    v = np.zeros(d)
    out = _Trajectory(where, theta, v, steps, return_velocity)
    for k in range(1, steps + 1):
        F = np.asarray(F_hat(theta, rng), dtype=float)
        A = np.asarray(A_hat(theta, rng), dtype=float)
        if F.shape != (d,) or A.shape != (d, d):
            raise ValueError(f"F_hat and A_hat must return shapes ({d},) and ({d}, {d}) for theta0 of shape ({d},), "
                             f"got {F.shape} and {A.shape} at step k = {k}")
        with np.errstate(over="ignore", invalid="ignore"):
            v = v + gamma * F - gamma * A @ v
            theta = theta - dts[k] * v
        out.keep(k, theta, v)
    return out.result(steps)


def two_timescale_iterates(theta0, gamma, dt, steps: int, F_hat, A_hat, rng=None, return_velocity: bool = False):
    """The general iteration of Theorem 5 (eqs 27-28), ``v_0 = 0``.

    000_3b01ec78f4f92394.txt Theorem 5, eqs 27-28 (Proposition 4, eqs 13-14, for deterministic callables)::

        v_k = v_{k-1} + gamma F^_k - gamma A^_k v_{k-1},    theta_k = theta_{k-1} - dt v_k

    ``F_hat(theta, rng) -> (d,)`` and ``A_hat(theta, rng) -> (d, d)`` are evaluated at ``theta_{k-1}``
    (their conditional means ``F(theta)``, ``A(theta)`` define the limit ODE eq. 32).  Deterministic
    callables give Proposition 4 (eqs 13-14).  ``rng``: None, a numpy Generator, or a seed for one.

    Parameters
    ----------
    theta0 : array_like, shape (d,)
        The start.
    gamma : float
        The velocity's step, > 0.
    dt : float or array_like, shape (steps+1,)
        ``delta t_0..delta t_steps`` in [0, 1] (``dt[k]`` moves ``theta_k``).
    steps : int
        Number of iterations K.
    F_hat : callable
        ``F_hat(theta, rng) -> (d,)``.
    A_hat : callable
        ``A_hat(theta, rng) -> (d, d)``.
    rng : None, numpy.random.Generator or int, optional
        The generator passed to ``F_hat`` and ``A_hat``.
    return_velocity : bool, default False
        Also return ``v_0..v_K``.

    Returns
    -------
    thetas : ndarray, shape (K+1, d)
        ``theta_0..theta_K``.
    velocities : ndarray, shape (K+1, d)
        ``v_0..v_K``, only with ``return_velocity``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import two_timescale_iterates
    >>> thetas = two_timescale_iterates([1.0], 0.5, 0.1, 2, lambda th, rng: th, lambda th, rng: np.eye(1))
    >>> np.round(thetas.ravel(), 6).tolist()     # v_1 = 0.5, theta_1 = 0.95; v_2 = 0.725, theta_2 = 0.8775
    [1.0, 0.95, 0.8775]
    """
    theta = as_array("theta0", theta0, ndim=1).copy()
    gamma = positive("gamma", gamma)
    steps = as_int("steps", steps)
    dts = _as_dt(dt, steps)
    F_hat, A_hat = as_callable("F_hat", F_hat), as_callable("A_hat", A_hat)
    return_velocity = as_bool("return_velocity", return_velocity)
    if rng is not None and not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(as_seed("rng", rng))
    return _two_timescale("two_timescale_iterates", theta, gamma, dts, steps, F_hat, A_hat, rng, return_velocity)


def noise_free_iterates(model, theta0, gamma, dt, steps: int, variant: str = "prop4", x=None, y=None,
                        return_velocity: bool = False, on_unstable: str = "warn"):
    """The noise-free systems, with ``F = E g`` (exact expected gradient) and ``A = J`` (exact Fisher).

    000_3b01ec78f4f92394.txt Proposition 4, eqs 13-14, and Definition 1, eqs 3-4, with exact expectations:

    * ``"prop4"``: Proposition 4, eqs 13-14, ``v_k = v_{k-1} + gamma F(theta_{k-1}) - gamma J(theta_{k-1}) v_{k-1}``,
      ``theta_k = theta_{k-1} - dt v_k`` (a constant dt);
    * ``"tango"``: eqs 3-4 with every expectation exact,
      ``v_k = (1 - dt_{k-1}) v_{k-1} + gamma F - gamma (1 - dt_{k-1}) J v_{k-1}``, ``theta_k = theta_{k-1} - dt_k v_k``.

    ``x, y``: the dataset of a supervised model (the expectations are means over its rows).  Proposition 4
    needs ``gamma < 1/lambda_max(A)``; ``on_unstable`` ("warn", "raise", "ignore") reports a violation at theta_0.

    Parameters
    ----------
    model : Model
        The model.
    theta0 : array_like, shape (d,)
        The start.
    gamma : float
        The velocity's step, > 0.
    dt : float or array_like, shape (steps+1,)
        ``delta t`` (one number for ``"prop4"``; a schedule is allowed for ``"tango"``).
    steps : int
        Number of iterations K.
    variant : {"prop4", "tango"}
        Which system.
    x : None or array_like, shape (N, p)
        The dataset's inputs (supervised models).
    y : None or array_like, shape (N,)
        The dataset's outcomes.
    return_velocity : bool, default False
        Also return ``v_0..v_K``.
    on_unstable : {"warn", "raise", "ignore"}
        What to do when ``gamma lambda_max(J(theta_0)) >= 1``.

    Returns
    -------
    thetas : ndarray, shape (K+1, d)
        ``theta_0..theta_K``.
    velocities : ndarray, shape (K+1, d)
        ``v_0..v_K``, only with ``return_velocity``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import GaussianModel, noise_free_iterates, two_timescale_iterates
    >>> m = GaussianModel(10.0, 1.0)                      # E g at theta_0 = 0 is (-10, -100)
    >>> a = noise_free_iterates(m, [0.0, 0.0], 0.2, 0.1, steps=3)
    >>> b = two_timescale_iterates([0.0, 0.0], 0.2, 0.1, 3, lambda th, r: m.expected_gradient(th), lambda th, r: m.fisher(th))
    >>> np.round(a[1], 6).tolist(), bool(np.allclose(a, b))          # theta_1 = -dt gamma E g
    ([0.2, 2.0], True)
    """
    model = _model(model)
    variant = as_choice("variant", variant, ("prop4", "tango"))
    on_unstable = as_choice("on_unstable", on_unstable, ON_UNSTABLE)
    return_velocity = as_bool("return_velocity", return_velocity)
    X, Y = model._dataset(x, y)
    theta = model._params(theta0, X, "theta0", ndim=1).copy()
    gamma = positive("gamma", gamma)
    steps = as_int("steps", steps)
    if variant == "prop4" and np.ndim(dt) != 0:
        raise ValueError("dt must be one number for Proposition 4 (a constant dt); use variant='tango' for a schedule")
    dts = _as_dt(dt, steps)
    d = theta.size
    check_allocation(f"the Fisher matrix J ({d} x {d})", (d, d), cheaper="simulate_tango, which never forms J")
    F = lambda th, _rng=None: model._expected_gradient(th, X, Y)  # noqa: E731
    J = lambda th, _rng=None: model._fisher(th, X)  # noqa: E731
    lam_max = float(np.linalg.eigvalsh(J(theta))[-1])
    if gamma * lam_max >= 1.0 and on_unstable != "ignore":
        msg = f"gamma lambda_max(J(theta_0)) = {gamma * lam_max:.3g} >= 1: Proposition 4 needs gamma < 1/lambda_max(A)"
        if on_unstable == "raise":
            raise ValueError(msg)
        warnings.warn(msg, StabilityWarning, stacklevel=2)
    if variant == "prop4":
        return _two_timescale("noise_free_iterates", theta, gamma, dts, steps, F, J, None, return_velocity)
    v = np.zeros(d)
    out = _Trajectory("noise_free_iterates", theta, v, steps, return_velocity)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            keep = 1.0 - dts[k - 1]
            v = keep * v + gamma * F(theta) - gamma * keep * (J(theta) @ v)
            theta = theta - dts[k] * v
            out.keep(k, theta, v)
    return out.result(steps)


def auxiliary_sequence(thetas, vs, A, gamma, dt, at=None):
    """The auxiliary sequence ``z_{k+1} = theta_k - dt gamma^-1 A(theta_k)^-1 v_{k+1}`` of Proposition 4's proof.

    000_3b01ec78f4f92394.txt Proposition 4's proof, eq. 21 (eq. 16 when A is constant), k = 0..K-1.

    Proposition 4's proof: z follows the Euler scheme of eq. 15 up to O(dt^2) per step (eqs 18, 20, 25-26)
    and ``z_k - theta_k = O(dt)`` (eq. 19).  Returns z_1..z_K, shape (K, d).  A singular ``A`` (the softmax Fisher)
    is inverted on its range, as in :func:`~theorytools.tango.natural_direction` (a scale-invariant rank).

    ``at``: the indices k (1 <= k <= K) of the ``z_k`` to form instead, in that order (shape (len(at), d)); each
    needs only ``theta_{k-1}`` and ``v_k``, so a long trajectory can be sampled without one solve per step.

    Parameters
    ----------
    thetas : array_like, shape (K+1, d)
        ``theta_0..theta_K``.
    vs : array_like, shape (K+1, d)
        ``v_0..v_K``.
    A : callable
        ``A(theta) -> (d, d)``, symmetric positive semidefinite.
    gamma : float
        The velocity's step, > 0.
    dt : float
        The constant ``delta t``, > 0.
    at : array_like of int, optional
        Indices k in 1..K of the ``z_k`` to form (default: all).

    Returns
    -------
    ndarray, shape (K, d) or (len(at), d)
        ``z_1..z_K``, or the ``z_k`` at ``at``.

    Examples
    --------
    With a constant A, eq. 18 is exact: ``z_{k+1} = z_k - dt A^-1 F(theta_k)``:

    >>> import numpy as np
    >>> from theorytools.tango import auxiliary_sequence, two_timescale_iterates
    >>> th, v = two_timescale_iterates([1.0], 0.5, 0.1, 3, lambda t, r: t, lambda t, r: np.eye(1), return_velocity=True)
    >>> z = auxiliary_sequence(th, v, lambda t: np.eye(1), 0.5, 0.1)
    >>> round(float(z[0, 0]), 6), bool(np.allclose(z[1:], z[:-1] - 0.1 * th[1:-1]))   # z_1 = 1 - 0.2 x 0.5
    (0.9, True)
    """
    thetas, vs = as_array("thetas", thetas, ndim=2), as_array("vs", vs, ndim=2)
    if thetas.shape[0] < 2:
        raise ValueError(f"thetas must hold theta_0..theta_K with K >= 1 (at least 2 rows), got shape {thetas.shape}")
    if vs.shape != thetas.shape:
        raise ValueError(f"thetas and vs must have the same shape (K + 1, d), got {thetas.shape} and {vs.shape}")
    A = as_callable("A", A)
    gamma, dt = positive("gamma", gamma), positive("dt", dt)
    K, d = thetas.shape[0] - 1, thetas.shape[1]
    if at is None:
        ks = range(K)
    else:
        at = np.atleast_1d(as_steps(real_array("at", at), "at"))
        if at.ndim != 1 or at.size == 0 or at.min() < 1 or at.max() > K:
            raise ValueError(f"at must be a non-empty 1-D array of indices k of z_k in 1..K = {K}, got "
                             f"{'shape ' + str(at.shape) if at.ndim != 1 or at.size == 0 else f'values in [{at.min()}, {at.max()}]'}")
        ks = (at - 1).tolist()
    out = np.empty((len(ks), d))
    for i, k in enumerate(ks):
        Ak = np.asarray(A(thetas[k]), dtype=float)  # finiteness: checked by _natural_direction
        if Ak.shape != (d, d):
            raise ValueError(f"A must return a ({d}, {d}) matrix for theta of shape ({d},), got shape {Ak.shape} at k = {k}")
        out[i] = thetas[k] - dt / gamma * _natural_direction(Ak, vs[k + 1], f"auxiliary_sequence at k = {k}")
    return out
