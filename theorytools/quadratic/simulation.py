"""Monte Carlo simulation of ``theta_{k+1} = theta_k - alpha_k B^{-1} g_k`` (001_7d31b3ff3a2f0401.txt eqn. 19).

Runs advance together in eigen-coordinates ``u = V^{-1}(theta - theta*)`` where the deterministic
part of a step is diagonal (``u <- u - alpha_k (lam * u + V^T eps)``) and
``h(theta) - h(theta*) = 1/2 sum_i lam_i u_i^2``.  Per run a step costs O(n r) for additive noise of
rank r (one BLAS product for the whole block) and O(m n) for sampled-data least squares with
minibatch m.  Only the recorded quantities at the requested k are kept: memory is O(runs_per_block
* (n + len(k))), never runs x steps x n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorytools.errors import NonFiniteError
from theorytools.linalg import as_choice, as_float, as_int, as_steps, check_allocation
from theorytools.montecarlo import BLOCK, MonteCarloResult, run_blocks
from theorytools.quadratic.noise import as_noise_model
from theorytools.quadratic.problem import as_problem
from theorytools.quadratic.schedules import as_schedule

AVERAGES = (None, "polyak", "ema")


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Monte Carlo estimate of ``E[h(x_k)] - h(theta*)`` at each requested k.

    ``x_k`` is the iterate (``average=None``), the Polyak average or the exponentially decayed average
    (001_7d31b3ff3a2f0401.txt §14.2, eqn. 19, and §14.3).  Returned by :func:`simulate`.

    Parameters
    ----------
    k : ndarray of int
        The iteration counts.
    mc : theorytools.montecarlo.MonteCarloResult
        The estimates and their statistics, one entry per k.
    average : str or None
        ``None``, ``"polyak"`` or ``"ema"``.
    noise : str
        Name of the noise model.

    Examples
    --------
    Every run starts at ``theta_0``, so at ``k = 0`` the estimate is ``h(theta_0) = 1.5`` with no error; at
    ``k = 1`` the 99% interval covers the exact 1/2 (:func:`excess_risk`):

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, simulate
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> r = simulate(p, 0.5, [0, 1], runs=4000, seed=0)
    >>> lo, hi = r.ci(0.99)
    >>> print(r.runs, round(float(r.mean[0]), 6), float(r.stderr[0]), bool(lo[1] <= 0.5 <= hi[1]))
    4000 1.5 0.0 True
    """

    k: np.ndarray
    mc: MonteCarloResult
    average: str | None
    noise: str

    @property
    def mean(self) -> np.ndarray:
        """The Monte Carlo mean of ``h(x_k) - h(theta*)`` at each k."""
        return self.mc.mean

    @property
    def stderr(self) -> np.ndarray:
        """The standard error of :attr:`mean` at each k."""
        return self.mc.stderr

    @property
    def runs(self) -> int:
        """The number of simulated trajectories."""
        return self.mc.runs

    @property
    def skewness(self) -> np.ndarray:
        """Sample skewness of h at each k (h is a quadratic form of the noise, hence skewed)."""
        return self.mc.skewness

    def ci(self, level: float = 0.99, method: str = "normal"):
        """Confidence interval at each k (``method``: "normal", "mom" or "bootstrap"); unpacks as ``lo, hi``."""
        return self.mc.ci(level, method)


def default_ks(kmax: int, num: int = 50) -> np.ndarray:
    """``num`` log-spaced iteration counts in ``[0, kmax]`` (distinct integers, 0 included).

    Parameters
    ----------
    kmax : int
        The largest count.
    num : int, optional
        Number of log-spaced points in ``[1, kmax]`` before rounding and removing duplicates (default 50).

    Returns
    -------
    ndarray of int64
        The sorted distinct counts, 0 first.

    Examples
    --------
    ``10^(0, 1/4, 1/2, 3/4, 1)`` rounded is ``1, 2, 3, 6, 10``:

    >>> from theorytools.quadratic import default_ks
    >>> default_ks(10, 5).tolist()
    [0, 1, 2, 3, 6, 10]
    """
    kmax = as_int("kmax", kmax)
    num = as_int("num", num, low=1)
    check_allocation("the grid of iteration counts", (num,), copies=3, cheaper="a smaller num")
    return np.unique(np.concatenate([[0], np.round(np.logspace(0, np.log10(max(kmax, 1)), num)).astype(np.int64)]))


def simulate(p, schedule, k=None, runs: int = 10_000, noise="gaussian", seed=0, *, average=None,
             beta_max: float = 0.99, chunk_size=None, workers: int | None = None, progress=None, client=None) -> SimulationResult:
    """Simulate ``runs`` independent trajectories and estimate ``E[h(.)] - h(theta*)`` at each ``k``.

    001_7d31b3ff3a2f0401.txt §14.2, eqn. 19 (and §14.3 for the averages).

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    schedule : Constant or Harmonic or StepSequence or float
        The step sizes (a float means ``Constant(alpha)``).
    k : int or array_like of int, optional
        Iteration count(s) (default: 50 log-spaced values up to 1000, :func:`default_ks`).
    runs : int, optional
        Number of independent trajectories, >= 2 (default 10000).
    noise : str or noise model, optional
        ``"gaussian"`` (default), ``"student_t"``, ``"rademacher_mixture"`` or a noise-model object
        (e.g. ``StudentTNoise(df=6)``, ``LeastSquaresData(X, y, batch)``).
    seed : int or numpy.random.SeedSequence, optional
        Results are bit-identical for any chunk_size/workers/client (default 0).
    average : None or str, optional
        ``None`` (default), ``"polyak"`` or ``"ema"``: record the iterate, the Polyak average
        ``mean(theta_0..theta_k)`` (§14.3) or the exponentially decayed average
        ``theta_bar_k = (1 - beta_k) theta_k + beta_k theta_bar_{k-1}``, ``beta_k = min(1 - 1/k, beta_max)``.
    beta_max : float, optional
        The largest decay factor of ``average="ema"``, in ``[0, 1)`` (default 0.99).
    chunk_size : int, optional
        Runs handed to a worker at a time (default: the engine's); it never changes the result.
    workers : int, optional
        Threads (default: the cores, at most 8; BLAS on one thread meanwhile).
    progress : bool, optional
        Show a tqdm progress bar on stderr; by default only when stderr is a terminal.
    client : dask.distributed.Client, optional
        Simulate the blocks on its cluster instead (same result).

    Returns
    -------
    SimulationResult
        Means, standard errors and intervals at each k.

    Examples
    --------
    The Polyak average after one step, against its exact risk 5/8 (:func:`averaged_excess_risk`):

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, simulate
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])
    >>> r = simulate(p, 0.5, 1, runs=4000, seed=0, average="polyak")
    >>> bool(abs(r.mean[0] - 0.625) < 4 * r.stderr[0])
    True
    """
    p = as_problem(p)
    schedule = as_schedule(schedule)
    ks = default_ks(1000) if k is None else np.atleast_1d(as_steps(k))
    runs = as_int("runs", runs, low=2)
    if average is not None:
        average = as_choice("average", average, AVERAGES[1:])
    beta_max = as_float("beta_max", beta_max, low=0.0, high=1.0, high_open=True)
    model = as_noise_model(noise)
    bound = model.bind(p)
    kmax = int(ks.max())
    horizon = getattr(schedule, "horizon", None)
    if horizon is not None and kmax > horizon:  # theta_k needs alpha_0..alpha_{k-1}
        raise ValueError(f"k must be <= {horizon} (the number of step sizes given), got {kmax}")
    cheaper = "fewer steps (excess_risk gives E[h(theta_k)] exactly for any k up to 1e12 at O(n) per k)"
    check_allocation("the step sizes alpha_0..alpha_{k-1}", (kmax,), cheaper=cheaper)
    # one block in flight per worker thread: its iterates (and average) and the values it records
    check_allocation("the iterates and records of a block of runs", (BLOCK, 2 * p.n + ks.size), copies=8,
                     cheaper="fewer k or a smaller problem")
    alphas = schedule.alphas(np.arange(kmax))
    steps, where = np.unique(ks, return_inverse=True)
    lam, z0 = p.lam, p.z0

    def block(rng, nruns):
        # A diverging run overflows quietly here; the engine reports it as NonFiniteError.
        with np.errstate(over="ignore", invalid="ignore"):
            return _block(rng, nruns)

    def _block(rng, nruns):
        U = np.broadcast_to(z0, (nruns, p.n)).copy()
        avg = U.copy() if average else None
        rec = np.empty((nruns, steps.size))
        pos = 0
        for j in range(kmax + 1):
            if pos < steps.size and steps[pos] == j:
                x = U if average is None else (avg / (j + 1.0) if average == "polyak" else avg)
                rec[:, pos] = 0.5 * (x * x) @ lam
                pos += 1
            if j == kmax:
                break
            U -= alphas[j] * bound.gradient(rng, U)
            if average == "polyak":
                avg += U
            elif average == "ema":
                beta = min(1.0 - 1.0 / (j + 1), beta_max)
                avg *= beta
                avg += (1.0 - beta) * U
        return rec[:, where]

    try:
        mc = run_blocks(block, runs, seed, chunk_size=chunk_size, workers=workers, client=client, progress=progress,
                        desc=f"simulate {model.name}")
    except NonFiniteError as exc:
        # |1 - alpha_j lam_i| > 1 makes the iterates grow geometrically: say so, with the offending product
        growth = max(abs(1.0 - a * l) for a in (alphas.min(), alphas.max()) for l in (lam[0], lam[-1])) if kmax else 0.0
        if growth > 1.0:
            raise NonFiniteError(f"{exc}: the iteration diverges, |1 - alpha_k lambda_i(B^-1 H)| reaches {growth:.4g} "
                                 "> 1 (a step size above 2 / lambda_1(B^-1 H))") from None
        raise
    return SimulationResult(ks, mc, average, model.name)
