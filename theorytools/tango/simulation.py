"""Monte Carlo over independent runs of TANGO, averaged SGD and SGD (000_3b01ec78f4f92394.txt Definition 1, eqs 5, 8-9).

Runs advance together (arrays with a leading axis over runs) through the same step routine as
:func:`theorytools.tango.tango_iterates`; blocks of runs have their own seeded streams
(:mod:`theorytools.montecarlo`), so a seed gives bit-identical results for any chunking or number of
workers.  Only the recorded quantities at the requested k are kept.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np

from theorytools.errors import NonFiniteError
from theorytools.linalg import as_steps, real_array
from theorytools.montecarlo import BLOCK, MonteCarloResult, run_blocks
from theorytools.tango.algorithms import StabilityWarning, _as_dt, _Gamma, tango_step
from theorytools.tango.models import GaussianModel
from theorytools.tango.preconditioners import as_preconditioner

METHODS = ("tango", "averaged_sgd", "sgd")


@dataclass(frozen=True, eq=False)
class TangoResult:
    """Monte Carlo moments at each recorded k of the quantities ``names`` (theta's coordinates, then
    ``|v_k|^2`` and, with a threshold c, the indicator ``max_{j<=k} |v_j| > c``)."""

    k: np.ndarray
    mc: MonteCarloResult
    names: tuple
    method: str

    def _shape(self, a):
        return np.asarray(a).reshape(self.k.size, len(self.names))

    @property
    def mean(self) -> np.ndarray:
        """Shape (len(k), len(names))."""
        return self._shape(self.mc.mean)

    @property
    def stderr(self) -> np.ndarray:
        return self._shape(self.mc.stderr)

    @property
    def skewness(self) -> np.ndarray:
        return self._shape(self.mc.skewness)

    @property
    def runs(self) -> int:
        return self.mc.runs

    def ci(self, level: float = 0.99, method: str = "normal"):
        lo, hi = self.mc.ci(level, method)
        return self._shape(lo), self._shape(hi)

    def field(self, name: str):
        """``(mean, stderr)`` of one recorded quantity over k."""
        j = self.names.index(name)
        return self.mean[:, j], self.stderr[:, j]

    @property
    def theta_mean(self) -> np.ndarray:
        d = sum(n.startswith("theta_") for n in self.names)
        return self.mean[:, :d]


def data_sampler(model, x, y, batch: int = 1):
    """A sampler ``(rng, runs) -> (x_k, y_k)`` of shape (runs, batch[, p]): the Gaussian model's data law,
    or rows of the dataset drawn uniformly with replacement."""
    if model.unsupervised:
        if x is not None or y is not None:
            raise ValueError(f"{model!r} draws its data from N(data_mean, data_std^2): x and y must be None")

        def draw_law(rng, runs):
            return None, model.sample_data(rng, (runs, batch))

        draw_law.batch = batch  # lets a model fuse the draw with its gradients
        return draw_law
    if x is None or y is None:
        raise ValueError(f"{model!r} needs a dataset: x of shape (N, p) and y of shape (N,)")
    X, Y = real_array("x", x), real_array("y", y)
    if X.ndim != 2 or Y.shape != X.shape[:1]:
        raise ValueError(f"x must have shape (N, p) and y shape (N,), got {X.shape} and {Y.shape}")

    def draw(rng, runs):
        idx = rng.integers(0, X.shape[0], size=(runs, batch))
        return X[idx], Y[idx]

    return draw


def simulate_tango(model, theta0, gamma, dt, steps: int, runs: int = 1000, seed=0, *, k=None, method: str = "tango",
                   x=None, y=None, C=None, batch: int = 1, outer_product: bool = False, v_sup_threshold=None,
                   theta_radius=None, record_velocity: bool = False, chunk_size=None, workers: int | None = None, progress=None, client=None,
                   block_size: int = 4 * BLOCK,
                   route: str = "auto") -> TangoResult:
    """Simulate ``runs`` independent trajectories and return the moments of theta_k (and |v_k|^2) at each k.

    Parameters
    ----------
    model : a model of :mod:`theorytools.tango.models`
    theta0 : (d,) start
    gamma : TANGO's gamma (or a rule name, see :func:`tango_iterates`); the fast rate of averaged SGD;
        the learning rate of SGD
    dt : float or (steps+1,) schedule ``delta t_0..delta t_steps`` (unused by SGD)
    steps : number of iterations K
    k : iteration counts to record (default: 20 log-spaced up to steps)
    method : "tango" | "averaged_sgd" (eqs 8-9 with xi = 0) | "sgd"
    x, y : the dataset of a supervised model (sampled uniformly with replacement)
    C : preconditioner of eqs 6-7 (TANGO only)
    batch : minibatch size B (eq. 5 for TANGO; plain minibatch means for the others)
    outer_product : TANGO's outer-product variant (y~ = y)
    v_sup_threshold : also record the indicator ``max_{j<=k} |v_j| > v_sup_threshold`` (Corollary 8)
    theta_radius : also record the indicator ``max_{j<=k} |theta_j - theta_0| > theta_radius`` (whether a run left
        the ball on which a theorem's constants were computed)
    record_velocity : also record v_k's coordinates (TANGO)
    block_size : runs per random stream (part of what a seed means; default 4096, four engine blocks): the
        Python overhead of a step is paid once per block (``benchmarks/bench_tango.py``: 2.4x the bare cost of
        the draws at 1024 runs per block, 1.65x at 4096)
    route : "auto" (the in-place Gaussian kernel where it applies: TANGO on :class:`GaussianModel`, fixed gamma,
        C = None, B = 1) or "generic" (the model-agnostic route; same draws, equal to rounding)
    """
    if route not in ("auto", "generic"):
        raise ValueError(f"route must be 'auto' or 'generic', got {route!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    steps = int(as_steps(steps))
    ks = np.unique(np.concatenate([[0], np.round(np.logspace(0, np.log10(max(steps, 1)), 20)).astype(np.int64)])) \
        if k is None else np.atleast_1d(as_steps(k))
    if ks.max() > steps:
        raise ValueError(f"k must be <= steps = {steps}, got {int(ks.max())}")
    dts = _as_dt(dt, steps)
    theta0 = real_array("theta0", theta0)
    if theta0.ndim != 1 or not np.all(np.isfinite(theta0)):
        raise ValueError(f"theta0 must be a finite 1-D parameter vector, got {theta0!r}")
    if int(batch) != batch or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    d = theta0.size
    draw = data_sampler(model, x, y, int(batch))
    names = tuple(f"theta_{i}" for i in range(d)) + (("v_sq",) if method == "tango" else ()) \
        + (("v_sup_exceeds",) if v_sup_threshold is not None and method == "tango" else ()) \
        + (("theta_left_ball",) if theta_radius is not None else ()) \
        + (tuple(f"v_{i}" for i in range(d)) if record_velocity and method == "tango" else ())
    steps_at, where = np.unique(ks, return_inverse=True)
    warned = [False]

    def block(rng, nruns):
        theta = np.broadcast_to(theta0, (nruns, d)).copy()
        other = theta.copy()  # v (TANGO) or the fast parameter (averaged SGD)
        if method == "tango":
            other[:] = 0.0
        vmax, dmax = np.zeros(nruns), np.zeros(nruns)
        gam = _Gamma(gamma, nruns, int(batch))
        pre = as_preconditioner(C, d)
        state = pre.init(nruns, d)
        rec = np.empty((nruns, steps_at.size, len(names)))
        pos = 0
        for j in range(steps + 1):
            if pos < steps_at.size and steps_at[pos] == j:
                rec[:, pos, :d] = theta
                if method == "tango":
                    vsq = np.sum(other * other, axis=1)
                    rec[:, pos, d] = vsq
                    if v_sup_threshold is not None:
                        rec[:, pos, d + 1] = vmax > v_sup_threshold
                if theta_radius is not None:
                    rec[:, pos, names.index("theta_left_ball")] = dmax > theta_radius
                if record_velocity and method == "tango":
                    rec[:, pos, len(names) - d:] = other
                pos += 1
            if j == steps:
                break
            if method != "tango":
                xk, yk = draw(rng, nruns)
                g = model.grad((other if method == "averaged_sgd" else theta)[:, None, :], yk, xk).mean(axis=1)
            if method == "sgd":
                theta = theta - gamma * g
            elif method == "averaged_sgd":
                other = other - gamma * g
                theta = (1.0 - dts[j + 1]) * theta + dts[j + 1] * other
            else:
                g, gt = model.sampled_gradients(rng, theta, draw, outer_product)
                gk = gam(gt)
                if not warned[0] and np.max(gk * batch * np.sum(gt * gt, axis=1, keepdims=True)) > 2.0:
                    warnings.warn(f"gamma B |g~|^2 > 2 at step k = {j + 1}: the velocity update amplifies v "
                                  "(stability needs gamma <= 1/R^2, Theorem 5)", StabilityWarning, stacklevel=4)
                    warned[0] = True
                state, Cg, Cgt = pre.apply(state, theta, g, gt)
                other, theta = tango_step(other, theta, g, gt, gk, dts[j], dts[j + 1], Cg, Cgt, int(batch))
                if v_sup_threshold is not None:
                    vmax = np.maximum(vmax, np.sqrt(np.sum(other * other, axis=1)))
            if theta_radius is not None:
                dmax = np.maximum(dmax, np.sqrt(np.sum((theta - theta0) ** 2, axis=1)))
            if not np.isfinite(theta.sum() + other.sum()):
                bad = np.argwhere(~np.isfinite(theta + other))[0][0]
                raise NonFiniteError(f"simulate_tango ({method}): non-finite iterate at step k = {j + 1} in run {bad} of "
                                     "this block; gamma or dt is too large for this model")
        return rec[:, where, :].reshape(nruns, -1)

    _warn_if_gamma_too_large(model, theta0, gamma, int(batch), draw, outer_product, seed)
    if route == "auto" and theta_radius is None and not record_velocity and _fast_path_applies(model, method, C, batch, gamma, outer_product,
                                                                       v_sup_threshold):
        block = partial(_gaussian_tango_block, model, theta0, float(gamma), dts, steps, steps_at, where)
    mc = run_blocks(block, runs, seed, chunk_size=chunk_size, workers=workers, client=client, progress=progress, desc=f"simulate {method}",
                    block_size=block_size)
    return TangoResult(ks, mc, names, method)


def _warn_if_gamma_too_large(model, theta0, gamma, batch, draw, outer_product, seed, n=4096):
    """Warn when a fixed gamma exceeds ``E|g~|^2 / (B E|g~|^4)`` at theta_0 -- a necessary condition for gamma <= 1/R^2
    (Theorem 5), estimated on ``n`` pseudo-samples from a stream of its own (the runs' streams are untouched)."""
    if isinstance(gamma, str):
        return
    rng = np.random.default_rng(np.random.SeedSequence([2**32 - 1, 77]) if seed is None else
                                np.random.SeedSequence(entropy=seed.entropy if isinstance(seed, np.random.SeedSequence) else int(seed),
                                                       spawn_key=(2**31,)))
    _, gt = model.sampled_gradients(rng, np.broadcast_to(theta0, (n, theta0.size)).copy(), draw, outer_product)
    sq = np.sum(gt * gt, axis=1)
    necessary = float(np.mean(sq) / (batch * np.mean(sq * sq)))
    if gamma > necessary:
        warnings.warn(f"gamma = {gamma:.3g} exceeds E|g~|^2 / (B E|g~|^4) = {necessary:.3g} at theta_0: a necessary condition "
                      "for gamma <= 1/R^2 (Theorem 5) fails", StabilityWarning, stacklevel=3)


def _fast_path_applies(model, method, C, batch, gamma, outer_product, v_sup_threshold) -> bool:
    return (isinstance(model, GaussianModel) and method == "tango" and C is None and batch == 1 and not outer_product
            and not isinstance(gamma, str) and v_sup_threshold is None)


def _gaussian_tango_block(model, theta0, gamma, dts, steps, steps_at, where, rng, nruns):
    """TANGO on Figure 1's Gaussian model, one coordinate array at a time with in-place ufuncs (the generic
    route allocates (runs, d) temporaries at every step).  Same draws, same formulas as
    :meth:`GaussianModel.sampled_gradients` and :func:`tango_step`: equal to rounding."""
    mu, ls = np.full(nruns, theta0[0]), np.full(nruns, theta0[1])
    v0, v1 = np.zeros(nruns), np.zeros(nruns)
    inv, r, t0, t1, coef = (np.empty(nruns) for _ in range(5))
    rec = np.empty((nruns, steps_at.size, 3))
    m, sd = model.data_mean, model.data_std
    pos = 0
    for j in range(steps + 1):
        if pos < steps_at.size and steps_at[pos] == j:
            rec[:, pos, 0], rec[:, pos, 1], rec[:, pos, 2] = mu, ls, v0 * v0 + v1 * v1
            pos += 1
        if j == steps:
            break
        z = rng.standard_normal((2, nruns))
        np.negative(ls, out=inv)
        np.exp(inv, out=inv)                    # 1/sigma
        np.multiply(z[0], sd, out=r)
        r += m
        r -= mu
        r *= inv                                # (y - mu)/sigma
        # g = (-r/sigma, 1 - r^2), g~ = (-z~/sigma, 1 - z~^2); coef = v . g~
        np.multiply(z[1], inv, out=t0)          # -g~_0
        np.multiply(z[1], z[1], out=t1)
        np.subtract(1.0, t1, out=t1)            # g~_1
        np.multiply(v1, t1, out=coef)
        coef -= v0 * t0
        keep = 1.0 - dts[j]
        coef *= gamma * keep
        # v0 = keep v0 + gamma g_0 - gamma keep coef g~_0 = keep v0 - gamma r/sigma + (gamma keep coef) t0
        v0 *= keep
        v0 -= gamma * (r * inv)
        v0 += coef * t0
        # v1 = keep v1 + gamma (1 - r^2) - (gamma keep coef) g~_1
        v1 *= keep
        np.multiply(r, r, out=r)
        v1 += gamma * (1.0 - r)
        v1 -= coef * t1
        mu -= dts[j + 1] * v0
        ls -= dts[j + 1] * v1
        if not np.isfinite(mu.sum() + ls.sum() + v0 @ v0 + v1 @ v1):
            bad = np.argwhere(~np.isfinite(mu + ls + v0 * v0 + v1 * v1))[0][0]
            raise NonFiniteError(f"simulate_tango (tango): non-finite iterate at step k = {j + 1} in run {bad} of this "
                                 "block; gamma or dt is too large for this model")
    return rec[:, where, :].reshape(nruns, -1)


def simulate_two_timescale(theta0, gamma, dt, steps: int, draw, runs: int = 1000, seed=0, *, k=None,
                           v_sup_threshold=None, chunk_size=None, workers: int | None = None, progress=None, client=None) -> TangoResult:
    """Monte Carlo of Theorem 5's iteration (eqs 27-28), ``v_0 = 0``, over independent runs::

        v_k = v_{k-1} + gamma F^_k - gamma A^_k v_{k-1},    theta_k = theta_{k-1} - dt_k v_k

    ``draw(rng, theta) -> (F^, A^)`` for all runs at once (``theta`` of shape (runs, d)): ``F^`` of shape
    (runs, d), and ``A^`` of shape (runs, d, d), or (runs, d) for a rank-one ``A^ = a a^T`` given by ``a``.
    Records theta, |v_k|^2 and, with a threshold c, the indicator ``max_{j<=k} |v_j| > c``.
    """
    steps = int(as_steps(steps))
    ks = np.atleast_1d(as_steps(k)) if k is not None else np.arange(steps + 1)
    if ks.max() > steps:
        raise ValueError(f"k must be <= steps = {steps}, got {int(ks.max())}")
    dts = _as_dt(dt, steps)
    theta0 = real_array("theta0", theta0)
    d = theta0.size
    names = tuple(f"theta_{i}" for i in range(d)) + ("v_sq",) + (("v_sup_exceeds",) if v_sup_threshold is not None else ())
    steps_at, where = np.unique(ks, return_inverse=True)

    def block(rng, nruns):
        theta = np.broadcast_to(theta0, (nruns, d)).copy()
        v = np.zeros((nruns, d))
        vmax = np.zeros(nruns)
        rec = np.empty((nruns, steps_at.size, len(names)))
        pos = 0
        for j in range(steps + 1):
            if pos < steps_at.size and steps_at[pos] == j:
                rec[:, pos, :d] = theta
                rec[:, pos, d] = np.sum(v * v, axis=1)
                if v_sup_threshold is not None:
                    rec[:, pos, d + 1] = vmax > v_sup_threshold
                pos += 1
            if j == steps:
                break
            F, A = draw(rng, theta)
            Av = np.einsum("rij,rj->ri", A, v) if np.ndim(A) == 3 else A * np.sum(A * v, axis=1, keepdims=True)
            v = v + gamma * F - gamma * Av
            theta = theta - dts[j + 1] * v
            vmax = np.maximum(vmax, np.sqrt(np.sum(v * v, axis=1)))
            if not np.isfinite(v.sum()):
                bad = np.argwhere(~np.isfinite(v))[0][0]
                raise NonFiniteError(f"simulate_two_timescale: non-finite velocity at step k = {j + 1} in run {bad} of this block")
        return rec[:, where, :].reshape(nruns, -1)

    mc = run_blocks(block, runs, seed, chunk_size=chunk_size, workers=workers, client=client, progress=progress, desc="simulate theorem 5")
    return TangoResult(ks, mc, names, "two_timescale")
