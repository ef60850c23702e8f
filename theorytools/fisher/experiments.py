"""The experiments of 002_add1c097d251ec63.txt §4 on datasets that ship with scikit-learn.

Convergence of NGD against SGD with a grid-searched learning rate (§4.1, Figures 2-3), batch-size sensitivity
(Figure 4), the training loss at convergence (Table 1), and the time and memory scaling of Figure 5.

The paper's Weather, House Price and Ecoli sets are not shipped with scikit-learn; diabetes (regression), wine (3
classes) and breast cancer (2 classes) stand in for them.  Inputs (and the diabetes target) are standardized.
``size="quick"`` is a reduced run for the test suite (batch 64, 60 steps, one architecture, the training loss recorded
every 5 steps and at the last); ``size="full"`` follows the paper's settings (batch 128, hidden layers (4,), (32, 16),
(32, 16, 16), width-20 layers in Figure 5, the loss after every step).

Examples
--------
The stand-in datasets with their losses, and the two profiles' batch sizes (the paper's is 128):

>>> from theorytools.fisher import experiments
>>> experiments.DATASETS
{'diabetes': 'squared', 'wine': 'cross_entropy', 'breast_cancer': 'cross_entropy'}
>>> experiments.SIZES["quick"]["batch"], experiments.SIZES["full"]["batch"]
(64, 128)
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from theorytools.errors import SizeError
from theorytools.fisher import ngd
from theorytools.fisher.mlp import MLP
from theorytools.linalg import as_bool, as_choice, as_int, check_allocation

DATASETS = {"diabetes": "squared", "wine": "cross_entropy", "breast_cancer": "cross_entropy"}
SIZES = {
    "quick": {"hidden": ((4,),), "steps": 60, "record_every": 5, "batch": 64, "sgd_grid": (0.03, 0.1, 0.3, 1.0, 3.0, 10.0), "ngd_grid": (0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
              "batches": (16, 128), "depths": (1, 2, 3), "exact_max_P": 1000, "repeats": 3},
    "full": {"hidden": ((4,), (32, 16), (32, 16, 16)), "steps": 400, "record_every": 1, "batch": 128,
             "sgd_grid": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0), "ngd_grid": (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
             "batches": (8, 16, 32, 64, 128), "depths": (1, 2, 3, 4, 6, 8, 12, 16), "exact_max_P": 3000, "repeats": 5},
}
BETA, DECAY = 1e-2, 1e-2  # the damping of eq. 36 and the learning-rate decay of §4.3


def _size(size):
    return SIZES[as_choice("size", size, tuple(SIZES))]


def _hidden(hidden) -> tuple:
    """Hidden widths: a tuple (possibly empty) of positive integers."""
    if not isinstance(hidden, (tuple, list)):
        raise TypeError(f"hidden must be a tuple of hidden-layer widths such as (32, 16), got {hidden!r:.60}")
    return tuple(as_int(f"hidden[{i}]", h, low=1) for i, h in enumerate(hidden))


@lru_cache(maxsize=len(DATASETS))
def _raw(name: str) -> tuple:
    """The dataset as scikit-learn ships it, read once per process (read-only arrays)."""
    from sklearn import datasets  # imported here: scikit-learn takes a second to import
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X.flags.writeable = y.flags.writeable = False
    return X, y


def load(name: str) -> tuple:
    """``(X, Y, loss)`` of a scikit-learn dataset with standardized inputs (and standardized target for regression).

    The stand-ins for the datasets of 002_add1c097d251ec63.txt §4 (see the module docstring).

    Parameters
    ----------
    name : str
        ``"diabetes"``, ``"wine"`` or ``"breast_cancer"``.

    Returns
    -------
    X : numpy.ndarray
        The standardized inputs, one row per example.
    Y : numpy.ndarray
        The standardized target (``n x 1``, regression) or the class labels.
    loss : str
        ``"squared"`` or ``"cross_entropy"``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import experiments
    >>> X, Y, loss = experiments.load("wine")  # imports scikit-learn (about a second)
    >>> X.shape, loss, sorted(set(Y.tolist())), bool(np.allclose(X.std(axis=0), 1.0))
    ((178, 13), 'cross_entropy', [0, 1, 2], True)
    """
    name = as_choice("name", name, tuple(DATASETS))
    X, y = _raw(name)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = ((y - y.mean()) / y.std())[:, None] if DATASETS[name] == "squared" else y.copy()
    return X, y, DATASETS[name]


@dataclass(frozen=True)
class Run:
    """One method's best run over its learning-rate grid (002_add1c097d251ec63.txt §4.1).

    Parameters
    ----------
    method : str
        The method of :func:`theorytools.fisher.ngd.train`.
    fisher : str
        ``"empirical"`` or ``"exact"``.
    alpha : float
        The best learning rate of the grid.
    history : dict
        The best run's :meth:`~theorytools.fisher.ngd.History.as_arrays`.
    grid : dict
        ``{alpha: final training loss}`` over the grid.

    Examples
    --------
    >>> from theorytools.fisher import experiments
    >>> run = experiments.Run("sgd", "empirical", 0.1, {"loss": [1.0, 0.5]}, {0.1: 0.5, 1.0: float("inf")})
    >>> run.alpha, min(run.grid, key=run.grid.get)
    (0.1, 0.1)
    """

    method: str
    fisher: str
    alpha: float
    history: dict
    grid: dict


def _runs(net, Ws, X, Y, cfg, batch_size, seed, methods, progress=False):
    out = {}
    if progress:
        from tqdm.auto import tqdm
        methods = tqdm(methods, desc=f"P = {net.P}, batch {batch_size}", leave=False)
    for label, method, fisher in methods:
        grid = cfg["sgd_grid"] if method == "sgd" else cfg["ngd_grid"]
        alpha, (_, hist), finals = ngd.grid_search(net, Ws, X, Y, method, grid, beta=BETA, fisher=fisher, decay=DECAY,
                                                   batch_size=min(batch_size, len(X)), steps=cfg["steps"],
                                                   record_every=cfg["record_every"], seed=seed)
        out[label] = Run(method, fisher, alpha, hist.as_arrays(), finals)
    return out


def _methods(P, cfg):
    ms = [("SGD", "sgd", "empirical"), ("TENGraD (empirical F)", "tengrad", "empirical"),
          ("TENGraD (exact F)", "tengrad", "exact")]
    if P <= cfg["exact_max_P"]:  # the full-Fisher direction, by Woodbury in c x c (the same direction as eq. 36's P x P)
        ms.append(("exact NGD (empirical F)", "exact_woodbury", "empirical"))
    return ms


def _setup(dataset, hidden, seed):
    """The dataset, an MLP with the given hidden widths for it, and its seeded initial weights."""
    X, Y, loss = load(dataset)
    try:
        net = MLP((X.shape[1], *hidden, Y.shape[1] if loss == "squared" else int(Y.max()) + 1), loss)
    except SizeError as exc:
        raise SizeError(f"hidden = {hidden}: {exc}") from None
    return net, net.init(np.random.default_rng([seed, 5])), X, Y


def convergence(dataset: str, hidden: tuple, size: str = "quick", batch_size: int | None = None, seed: int = 0,
                progress: bool = False) -> dict:
    """Figures 2-3: each method's best run (learning rate grid-searched on the final training loss) from one start.

    ``batch_size`` defaults to the profile's (128 full, as in the paper; 64 quick).

    Parameters
    ----------
    dataset : str
        ``"diabetes"``, ``"wine"`` or ``"breast_cancer"``.
    hidden : tuple of int
        The hidden-layer widths, e.g. ``(32, 16)``; ``()`` for none.
    size : str, default "quick"
        The profile: ``"quick"`` or ``"full"``.
    batch_size : int, optional
        The batch size (default: the profile's).
    seed : int, default 0
        The seed of the initial weights and the batches.
    progress : bool, default False
        Show progress bars.

    Returns
    -------
    dict
        ``{"net": MLP, "runs": {label: Run}}``, one :class:`Run` per method.

    Examples
    --------
    The methods compared (the full-Fisher one while P <= the profile's ``exact_max_P``); the run takes about 10 s:

    >>> from theorytools.fisher import experiments
    >>> experiments.SIZES["quick"]["exact_max_P"]
    1000
    >>> out = experiments.convergence("wine", (), "quick")  # doctest: +SKIP
    >>> sorted(out["runs"])  # doctest: +SKIP
    ['SGD', 'TENGraD (empirical F)', 'TENGraD (exact F)', 'exact NGD (empirical F)']
    """
    cfg, dataset, hidden = _size(size), as_choice("dataset", dataset, tuple(DATASETS)), _hidden(hidden)
    batch_size = cfg["batch"] if batch_size is None else as_int("batch_size", batch_size, low=1)
    seed, progress = as_int("seed", seed), as_bool("progress", progress)
    net, Ws, X, Y = _setup(dataset, hidden, seed)
    return {"net": net, "runs": _runs(net, Ws, X, Y, cfg, batch_size, seed, _methods(net.P, cfg), progress)}


def batch_sensitivity(dataset: str = "diabetes", hidden: tuple = (32, 16), size: str = "quick", seed: int = 0,
                      progress: bool = False) -> dict:
    """Figure 4: SGD and TENGraD (empirical F), each grid-searched, at every batch size of the profile.

    002_add1c097d251ec63.txt §4, Figure 4.

    Parameters
    ----------
    dataset : str, default "diabetes"
        ``"diabetes"``, ``"wine"`` or ``"breast_cancer"``.
    hidden : tuple of int, default (32, 16)
        The hidden-layer widths.
    size : str, default "quick"
        The profile: ``"quick"`` or ``"full"``.
    seed : int, default 0
        The seed of the initial weights and the batches.
    progress : bool, default False
        Show progress bars.

    Returns
    -------
    dict
        ``{batch_size: {"SGD": Run, "TENGraD": Run}}``.

    Examples
    --------
    The batch sizes of the two profiles; a quick run takes a few seconds:

    >>> from theorytools.fisher import experiments
    >>> experiments.SIZES["quick"]["batches"], experiments.SIZES["full"]["batches"]
    ((16, 128), (8, 16, 32, 64, 128))
    >>> sorted(experiments.batch_sensitivity("wine", (), "quick"))  # doctest: +SKIP
    [16, 128]
    """
    cfg, dataset, hidden = _size(size), as_choice("dataset", dataset, tuple(DATASETS)), _hidden(hidden)
    seed, progress = as_int("seed", seed), as_bool("progress", progress)
    net, Ws, X, Y = _setup(dataset, hidden, seed)
    methods = [("SGD", "sgd", "empirical"), ("TENGraD", "tengrad", "empirical")]
    return {m: _runs(net, Ws, X, Y, cfg, m, seed, methods, progress) for m in cfg["batches"]}


def table1(size: str = "quick", seed: int = 0, progress: bool = False) -> list:
    """Table 1: ``(dataset, hidden, method, log10 final training loss, alpha)`` for every dataset and architecture.

    002_add1c097d251ec63.txt §4, Table 1: one :func:`convergence` per dataset and architecture of the profile.

    Parameters
    ----------
    size : str, default "quick"
        The profile: ``"quick"`` or ``"full"``.
    seed : int, default 0
        The seed of the initial weights and the batches.
    progress : bool, default False
        Show progress bars.

    Returns
    -------
    list of tuple
        One row per (dataset, architecture, method).

    Examples
    --------
    The quick profile has one architecture, so 3 datasets x 4 methods = 12 rows (about half a minute):

    >>> from theorytools.fisher import experiments
    >>> len(experiments.SIZES["quick"]["hidden"]) * len(experiments.DATASETS)
    3
    >>> len(experiments.table1("quick"))  # doctest: +SKIP
    12
    """
    cfg, seed, progress = _size(size), as_int("seed", seed), as_bool("progress", progress)
    jobs = [(d, h) for h in cfg["hidden"] for d in DATASETS]
    if progress:
        from tqdm.auto import tqdm
        jobs = tqdm(jobs, desc="Table 1")
    rows = []
    for d, h in jobs:
        for label, run in convergence(d, h, size, seed=seed, progress=progress)["runs"].items():
            rows.append((d, h, label, float(np.log10(run.history["loss"][-1])), run.alpha))
    return rows


def _cost(f):
    """``(seconds, peak bytes allocated)`` of one call of f (numpy's allocations are traced by tracemalloc)."""
    tracemalloc.start()
    t0 = time.perf_counter()
    f()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak


SCALING_METHODS = ("exact", "block_explicit", "tengrad", "sgd")


def scaling(size: str = "quick", width: int = 20, batch_size: int = 128, seed: int = 0) -> dict:
    """Figure 5: seconds and peak memory of one update direction, as the parameter count grows.

    One update direction (eq. 36 explicit, eq. 39 explicit, TENGraD, SGD) on a squared-loss net with ``depth`` hidden
    layers of ``width`` units, as the parameter count grows.  The exact method
    stops at the profile's ``exact_max_P`` (its P x P matrix).  Timings are medians of the profile's repeats.

    002_add1c097d251ec63.txt §4.4, Figure 5.

    Parameters
    ----------
    size : str, default "quick"
        The profile: ``"quick"`` (depths 1-3) or ``"full"`` (depths 1-16).
    width : int, default 20
        The width of every hidden layer (and of the input).
    batch_size : int, default 128
        The batch size.
    seed : int, default 0
        The seed of the data and the weights.

    Returns
    -------
    dict
        ``{method: {"P": ..., "seconds": ..., "bytes": ...}}``, arrays over the depths.

    Examples
    --------
    Width 2: depth d has ``3 * 2 d + 3`` parameters (P = 9, 15, 21):

    >>> from theorytools.fisher import experiments
    >>> out = experiments.scaling("quick", width=2, batch_size=4)
    >>> out["tengrad"]["P"].tolist(), bool((out["sgd"]["seconds"] > 0).all())
    ([9, 15, 21], True)
    """
    cfg, seed = _size(size), as_int("seed", seed)
    width, batch_size = as_int("width", width, low=1), as_int("batch_size", batch_size, low=1)
    check_allocation(f"the inputs (batch_size x width = {batch_size} x {width})", (batch_size, width),
                     cheaper="a smaller batch_size or width")
    block = (width + 1) * width  # the largest layer's parameters: block_explicit forms its square
    check_allocation(f"block_explicit's {block} x {block} layer block (width = {width})", (block, block), copies=3,
                     cheaper="a smaller width")
    rng = np.random.default_rng([seed, 6])
    X, Y = rng.standard_normal((batch_size, width)), rng.standard_normal((batch_size, 1))
    out = {m: {"P": [], "seconds": [], "bytes": []} for m in SCALING_METHODS}
    for depth in cfg["depths"]:
        net = MLP((width,) * (depth + 1) + (1,))
        Ws = net.init(rng)
        for m in SCALING_METHODS:
            if m == "exact" and net.P > cfg["exact_max_P"]:
                continue
            ngd._guard(net, batch_size, m, BETA, "empirical")
            # the direction itself, as in the paper: the arguments are validated and sized once, not in every repeat
            costs = [_cost(lambda: ngd._direction(net, Ws, X, Y, m, BETA, "empirical")) for _ in range(cfg["repeats"])]
            out[m]["P"].append(net.P)
            out[m]["seconds"].append(float(np.median([c[0] for c in costs])))
            out[m]["bytes"].append(int(max(c[1] for c in costs)))
    return {m: {k: np.asarray(v) for k, v in d.items()} for m, d in out.items()}
