"""Seeded deep linear nets of every architecture the paper discusses (003_34787a2226c5cf0a.txt §3-5) and the
Figure 1 architectures.

Examples
--------
>>> from theorytools.deeplinear import instances
>>> instances.figure1_widths("C")                    # Figure 1C's 12-layer bottleneck autoencoder
(200, 80, 34, 20, 10, 5, 2, 5, 10, 20, 34, 80, 200)
"""

from __future__ import annotations

import numpy as np

from theorytools.deeplinear.dynamics import eq18_crossing_time
from theorytools.deeplinear.network import DeepLinearNet
from theorytools.linalg import as_array, as_choice, as_instance, as_int, check_allocation, positive

#: Small nets of each kind (widths n_0, ..., n_L).  Claim (b) holds where every hidden width is >= max(n_0, n_L).
ARCHITECTURES = {
    "square": (3, 3, 3, 3),
    "wider hidden": (3, 5, 6, 3),
    "expanding": (2, 3, 4, 5),
    "contracting": (5, 4, 3, 2),
    "bottleneck": (4, 3, 2, 3, 4),
}


def _as_widths(name: str, widths, allocate: bool = True) -> tuple:
    """``widths`` = ``(n_0, ..., n_L)``: at least two positive integers (a tuple of ints); with ``allocate``, the layers
    (``sum n_i n_{i-1}`` numbers) and the ``n x n`` covariances they ask for are checked against the memory limit."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of layer widths (n_0, ..., n_L), got {type(widths).__name__}")
    if np.ndim(widths) != 1 or len(widths) < 2:
        raise ValueError(f"{name} must hold at least two widths (n_0, ..., n_L), got {widths!r}")
    out = tuple(as_int(f"{name}[{i}]", n, low=1) for i, n in enumerate(widths))
    if allocate:
        check_allocation(f"the layers and covariances of {name} = {out}",
                         (sum(a * b for a, b in zip(out, out[1:])) + out[0] ** 2 + out[-1] ** 2,), copies=4,
                         cheaper="smaller widths")
    return out


def figure1_widths(panel: str) -> tuple:
    """Figure 1's architectures (003_34787a2226c5cf0a.txt §5).

    A) 16 layers of width 20; B) 20, 30, ..., 100, ..., 30, 20 (16 layers);
    C) the bottleneck 200, 80, 34, 20, 10, 5, 2, 5, ..., 80, 200 (12 layers).

    Parameters
    ----------
    panel : {"A", "B", "C"}
        The panel of Figure 1.

    Returns
    -------
    tuple of int
        The widths ``(n_0, ..., n_L)``.

    Examples
    --------
    >>> from theorytools.deeplinear import instances
    >>> instances.figure1_widths("C")
    (200, 80, 34, 20, 10, 5, 2, 5, 10, 20, 34, 80, 200)
    >>> len(instances.figure1_widths("A")) - 1, max(instances.figure1_widths("B"))      # layers, widest layer
    (16, 100)
    """
    panel = as_choice("panel", panel, ("A", "B", "C"))
    if panel == "A":
        w = [20] * 17
    elif panel == "B":
        up = list(range(20, 101, 10))
        w = up + up[-2::-1][:16 - len(up) + 1]
    else:
        half = [200, 80, 34, 20, 10, 5]
        w = half + [2] + half[::-1]
    return tuple(w)


def spd(n: int, rng, eigenvalues=None) -> np.ndarray:
    """A symmetric positive-definite matrix with random orthogonal eigenvectors.

    The eigenvalues are the given ones, default uniform in [0.5, 2]; used for the covariances of the instances
    (003_34787a2226c5cf0a.txt §5: "random (orthogonal) eigenvectors").

    Parameters
    ----------
    n : int
        The size.
    rng : numpy.random.Generator
        The generator.
    eigenvalues : array_like, shape (n,), optional
        Positive eigenvalues.

    Returns
    -------
    ndarray, shape (n, n)
        The matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import instances
    >>> S = instances.spd(2, np.random.default_rng(0), eigenvalues=[1.0, 3.0])
    >>> np.round(np.linalg.eigvalsh(S), 6).tolist()
    [1.0, 3.0]
    """
    n = as_int("n", n, low=1)
    check_allocation("the n x n SPD matrix", (n, n), copies=4, cheaper="a smaller n")
    rng = as_instance("rng", rng, np.random.Generator)
    if eigenvalues is not None:
        eigenvalues = as_array("eigenvalues", eigenvalues, shape=(n,))
        if np.any(eigenvalues <= 0):
            i = int(np.argmax(eigenvalues <= 0))
            raise ValueError(f"eigenvalues must be positive (spd builds a positive-definite matrix), entry {i} is "
                             f"{eigenvalues[i]:g}")
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    Q *= np.sign(np.diag(R))
    lam = rng.uniform(0.5, 2.0, n) if eigenvalues is None else np.asarray(eigenvalues, dtype=float)
    return (Q * lam) @ Q.T


def input_covariance(n0: int, rng) -> np.ndarray:
    """Figure 1's input covariance: random orthogonal eigenvectors, eigenvalues ``e^{-5 i / n_0}``, ``i = 0..n_0-1``.

    003_34787a2226c5cf0a.txt §5, line 625, does not say where i starts: a reading, listed in the report's Readings;
    ``i = 1..n_0`` would scale Sigma by ``e^{-5/n_0}``, to which NGD is invariant.

    Parameters
    ----------
    n0 : int
        The input width.
    rng : numpy.random.Generator
        The generator.

    Returns
    -------
    ndarray, shape (n0, n0)
        The covariance.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import instances
    >>> S = instances.input_covariance(3, np.random.default_rng(0))
    >>> np.round(np.linalg.eigvalsh(S)[::-1], 6).tolist()              # 1, e^-5/3, e^-10/3
    [1.0, 0.188876, 0.035674]
    """
    n0 = as_int("n0", n0, low=1)
    check_allocation("the n0 x n0 input covariance", (n0, n0), copies=4, cheaper="a smaller n0")
    return spd(n0, rng, np.exp(-5.0 * np.arange(n0) / n0))


def random_layers(widths, rng, gain: float = 1.0) -> list:
    """``W_i`` with i.i.d. ``N(0, gain^2 / n_{i-1})`` entries (fan-in scaling).

    003_34787a2226c5cf0a.txt §5, line 621, says only "random parameters": a reading, listed in the report's Readings.

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, ..., n_L)``.
    rng : numpy.random.Generator
        The generator.
    gain : float, default 1.0
        Scale of the entries, > 0.

    Returns
    -------
    list of ndarray
        ``[W_1, ..., W_L]``, ``W_i`` of shape ``(n_i, n_{i-1})``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import instances
    >>> [W.shape for W in instances.random_layers([3, 2, 1], np.random.default_rng(0))]
    [(2, 3), (1, 2)]
    """
    widths = _as_widths("widths", widths)
    rng = as_instance("rng", rng, np.random.Generator)
    gain = positive("gain", gain)
    return [gain * rng.standard_normal((widths[i + 1], widths[i])) / np.sqrt(widths[i]) for i in range(len(widths) - 1)]


def random_net(widths, seed: int = 0, teacher: str = "full") -> DeepLinearNet:
    """A net of the given widths with random layers, random SPD covariances and a teacher map.

    Random SPD ``Sigma_x`` and ``Sigma_out``, and ``<y x^T> = W_T Sigma_x`` for a teacher map ``W_T``: ``"full"`` (a
    full-rank ``n_L x n_0`` matrix: in a bottleneck net W* is then out of reach) or ``"net"`` (a random net of the same
    widths: W* reachable).  ``<y y^T> = W_T Sigma_x W_T^T + Sigma_out`` (the model's own noise).  The architectures
    of 003_34787a2226c5cf0a.txt §3-5.

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, ..., n_L)``.
    seed : int, default 0
        The seed.
    teacher : {"full", "net"}
        The teacher map.

    Returns
    -------
    DeepLinearNet
        The net.

    Examples
    --------
    >>> from theorytools.deeplinear import instances, tangent_dimension
    >>> net = instances.random_net([2, 2, 2], seed=0)
    >>> net.widths, net.P, tangent_dimension(net)                   # the Fisher has rank n_L n_0 = 4 of P = 8
    ((2, 2, 2), 8, 4)
    """
    widths = _as_widths("widths", widths)
    seed = as_int("seed", seed)
    teacher = as_choice("teacher", teacher, ("full", "net"))
    rng = np.random.default_rng([seed, *widths])
    n0, nL = widths[0], widths[-1]
    Sx, So = spd(n0, rng), spd(nL, rng)
    if teacher == "full":
        WT = rng.standard_normal((nL, n0)) / np.sqrt(n0)
    else:
        WT = np.linalg.multi_dot(random_layers(widths, rng)[::-1] + [np.eye(n0)])
    layers = random_layers(widths, rng)
    if n0 == nL == min(widths) and teacher == "full":
        # A square total map cannot change the sign of its determinant without passing through the singular set,
        # and for most random draws Eq. 18's straight path to W* is singular somewhere (77% at n = 3, see
        # eq18_crossing_time): instances meant to follow the flow redraw the teacher until the path stays regular.
        for _ in range(1000):
            if eq18_crossing_time(DeepLinearNet(layers, Sx, So, WT @ Sx)) is None:
                break
            WT = rng.standard_normal((nL, n0)) / np.sqrt(n0)
        else:
            raise RuntimeError(f"no regular teacher found for widths {widths}")
    Cyx = WT @ Sx
    return DeepLinearNet(layers, Sx, So, Cyx, Cyx @ np.linalg.solve(Sx, Cyx.T) + So)


def architecture_nets(seed: int = 0) -> dict:
    """One random net per entry of :data:`ARCHITECTURES`.

    The architectures 003_34787a2226c5cf0a.txt §3-4 discusses: square, wider hidden, expanding, contracting, bottleneck.

    Parameters
    ----------
    seed : int, default 0
        The seed.

    Returns
    -------
    dict
        Architecture name -> :class:`~theorytools.deeplinear.DeepLinearNet`.

    Examples
    --------
    >>> from theorytools.deeplinear import instances
    >>> nets = instances.architecture_nets(seed=0)
    >>> nets["bottleneck"].widths, nets["bottleneck"].rank_bound
    ((4, 3, 2, 3, 4), 2)
    """
    seed = as_int("seed", seed)
    return {name: random_net(w, seed) for name, w in ARCHITECTURES.items()}


def claim_b_expected(widths) -> bool:
    """The derived condition for Eq. 10 to solve ``F d = -grad`` at generic weights.

    003_34787a2226c5cf0a.txt §3, Eq. 10: every ``A_i`` has full row rank and every ``B_i`` full column rank, i.e.
    every hidden width ``>= max(n_0, n_L)``.

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, ..., n_L)``.

    Returns
    -------
    bool
        Whether Eq. 10 is a natural gradient for these widths.

    Examples
    --------
    >>> from theorytools.deeplinear import instances
    >>> instances.claim_b_expected((3, 5, 6, 3)), instances.claim_b_expected((2, 3, 4, 5))     # expanding: no
    (True, False)
    """
    widths = _as_widths("widths", widths, allocate=False)
    return min(widths[1:-1], default=np.inf) >= max(widths[0], widths[-1])
