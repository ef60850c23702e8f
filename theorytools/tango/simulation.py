"""Monte Carlo over independent runs of TANGO, averaged SGD and SGD (000_3b01ec78f4f92394.txt Definition 1, eqs 5, 8-9).

Runs advance together (arrays with a leading axis over runs) through the same step routine as
:func:`theorytools.tango.tango_iterates`; blocks of runs have their own seeded streams
(:mod:`theorytools.montecarlo`), so a seed gives bit-identical results for any chunking or number of
workers.  Only the recorded quantities at the requested k are kept.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np

from theorytools.errors import NonFiniteError
from theorytools.linalg import (
    as_array,
    as_bool,
    as_callable,
    as_choice,
    as_instance,
    as_int,
    as_steps,
    check_allocation,
    real_array,
    positive,
)
from theorytools.montecarlo import BLOCK, MonteCarloResult, run_blocks
from theorytools.tango.algorithms import StabilityWarning, _as_dt, _Gamma, _tango_step
from theorytools.tango.models import GaussianModel, Model, batch_mean
from theorytools.tango.preconditioners import as_preconditioner

METHODS = ("tango", "averaged_sgd", "sgd")


@dataclass(frozen=True, eq=False)
class TangoResult:
    """Monte Carlo moments at each recorded k of the quantities ``names``.

    The quantities are theta's coordinates, then ``|v_k|^2`` and, with a threshold c, the indicator
    ``max_{j<=k} |v_j| > c`` (000_3b01ec78f4f92394.txt Corollary 8), as returned by :func:`simulate_tango` and
    :func:`simulate_two_timescale`.

    Parameters
    ----------
    k : ndarray
        The recorded iteration counts.
    mc : MonteCarloResult
        The moments over runs, flattened over (k, names).
    names : tuple of str
        The recorded quantities.
    method : str
        The iteration simulated.

    Examples
    --------
    >>> from theorytools.tango import LinearRegressionModel, simulate_tango
    >>> res = simulate_tango(LinearRegressionModel(), [0.0], 0.25, 1.0, steps=3, runs=4, k=[0, 3], x=[[1.0]], y=[2.0])
    >>> res.names, res.mean.shape, res.k.tolist()
    (('theta_0', 'v_sq'), (2, 2), [0, 3])
    """

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
        j = self.names.index(as_choice("name", name, self.names))
        return self.mean[:, j], self.stderr[:, j]

    @property
    def theta_mean(self) -> np.ndarray:
        d = sum(n.startswith("theta_") for n in self.names)
        return self.mean[:, :d]


def data_sampler(model, X, Y, batch: int = 1):
    """A sampler ``(rng, runs) -> (x_k, y_k)`` of shape (runs, batch[, p]): the Gaussian model's data law,
    or rows of the validated dataset ``(X, Y)`` drawn uniformly with replacement."""
    if model.unsupervised:
        def draw_law(rng, runs):
            return None, model._sample_data(rng, (runs, batch))

        draw_law.batch = batch  # lets a model fuse the draw with its gradients
        return draw_law

    def draw(rng, runs):
        idx = rng.integers(0, X.shape[0], size=(runs, batch))
        return X[idx], Y[idx]

    return draw


def _record_steps(k, steps: int) -> np.ndarray:
    """The iteration counts to record: ``k`` (validated, <= steps), or 0 and 20 log-spaced counts up to steps."""
    if k is None:
        ks = np.unique(np.concatenate([[0], np.round(np.logspace(0, np.log10(max(steps, 1)), 20)).astype(np.int64)]))
        return ks[ks <= steps]
    ks = np.atleast_1d(as_steps(real_array("k", k), "k"))
    if ks.ndim != 1 or ks.size == 0:
        raise ValueError(f"k must be an iteration count or a non-empty 1-D array of them, got shape {np.shape(k)}")
    if ks.max() > steps:
        raise ValueError(f"k must be <= steps = {steps}, got {int(ks.max())}")
    return ks


def _guard_records(runs: int, block_size: int, nk: int, nq: int):
    """Refuse, up front, the per-block record (runs per block x len(k) x quantities, and its reordered copy) and the
    per-block means the engine keeps for the intervals (blocks x (len(k) x quantities + ~20 words of overhead), as
    :func:`theorytools.montecarlo.run_blocks` counts them once the first block is done)."""
    check_allocation("the recorded quantities of one block of runs (runs per block x len(k) x quantities)",
                     (min(block_size, runs), nk, nq), copies=2, cheaper="fewer k, or a smaller block_size")
    check_allocation(f"the per-block means kept for the intervals for runs = {runs} (blocks x len(k) x quantities)",
                     (-(-runs // block_size), nk * nq + 20), cheaper="fewer runs or k, or a larger block_size")


def _seed(seed):
    """A seed of the block streams: a non-negative integer or a SeedSequence."""
    return seed if isinstance(seed, np.random.SeedSequence) else as_int("seed", seed)


def _optional_positive(name, value):
    return None if value is None else positive(name, value)


def simulate_tango(model, theta0, gamma, dt, steps: int, runs: int = 1000, seed=0, *, k=None, method: str = "tango",
                   x=None, y=None, C=None, batch: int = 1, outer_product: bool = False, v_sup_threshold=None,
                   theta_radius=None, record_velocity: bool = False, chunk_size=None, workers: int | None = None, progress=None, client=None,
                   block_size: int = 4 * BLOCK,
                   route: str = "auto") -> TangoResult:
    """Simulate ``runs`` independent trajectories and return the moments of theta_k (and ``|v_k|^2``) at each k.

    000_3b01ec78f4f92394.txt Definition 1 (TANGO, eqs 2-5), eqs 6-7 (``C``), eqs 8-9 (averaged SGD with xi = 0).

    Parameters
    ----------
    model : Model
        A model of :mod:`theorytools.tango.models`.
    theta0 : array_like, shape (d,)
        The start.
    gamma : float or str
        TANGO's gamma (or a rule name, see :func:`tango_iterates`); the fast rate of averaged SGD; the learning rate
        of SGD.
    dt : float or array_like, shape (steps+1,)
        The schedule ``delta t_0..delta t_steps`` (unused by SGD).
    steps : int
        Number of iterations K.
    runs : int, default 1000
        Number of independent runs (>= 2: a standard error needs two).
    seed : int or numpy.random.SeedSequence, default 0
        Seed of the block streams.
    k : array_like of int, optional
        Iteration counts to record, <= steps (default: 0 and 20 log-spaced up to steps).
    method : {"tango", "averaged_sgd", "sgd"}
        TANGO, averaged SGD (eqs 8-9 with xi = 0) or SGD.
    x, y : array_like, optional
        The dataset of a supervised model (sampled uniformly with replacement).
    C : None, array_like or preconditioner, optional
        Preconditioner of eqs 6-7 (TANGO only).
    batch : int, default 1
        Minibatch size B (eq. 5 for TANGO; plain minibatch means for the others), drawn with replacement.
    outer_product : bool, default False
        TANGO's outer-product variant (``y~ = y``).
    v_sup_threshold : float, optional
        Also record the indicator ``max_{j<=k} |v_j| > v_sup_threshold`` (Corollary 8; TANGO).
    theta_radius : float, optional
        Also record the indicator ``max_{j<=k} |theta_j - theta_0| > theta_radius`` (whether a run left the ball on
        which a theorem's constants were computed).
    record_velocity : bool, default False
        Also record ``v_k``'s coordinates (TANGO).
    chunk_size : int, optional
        Runs per task handed to the workers (:func:`theorytools.montecarlo.run_blocks`).
    workers : int, optional
        Worker processes (:func:`theorytools.montecarlo.run_blocks`).
    progress : optional
        A progress display, as for :func:`theorytools.montecarlo.run_blocks`.
    client : optional
        A distributed client, as for :func:`theorytools.montecarlo.run_blocks`.
    block_size : int, default 4096
        Runs per random stream (part of what a seed means; four engine blocks): the Python overhead of a step is paid
        once per block (``benchmarks/bench_tango.py``: 2.4x the bare cost of the draws at 1024 runs per block, 1.65x at
        4096).
    route : {"auto", "generic"}
        ``"auto"`` (the in-place Gaussian kernel where it applies: TANGO on :class:`GaussianModel`, fixed gamma,
        C = None, B = 1) or ``"generic"`` (the model-agnostic route; same draws, equal to rounding).

    Returns
    -------
    TangoResult
        The moments at the recorded k.

    Examples
    --------
    With ``delta t = 1`` TANGO is SGD; with a single data row every run is ``theta_k = 2 (1 - 0.75^k)``:

    >>> from theorytools.tango import LinearRegressionModel, simulate_tango
    >>> res = simulate_tango(LinearRegressionModel(), [0.0], 0.25, 1.0, steps=3, runs=4, k=[3], x=[[1.0]], y=[2.0])
    >>> round(float(res.theta_mean[0, 0]), 6), round(float(res.stderr[0, 0]), 6)
    (1.15625, 0.0)
    """
    model = as_instance("model", model, Model, "a model of theorytools.tango (GaussianModel, LinearRegressionModel, ...)")
    route = as_choice("route", route, ("auto", "generic"))
    method = as_choice("method", method, METHODS)
    steps = as_int("steps", steps)
    runs = as_int("runs", runs, low=2)
    seed = _seed(seed)
    block_size = as_int("block_size", block_size, low=1)
    batch = as_int("batch", batch, low=1)
    outer_product, record_velocity = as_bool("outer_product", outer_product), as_bool("record_velocity", record_velocity)
    v_sup_threshold = _optional_positive("v_sup_threshold", v_sup_threshold)
    theta_radius = _optional_positive("theta_radius", theta_radius)
    if method == "tango":
        _Gamma(gamma, 1)  # validates a fixed gamma or a rule name
    else:
        gamma = positive("gamma", gamma)
        for name, value in (("C", C), ("outer_product", outer_product or None), ("v_sup_threshold", v_sup_threshold),
                            ("record_velocity", record_velocity or None)):
            if value is not None:
                raise ValueError(f"{name} applies to method='tango' only, got it with method={method!r}")
    ks = _record_steps(k, steps)
    dts = _as_dt(dt, steps)
    X, Y = model._dataset(x, y)
    theta0 = model._params(theta0, X, "theta0", ndim=1)
    d = theta0.size
    pre = as_preconditioner(C)
    names = tuple(f"theta_{i}" for i in range(d)) + (("v_sq",) if method == "tango" else ()) \
        + (("v_sup_exceeds",) if v_sup_threshold is not None else ()) \
        + (("theta_left_ball",) if theta_radius is not None else ()) \
        + (tuple(f"v_{i}" for i in range(d)) if record_velocity else ())
    _guard_records(runs, block_size, ks.size, len(names))
    check_allocation("the minibatch draws and their gradients for one block of runs (runs per block x batch x d, "
                     "four arrays)", (max(min(block_size, runs), _GAMMA_PROBE), batch, max(d, 1 if X is None else X.shape[1])),
                     copies=4, cheaper="a smaller batch or block_size")
    pre._init(min(block_size, runs), d)  # shapes and size guards of the preconditioner, before any block runs
    draw = data_sampler(model, X, Y, batch)
    steps_at, where = np.unique(ks, return_inverse=True)
    warned = [False]

    def block(rng, nruns):
        theta = np.broadcast_to(theta0, (nruns, d)).copy()
        other = theta.copy()  # v (TANGO) or the fast parameter (averaged SGD)
        if method == "tango":
            other[:] = 0.0
        vmax, dmax = np.zeros(nruns), np.zeros(nruns)
        gam = _Gamma(gamma, nruns, batch)
        state = pre._init(nruns, d)
        rec = np.empty((nruns, steps_at.size, len(names)))
        pos = 0
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported below, at its step
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
                    if record_velocity:
                        rec[:, pos, len(names) - d:] = other
                    pos += 1
                if j == steps:
                    break
                if method != "tango":
                    xk, yk = draw(rng, nruns)
                    g = batch_mean(model._grad((other if method == "averaged_sgd" else theta)[:, None, :], yk, xk))
                if method == "sgd":
                    theta = theta - gamma * g
                elif method == "averaged_sgd":
                    other = other - gamma * g
                    theta = (1.0 - dts[j + 1]) * theta + dts[j + 1] * other
                else:
                    g, gt = model._sampled_gradients(rng, theta, draw, outer_product)
                    gk = gam(gt)
                    if not warned[0] and np.max(gk * batch * np.sum(gt * gt, axis=1, keepdims=True)) > 2.0:
                        warnings.warn(f"gamma B |g~|^2 > 2 at step k = {j + 1}: the velocity update amplifies v "
                                      "(stability needs gamma <= 1/R^2, Theorem 5)", StabilityWarning, stacklevel=4)
                        warned[0] = True
                    state, Cg, Cgt = pre._apply(state, theta, g, gt)
                    other, theta = _tango_step(other, theta, g, gt, gk, dts[j], dts[j + 1], Cg, Cgt, batch)
                    if v_sup_threshold is not None:
                        vmax = np.maximum(vmax, np.sqrt(np.sum(other * other, axis=1)))
                if theta_radius is not None:
                    dmax = np.maximum(dmax, np.sqrt(np.sum((theta - theta0) ** 2, axis=1)))
                if not math.isfinite(theta.sum() + other.sum()):  # one test per step; a sum may overflow from finite entries
                    bad = np.argwhere(~(np.isfinite(theta) & np.isfinite(other)))
                    if bad.size:
                        raise NonFiniteError(f"simulate_tango ({method}): theta or {'v' if method == 'tango' else 'the fast iterate'}"
                                             f" is not finite at step k = {j + 1} in run {bad[0][0]} of this block: the iteration "
                                             "diverged (gamma or dt too large for this model) or the model overflowed")
        return rec[:, where, :].reshape(nruns, -1)

    _warn_if_gamma_too_large(model, theta0, gamma, batch, draw, outer_product, seed)
    if route == "auto" and theta_radius is None and not record_velocity and _fast_path_applies(model, method, C, batch, gamma, outer_product,
                                                                       v_sup_threshold):
        block = partial(_gaussian_tango_block, model, theta0, float(gamma), dts, steps, steps_at, where)
    mc = run_blocks(block, runs, seed, chunk_size=chunk_size, workers=workers, client=client, progress=progress, desc=f"simulate {method}",
                    block_size=block_size)
    return TangoResult(ks, mc, names, method)


#: Pseudo-samples of the stability probe at theta_0 (:func:`_warn_if_gamma_too_large`).
_GAMMA_PROBE = 4096


def _warn_if_gamma_too_large(model, theta0, gamma, batch, draw, outer_product, seed, n=_GAMMA_PROBE):
    """Warn when a fixed gamma exceeds ``E|g~|^2 / (B E|g~|^4)`` at theta_0 -- a necessary condition for gamma <= 1/R^2
    (Theorem 5), estimated on ``n`` pseudo-samples from a stream of its own (the runs' streams are untouched)."""
    if isinstance(gamma, str):
        return
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    rng = np.random.default_rng(np.random.SeedSequence(entropy=root.entropy, spawn_key=(2**31,)))
    with np.errstate(over="ignore", invalid="ignore"):
        _, gt = model._sampled_gradients(rng, np.broadcast_to(theta0, (n, theta0.size)).copy(), draw, outer_product)
        sq = np.sum(gt * gt, axis=1)
        necessary = float(np.mean(sq) / (batch * np.mean(sq * sq)))
    if gamma > necessary:
        warnings.warn(f"gamma = {gamma:.3g} exceeds E|g~|^2 / (B E|g~|^4) = {necessary:.3g} at theta_0: a necessary condition "
                      "for gamma <= 1/R^2 (Theorem 5) fails", StabilityWarning, stacklevel=3)


def _fast_path_applies(model, method, C, batch, gamma, outer_product, v_sup_threshold) -> bool:
    return (isinstance(model, GaussianModel) and method == "tango" and C is None and batch == 1 and not outer_product
            and not isinstance(gamma, str) and v_sup_threshold is None)


@np.errstate(over="ignore", invalid="ignore")  # a diverging run is reported at its step, below
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
        if not math.isfinite(mu.sum() + ls.sum() + v0 @ v0 + v1 @ v1):  # may overflow from finite entries: look
            bad = np.argwhere(~(np.isfinite(mu) & np.isfinite(ls) & np.isfinite(v0) & np.isfinite(v1)))
            if bad.size:
                raise NonFiniteError(f"simulate_tango (tango): theta or v is not finite at step k = {j + 1} in run "
                                     f"{bad[0][0]} of this block: the iteration diverged (gamma or dt too large for this model)")
    return rec[:, where, :].reshape(nruns, -1)


def simulate_two_timescale(theta0, gamma, dt, steps: int, draw, runs: int = 1000, seed=0, *, k=None,
                           v_sup_threshold=None, chunk_size=None, workers: int | None = None, progress=None, client=None) -> TangoResult:
    """Monte Carlo of Theorem 5's iteration (eqs 27-28), ``v_0 = 0``, over independent runs.

    000_3b01ec78f4f92394.txt Theorem 5, eqs 27-28; Corollary 8 for the indicator::

        v_k = v_{k-1} + gamma F^_k - gamma A^_k v_{k-1},    theta_k = theta_{k-1} - dt_k v_k

    ``draw(rng, theta) -> (F^, A^)`` for all runs at once (``theta`` of shape (runs, d)): ``F^`` of shape
    (runs, d), and ``A^`` of shape (runs, d, d), or (runs, d) for a rank-one ``A^ = a a^T`` given by ``a``.
    Records theta, ``|v_k|^2`` and, with a threshold c, the indicator ``max_{j<=k} |v_j| > c``.

    Parameters
    ----------
    theta0 : array_like, shape (d,)
        The start.
    gamma : float
        The velocity's step, > 0.
    dt : float or array_like, shape (steps+1,)
        ``delta t_0..delta t_steps`` in [0, 1].
    steps : int
        Number of iterations K.
    draw : callable
        ``draw(rng, theta) -> (F^, A^)``.
    runs : int, default 1000
        Number of independent runs (>= 2).
    seed : int or numpy.random.SeedSequence, default 0
        Seed of the block streams.
    k : array_like of int, optional
        Iteration counts to record (default: every k).
    v_sup_threshold : float, optional
        Also record the indicator ``max_{j<=k} |v_j| > v_sup_threshold``.
    chunk_size : int, optional
        Runs per task handed to the workers (:func:`theorytools.montecarlo.run_blocks`).
    workers : int, optional
        Worker processes.
    progress : optional
        A progress display.
    client : optional
        A distributed client.

    Returns
    -------
    TangoResult
        The moments at the recorded k.

    Examples
    --------
    Deterministic draws give :func:`two_timescale_iterates` (``F = theta``, ``A = 1``):

    >>> import numpy as np
    >>> from theorytools.tango import simulate_two_timescale
    >>> res = simulate_two_timescale([1.0], 0.5, 0.1, 2, lambda rng, th: (th, np.ones_like(th)), runs=2)
    >>> np.round(res.field("theta_0")[0], 6).tolist()
    [1.0, 0.95, 0.8775]
    """
    theta0 = as_array("theta0", theta0, ndim=1)
    gamma = positive("gamma", gamma)
    steps = as_int("steps", steps)
    runs = as_int("runs", runs, low=2)
    seed = _seed(seed)
    draw = as_callable("draw", draw)
    v_sup_threshold = _optional_positive("v_sup_threshold", v_sup_threshold)
    ks = np.arange(steps + 1) if k is None else _record_steps(k, steps)
    dts = _as_dt(dt, steps)
    d = theta0.size
    names = tuple(f"theta_{i}" for i in range(d)) + ("v_sq",) + (("v_sup_exceeds",) if v_sup_threshold is not None else ())
    _guard_records(runs, BLOCK, ks.size, len(names))
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
            F, A = np.asarray(F, dtype=float), np.asarray(A, dtype=float)
            if F.shape != (nruns, d) or A.shape not in ((nruns, d, d), (nruns, d)):
                raise ValueError(f"draw must return F^ of shape ({nruns}, {d}) and A^ of shape ({nruns}, {d}, {d}) or "
                                 f"({nruns}, {d}) for theta of shape ({nruns}, {d}) (theta0 has {d} entries), got "
                                 f"{F.shape} and {A.shape} at step k = {j + 1}")
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported below, at its step
                Av = np.einsum("rij,rj->ri", A, v) if A.ndim == 3 else A * np.sum(A * v, axis=1, keepdims=True)
                v = v + gamma * F - gamma * Av
                theta = theta - dts[j + 1] * v
                vmax = np.maximum(vmax, np.sqrt(np.sum(v * v, axis=1)))
            with np.errstate(over="ignore", invalid="ignore"):
                total = v.sum() + theta.sum()
            if not np.isfinite(total):
                bad = np.argwhere(~(np.isfinite(v) & np.isfinite(theta)))[0][0]
                raise NonFiniteError(f"simulate_two_timescale: v or theta is not finite at step k = {j + 1} in run {bad} "
                                     "of this block: the iteration diverged (gamma or dt too large) or draw returned "
                                     "non-finite values")
        return rec[:, where, :].reshape(nruns, -1)

    mc = run_blocks(block, runs, seed, chunk_size=chunk_size, workers=workers, client=client, progress=progress, desc="simulate theorem 5")
    return TangoResult(ks, mc, names, "two_timescale")
