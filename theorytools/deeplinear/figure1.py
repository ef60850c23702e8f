"""The experiments of Figure 1 (003_34787a2226c5cf0a.txt §5): online NGD (Eq. 20, adaptive damping) against SGD
with a grid-searched learning rate, on the three linear architectures (A-C) and a tanh autoencoder (D).

``size="full"`` is the paper's setting: 10^4 training and 10^3 test samples, the widths of §5, SGD with M = 20,
NGD with alpha = 1, M = 1000, K = 1, Sigma-tilde = 1e-6 I, inputs N(0, Sigma) with random eigenvectors and
eigenvalues e^{-5 i / n_0}, the targets produced by a random teacher network of the same architecture.  Panel D
uses scikit-learn's digits (8 x 8 images, 1797 samples) in place of MNIST: layers 64, 32, 16, 8, 16, 32, 64 (the
paper's 784-400-200-100-50-... halved at each layer), tanh except the linear output.  The number of passes follows the
figure's axes (8 passes for A, B; 20 for C).  ``size="quick"`` keeps the architectures but uses 4000 / 500 samples,
NGD minibatches of 500, 8, 6, 12 and 5 passes for A, B, C and D (NGD brought the test error of A, B, C to 3 x the
noise floor within 25500, 18000 and 39000 examples on seeds 0-9, of 32000, 24000 and 48000) and a two-rate SGD grid
(0.005, 0.02; digits 0.02, 0.08: the full grids' range in steps of 4), for tests and CI.

Examples
--------
>>> import numpy as np
>>> from theorytools.deeplinear import figure1
>>> data, start = figure1.linear_data((3, 2, 3), 5, 2, seed=0)   # 5 training and 2 test samples of a 3-2-3 teacher
>>> [np.shape(d) for d in data]
[(5, 3), (5, 3), (2, 3), (2, 3)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorytools.deeplinear.instances import _as_widths, figure1_widths, input_covariance, random_layers
from theorytools.deeplinear.online import MLP, grid_search_sgd, train_ngd
from theorytools.linalg import as_bool, as_choice, as_int, check_allocation, positive

SIZES = {
    "quick": {"train": 4000, "test": 500, "passes": {"A": 8, "B": 6, "C": 12, "D": 5}, "ngd_M": 500,
              "lrs": (0.005, 0.02), "digits_lrs": (0.02, 0.08)},
    "full": {"train": 10_000, "test": 1000, "passes": {"A": 8, "B": 8, "C": 20, "D": 20}, "ngd_M": 1000,
             "lrs": (0.0025, 0.005, 0.01, 0.02, 0.04, 0.08), "digits_lrs": (0.01, 0.02, 0.04, 0.08, 0.16)},
}
NOISE_VAR = 1e-6
#: Digits has 1500 training images (MNIST 60000): NGD minibatches of 100 keep 15 steps per pass; SGD's grid for
#: a [0, 1]-scaled autoencoder (the full size's).
DIGITS_NGD_M = 100
DIGITS_LRS = SIZES["full"]["digits_lrs"]


@dataclass
class Figure1Result:
    """One panel of Figure 1: NGD's and the best SGD's histories, and the SGD grid.

    003_34787a2226c5cf0a.txt §5, Figure 1; returned by :func:`run`.

    Parameters
    ----------
    panel : str
        "A", "B", "C" or "D".
    widths : tuple of int
        The architecture.
    min_achievable : float
        The test error of the teacher itself (noise only); for D, reported as nan.
    ngd : History
        NGD's history.
    sgd : History or None
        History of the best learning rate; None if SGD diverged at every rate tried (the grid extended).
    sgd_lr : float
        The best rate; nan when sgd is None.
    sgd_grid : dict
        Learning rate -> final test error (inf: diverged), including the rates added below the grid.

    Examples
    --------
    >>> import dataclasses
    >>> from theorytools.deeplinear import figure1
    >>> [f.name for f in dataclasses.fields(figure1.Figure1Result)]
    ['panel', 'widths', 'min_achievable', 'ngd', 'sgd', 'sgd_lr', 'sgd_grid']
    """
    panel: str
    widths: tuple
    min_achievable: float  # the test error of the teacher itself (noise only); for D, reported as nan
    ngd: object  # History
    sgd: object  # History of the best learning rate; None if SGD diverged at every rate tried (the grid extended)
    sgd_lr: float  # nan when sgd is None
    sgd_grid: dict  # lr -> final test error (inf: diverged), including the rates added below the grid


def linear_data(widths, n_train: int, n_test: int, seed: int):
    """Figure 1's linear data: inputs ``N(0, Sigma)``, targets ``W_T x + N(0, 1e-6 I)``, and a student's start.

    003_34787a2226c5cf0a.txt §5: ``W_T`` a random net of the same widths; returns ``(X, Y, X_test, Y_test)`` and the
    student's start (another random net).

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, ..., n_L)``.
    n_train : int
        Training samples.
    n_test : int
        Test samples.
    seed : int
        The seed.

    Returns
    -------
    data : tuple of ndarray
        ``(X, Y, X_test, Y_test)``, rows are samples.
    start : list of ndarray
        The student's layers.

    Examples
    --------
    >>> from theorytools.deeplinear import figure1
    >>> data, start = figure1.linear_data((3, 2, 3), 5, 2, seed=0)
    >>> [a.shape for a in data], [W.shape for W in start]
    ([(5, 3), (5, 3), (2, 3), (2, 3)], [(2, 3), (3, 2)])
    """
    widths = _as_widths("widths", widths)
    n_train, n_test = as_int("n_train", n_train, low=1), as_int("n_test", n_test, low=1)
    seed = as_int("seed", seed)
    check_allocation(f"the inputs and targets of n_train + n_test = {n_train} + {n_test} samples",
                     (n_train + n_test, widths[0] + widths[-1]), copies=2, cheaper="fewer samples")
    rng = np.random.default_rng([seed, *widths])
    Sx = input_covariance(widths[0], rng)
    WT = np.linalg.multi_dot(random_layers(widths, rng)[::-1] + [np.eye(widths[0])])
    Lx = np.linalg.cholesky(Sx)
    X = rng.standard_normal((n_train + n_test, widths[0])) @ Lx.T
    Y = X @ WT.T + np.sqrt(NOISE_VAR) * rng.standard_normal((X.shape[0], widths[-1]))
    return (X[:n_train], Y[:n_train], X[n_train:], Y[n_train:]), random_layers(widths, rng)


def digits_data(n_test: int, seed: int):
    """Scikit-learn's digits scaled to [0, 1] as an autoencoding task (Figure 1D's stand-in for MNIST).

    003_34787a2226c5cf0a.txt §5, Figure 1D.  The first ``n_test`` images of a seeded shuffle are the test set.

    Parameters
    ----------
    n_test : int
        Test images.
    seed : int
        Seed of the shuffle.

    Returns
    -------
    tuple of ndarray
        ``(X, X, X_test, X_test)``: the targets are the inputs.

    Examples
    --------
    >>> from theorytools.deeplinear import figure1
    >>> X, Y, Xt, Yt = figure1.digits_data(297, seed=0)         # 1797 images of 8 x 8
    >>> X.shape, Xt.shape, float(X.max()), bool((X == Y).all())
    ((1500, 64), (297, 64), 1.0, True)
    """
    n_test, seed = as_int("n_test", n_test, low=1), as_int("seed", seed)
    from sklearn.datasets import load_digits  # imported here: scikit-learn takes a second to import
    X = load_digits().data / 16.0
    if n_test >= X.shape[0]:
        raise ValueError(f"n_test must leave training images: digits has {X.shape[0]}, got n_test = {n_test}")
    X = X[np.random.default_rng(seed).permutation(X.shape[0])]
    return X[n_test:], X[n_test:], X[:n_test], X[:n_test]


def run(panel: str, size: str = "quick", seed: int = 0, progress: bool = True,
        sgd_until: float | None = None) -> Figure1Result:
    """One panel of Figure 1: NGD and the best SGD from the same start; test error against examples and seconds.

    003_34787a2226c5cf0a.txt §5, Figure 1 (the settings are in the module docstring and :data:`SIZES`).

    ``sgd_until = c`` (panels A-C) trains SGD, at every rate of the grid, only for the examples NGD needed to bring its
    test error to ``c`` x the minimum achievable (the whole budget where NGD never gets there), and picks the best rate
    at that budget: enough to tell which of the two gets there first, at a fraction of SGD's cost.

    Parameters
    ----------
    panel : {"A", "B", "C", "D"}
        The panel.
    size : {"quick", "full"}
        The data and training sizes.
    seed : int, default 0
        The seed.
    progress : bool, default True
        Show progress bars.
    sgd_until : float, optional
        Train SGD only until NGD reached ``sgd_until`` x the minimum achievable (panels A-C).

    Returns
    -------
    Figure1Result
        The panel's histories.

    Examples
    --------
    A panel takes seconds even at the quick size, so the call is not run here; the settings it uses are:

    >>> from theorytools.deeplinear import figure1
    >>> figure1.SIZES["quick"]["train"], figure1.SIZES["quick"]["passes"]["A"], figure1.NOISE_VAR
    (4000, 8, 1e-06)
    >>> res = figure1.run("A", size="quick", progress=False)               # doctest: +SKIP
    >>> bool(res.ngd.test_error[-1] < 3 * res.min_achievable)              # doctest: +SKIP
    True
    """
    panel = as_choice("panel", panel, ("A", "B", "C", "D"))
    size = as_choice("size", size, tuple(SIZES))
    seed, progress = as_int("seed", seed), as_bool("progress", progress)
    if sgd_until is not None:
        sgd_until = positive("sgd_until", sgd_until)
    sz = SIZES[size]
    if panel in ("A", "B", "C"):
        widths = figure1_widths(panel)
        data, start = linear_data(widths, sz["train"], sz["test"], seed)
        activation, s2, min_err = "linear", NOISE_VAR, NOISE_VAR
    else:
        widths = (64, 32, 16, 8, 16, 32, 64)
        data = digits_data(297, seed)
        start = random_layers(widths, np.random.default_rng([seed, 64]))
        activation, s2, min_err = "tanh", 1.0, float("nan")
    n = data[0].shape[0]
    make = lambda: MLP([W.copy() for W in start], activation)  # noqa: E731
    passes = sz["passes"][panel]
    M = DIGITS_NGD_M if panel == "D" else sz["ngd_M"]
    ngd = train_ngd(make(), data, s2, alpha=1.0, M=M, K=1, examples=passes * n, eval_every=M, seed=seed, progress=progress)
    sgd_examples = passes * n
    if sgd_until is not None and panel != "D":
        reached = np.flatnonzero(np.asarray(ngd.test_error) <= sgd_until * min_err)
        if reached.size:
            sgd_examples = max(int(ngd.examples[reached[0]]), 20)
    lr, hists = grid_search_sgd(make, data, sz["digits_lrs" if panel == "D" else "lrs"], M=20, examples=sgd_examples,
                                seed=seed, progress=progress)
    grid = {k: (h.test_error[-1] if h is not None else float("inf")) for k, h in hists.items()}
    return Figure1Result(panel, widths, min_err, ngd, None if lr is None else hists[lr], float("nan") if lr is None else lr,
                         grid)
