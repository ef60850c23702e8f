"""Fisher and generalized Gauss-Newton of a small network (001_7d31b3ff3a2f0401.txt §7-9, eqs 7-8 and §9.2).

Network: ``z = f(x, theta) = W2 tanh(W1 x) + c``, theta = (row-major W1, row-major W2), c a fixed output offset.  With the per-example Jacobian
J_f = dz/dtheta, the Fisher is ``F = mean_x J_f^T F_R(z) J_f`` (eq. 7) and the GGN is ``G = mean_(x,y) J_f^T H_L(y, z) J_f``
with H_L the Hessian of the loss L(y, z) = -log r(y|z) in z.  When R_{y|z} is an exponential family in its natural
parameters z, H_L = F_R does not depend on y and G = F on any data (§9.2): the Gaussian mean with unit variance
(H_L = F_R = I), the categorical with softmax in L (H_L = F_R = diag(p) - p p^T), and the 1-D Gaussian in its natural
parameters z = (mu/sigma^2, -1/(2 sigma^2)) (H_L = F_R = the Hessian of the log-partition, Cov(y, y^2); z_2 < 0 is
required, which the offset c = (0, -1) with small weights provides).  For the (mu, log sigma^2) Gaussian of §9.2, H_L
depends on y, E_{y ~ R}[H_L] = F_R, and G on data can be indefinite.

The empirical Fisher (§11) ``F-bar = mean_(x,y) J_f^T g g^T J_f`` with g = dL/dz at the data's labels is a third matrix;
its average over labels drawn from the model is F (E_y[g g^T] = F_R).

Every function validates its arguments (:mod:`theorytools.linalg.validation`): the labels must suit ``kind`` (class
labels 0..n_out-1 for the categorical output, n_out-vectors for the Gaussian mean, numbers for the two 1-D Gaussians,
whose nets need n_out = 2), the inputs the net's n_in; the P x P results are sized first
(:func:`theorytools.linalg.check_allocation`).

Examples
--------
For the categorical output (natural parameters z) the GGN equals the Fisher on any data (§9.2):

>>> import numpy as np
>>> from theorytools.fisher import ggn
>>> net = ggn.TanhNet(2, 2, 2)
>>> theta, X = np.linspace(-1.0, 1.0, net.P), [[1.0, 0.5]]
>>> bool(np.allclose(ggn.ggn(net, theta, X, [1], "categorical"), ggn.fisher(net, theta, X, "categorical")))
True
"""

from __future__ import annotations

import numpy as np

from theorytools.errors import HypothesisError
from theorytools.fisher.distributions import (
    _categorical_fisher,
    _complement,
    _finite,
    _mean_sd,
    _softmax,
    gaussian_fisher,
    gaussian_mu_logvar_hessian,
)
from theorytools.linalg import (as_array, as_choice, as_float, as_instance, as_int, as_labels, as_vector, check_allocation,
                                same_length)

OUTPUTS = ("gaussian_mean", "categorical", "gaussian_mu_logvar", "gaussian_natural")
#: outputs that model a 1-D Gaussian by two numbers z (the net needs n_out = 2; a label is one number)
_TWO = ("gaussian_mu_logvar", "gaussian_natural")


class TanhNet:
    """``z = W2 tanh(W1 x) + offset``: ``n_in -> n_hidden -> n_out``; ``offset`` (default 0) is not a parameter.

    The network f(x, theta) of 001_7d31b3ff3a2f0401.txt §7-9 (see the module docstring); theta = (row-major W1,
    row-major W2).

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        The layer widths.
    offset : array_like, optional
        A fixed output offset c (n_out numbers; default 0).

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import ggn
    >>> net = ggn.TanhNet(2, 3, 1)
    >>> net.P  # 3 x 2 + 1 x 3
    9
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int, offset=None):
        n_in, n_hidden, n_out = (as_int(k, v, low=1) for k, v in (("n_in", n_in), ("n_hidden", n_hidden),
                                                                    ("n_out", n_out)))
        check_allocation(f"the parameters of a net with n_in = {n_in}, n_hidden = {n_hidden}, n_out = {n_out}", (n_hidden * n_in + n_out * n_hidden,),
                         cheaper="use smaller sizes")
        self.shapes = ((n_hidden, n_in), (n_out, n_hidden))
        self.P = n_hidden * n_in + n_out * n_hidden
        self.offset = np.zeros(n_out) if offset is None else as_vector("offset", offset, n_out)

    def split(self, theta):
        """``(W1, W2)`` from theta (row-major, W1 first).

        Parameters
        ----------
        theta : array_like
            The P parameters.

        Returns
        -------
        tuple of numpy.ndarray
            W1 (``n_hidden x n_in``) and W2 (``n_out x n_hidden``).

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import ggn
        >>> net, theta = ggn.TanhNet(1, 1, 1), np.array([0.5, 2.0])  # z = 2 tanh(x / 2)
        >>> [W.tolist() for W in net.split(theta)]
        [[[0.5]], [[2.0]]]
        """
        theta = as_vector("theta", theta, self.P)
        (h, i), (o, _) = self.shapes
        return theta[:h * i].reshape(h, i), theta[h * i:].reshape(o, h)

    def _x(self, x) -> np.ndarray:
        return as_vector("x", x, self.shapes[0][1])

    def output(self, theta, x) -> np.ndarray:
        """``z = W2 tanh(W1 x) + offset`` for one input x.

        Parameters
        ----------
        theta : array_like
            The P parameters.
        x : array_like
            One input (n_in numbers).

        Returns
        -------
        numpy.ndarray
            The n_out outputs.

        Examples
        --------
        >>> import numpy as np
        >>> from theorytools.fisher import ggn
        >>> net, theta = ggn.TanhNet(1, 1, 1), np.array([0.5, 2.0])  # z = 2 tanh(x / 2)
        >>> bool(np.isclose(net.output(theta, [1.0])[0], 2 * np.tanh(0.5)))
        True
        """
        W1, W2 = self.split(theta)
        return W2 @ np.tanh(W1 @ self._x(x)) + self.offset

    def jacobian(self, theta, x) -> np.ndarray:
        """``dz/dtheta`` (n_out x P): dz/dW2[o, j] = a_j e_o; dz/dW1[j, i] = W2[:, j] (1 - a_j^2) x_i.

        The Jacobian J_f of 001_7d31b3ff3a2f0401.txt §7-9.

        Parameters
        ----------
        theta : array_like
            The P parameters.
        x : array_like
            One input (n_in numbers).

        Returns
        -------
        numpy.ndarray
            J_f, ``n_out x P``.

        Examples
        --------
        With a = tanh(1/2): ``dz/dW1 = 2 (1 - a^2)`` and ``dz/dW2 = a``:

        >>> import numpy as np
        >>> from theorytools.fisher import ggn
        >>> net, theta = ggn.TanhNet(1, 1, 1), np.array([0.5, 2.0])  # z = 2 tanh(x / 2)
        >>> a = np.tanh(0.5)
        >>> bool(np.allclose(net.jacobian(theta, [1.0]), [[2 * (1 - a * a), a]]))
        True
        """
        W1, W2 = self.split(theta)
        x = self._x(x)
        a = np.tanh(W1 @ x)
        n_out = W2.shape[0]
        dW1 = (W2 * (1.0 - a * a))[:, :, None] * x[None, None, :]  # (n_out, n_hidden, n_in)
        dW2 = np.eye(n_out)[:, :, None] * a[None, None, :]  # (n_out, n_out, n_hidden)
        return np.hstack([dW1.reshape(n_out, -1), dW2.reshape(n_out, -1)])


def _kind(kind: str, n_out: int | None = None) -> str:
    kind = as_choice("kind", kind, OUTPUTS)
    if kind in _TWO and n_out is not None and n_out != 2:
        raise ValueError(f"kind = {kind!r} models one number by z = (z_1, z_2): the net must have n_out = 2, got {n_out}")
    return kind


def _z(kind: str, z) -> np.ndarray:
    z = as_array("z", z, ndim=1)
    if kind in _TWO and z.shape != (2,):
        raise ValueError(f"z must have 2 entries for kind = {kind!r}, got shape {z.shape}")
    return z


def _label(kind: str, y, K: int):
    """One label of ``kind``: a K-vector (Gaussian mean), a class 0..K-1 (categorical), a number (1-D Gaussians)."""
    if kind == "gaussian_mean":
        return as_vector("y", y, K)
    if kind == "categorical":
        return int(as_labels("y", [as_float("y", y)], K)[0])
    return as_float("y", y)


def _natural(z):
    if not z[1] < 0:
        raise HypothesisError(f"gaussian_natural needs outputs z = (mu/sigma^2, -1/(2 sigma^2)) with z_2 < 0, got z = {z}")
    return gaussian_fisher(*_mean_sd("z", z, "natural"), "natural")


def _output_fisher(kind: str, z) -> np.ndarray:
    if kind == "gaussian_natural":
        return _natural(z)
    if kind == "gaussian_mean":
        return np.eye(z.size)
    if kind == "categorical":
        return _categorical_fisher(_softmax(z))
    with np.errstate(over="ignore"):  # reported by _finite
        return _finite(f"F_R at z = {z}", np.diag([np.exp(-z[1]), 0.5]))


def output_fisher(kind: str, z) -> np.ndarray:
    """F_R(z) of the output model: the Fisher of R_{y|z} in z (001_7d31b3ff3a2f0401.txt §9.2).

    Parameters
    ----------
    kind : str
        The output model: ``"gaussian_mean"``, ``"categorical"``, ``"gaussian_mu_logvar"`` or ``"gaussian_natural"``.
    z : array_like
        The network's output.

    Returns
    -------
    numpy.ndarray
        F_R(z).

    Examples
    --------
    >>> from theorytools.fisher import ggn
    >>> ggn.output_fisher("gaussian_mu_logvar", [0.0, 0.0]).tolist()  # diag(e^-gamma, 1/2)
    [[1.0, 0.0], [0.0, 0.5]]
    """
    kind = _kind(kind)
    return _output_fisher(kind, _z(kind, z))


def _loss_hessian(kind: str, y, z) -> np.ndarray:
    if kind in ("gaussian_mean", "categorical", "gaussian_natural"):
        return _output_fisher(kind, z)  # independent of y: natural parameters
    return gaussian_mu_logvar_hessian(y, z[0], z[1])


def loss_hessian(kind: str, y, z) -> np.ndarray:
    """H_L(y, z) = d^2/dz^2 of -log r(y|z) (001_7d31b3ff3a2f0401.txt §8, §9.2).

    Parameters
    ----------
    kind : str
        The output model: ``"gaussian_mean"``, ``"categorical"``, ``"gaussian_mu_logvar"`` or ``"gaussian_natural"``.
    y : float or array_like
        One label of ``kind``.
    z : array_like
        The network's output.

    Returns
    -------
    numpy.ndarray
        H_L(y, z); equal to F_R(z) for the three outputs in natural parameters.

    Examples
    --------
    >>> from theorytools.fisher import ggn
    >>> ggn.loss_hessian("gaussian_mu_logvar", 2.0, [0.0, 0.0]).tolist()  # §9.2's y = 2, mu = gamma = 0
    [[1.0, 2.0], [2.0, 2.0]]
    """
    kind = _kind(kind)
    z = _z(kind, z)
    return _loss_hessian(kind, _label(kind, y, z.size), z)


def _loss_gradient(kind: str, y, z) -> np.ndarray:
    if kind == "gaussian_mean":
        return z - y
    if kind == "categorical":
        p = _softmax(z)
        p[y] = -_complement(p)[y]  # p_y - 1 as minus the others' sum (exact when p_y ~ 1)
        return p
    if kind == "gaussian_mu_logvar":
        r = y - z[0]
        with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite
            return _finite(f"dL/dz at z = {z}", np.array([-r * np.exp(-z[1]), 0.5 * (1.0 - r * r * np.exp(-z[1]))]))
    _natural(z)
    mu, sd = _mean_sd("z", z, "natural")
    return _finite(f"dL/dz at z = {z}", np.array([mu - y, mu * mu + sd * sd - y * y]))


def loss_gradient(kind: str, y, z) -> np.ndarray:
    """g = dL/dz of L(y, z) = -log r(y|z), the loss gradient of the empirical Fisher (001_7d31b3ff3a2f0401.txt §11).

    ``z - y``; ``softmax(z) - e_y``; for (mu, gamma): ``(-(y - mu) e^-gamma, (1 - (y - mu)^2 e^-gamma) / 2)``; for
    natural z: ``(E[y] - y, E[y^2] - y^2)`` (the log-partition's gradient minus the sufficient statistics).

    Parameters
    ----------
    kind : str
        The output model: ``"gaussian_mean"``, ``"categorical"``, ``"gaussian_mu_logvar"`` or ``"gaussian_natural"``.
    y : float or array_like
        One label of ``kind``.
    z : array_like
        The network's output.

    Returns
    -------
    numpy.ndarray
        g = dL/dz, the shape of z.

    Examples
    --------
    >>> from theorytools.fisher import ggn
    >>> ggn.loss_gradient("categorical", 1, [0.0, 0.0]).tolist()  # softmax(z) - e_1
    [0.5, -0.5]
    >>> ggn.loss_gradient("gaussian_mu_logvar", 2.0, [0.0, 0.0]).tolist()  # (-(2 - 0), (1 - 4) / 2)
    [-2.0, -1.5]
    """
    kind = _kind(kind)
    z = _z(kind, z)
    return _loss_gradient(kind, _label(kind, y, z.size), z)


def _net_args(net, theta, X, kind) -> tuple:
    """Validated ``(net, theta, X, kind)``; the P x P result is sized first."""
    net = as_instance("net", net, TanhNet)
    kind = _kind(kind, net.shapes[1][0])
    theta = as_vector("theta", theta, net.P)
    X = as_array("X", X, shape=(None, net.shapes[0][1]))
    check_allocation(f"the P x P matrix (P = {net.P})", (net.P, net.P), copies=2,
                     cheaper="theorytools.fisher.ngd works with the c x c Gram of an MLP (method='exact_woodbury')")
    return net, theta, X, kind


def _targets(net, kind, X, Y) -> list:
    """The labels Y of ``kind``, one per row of X: n_out-vectors (Gaussian mean), classes, or numbers."""
    K = net.shapes[1][0]
    if kind == "gaussian_mean":
        Y = as_array("Y", Y, shape=(None, K))
    elif kind == "categorical":
        Y = as_labels("Y", Y, K)
    else:
        Y = as_array("Y", Y, ndim=1)
    same_length(("X", "Y"), X, Y)
    return list(Y)


def fisher(net: TanhNet, theta, X, kind: str) -> np.ndarray:
    """``mean_x J_f^T F_R J_f`` (001_7d31b3ff3a2f0401.txt eq. 7).

    Parameters
    ----------
    net : TanhNet
        The network.
    theta : array_like
        Its P parameters.
    X : array_like
        The inputs, one row per example.
    kind : str
        The output model: ``"gaussian_mean"``, ``"categorical"``, ``"gaussian_mu_logvar"`` or ``"gaussian_natural"``.

    Returns
    -------
    numpy.ndarray
        The P x P Fisher.

    Examples
    --------
    For the Gaussian mean (F_R = I) it is ``J_f^T J_f``:

    >>> import numpy as np
    >>> from theorytools.fisher import ggn
    >>> net, theta, X = ggn.TanhNet(1, 1, 1), np.array([0.5, 2.0]), [[1.0]]
    >>> J = net.jacobian(theta, X[0])
    >>> bool(np.allclose(ggn.fisher(net, theta, X, "gaussian_mean"), J.T @ J))
    True
    """
    net, theta, X, kind = _net_args(net, theta, X, kind)
    Js = [net.jacobian(theta, x) for x in X]
    return sum(J.T @ _output_fisher(kind, net.output(theta, x)) @ J for J, x in zip(Js, X)) / len(X)


def ggn(net: TanhNet, theta, X, Y, kind: str) -> np.ndarray:
    """``mean_(x,y) J_f^T H_L(y, z) J_f`` on the data (X, Y): the GGN (001_7d31b3ff3a2f0401.txt §8, §9.2).

    Parameters
    ----------
    net : TanhNet
        The network.
    theta : array_like
        Its P parameters.
    X : array_like
        The inputs, one row per example.
    Y : array_like
        The labels, one per row of X.
    kind : str
        The output model: ``"gaussian_mean"``, ``"categorical"``, ``"gaussian_mu_logvar"`` or ``"gaussian_natural"``.

    Returns
    -------
    numpy.ndarray
        The P x P GGN.

    Examples
    --------
    For the (mu, log sigma^2) Gaussian H_L depends on y, and the GGN on data can be indefinite (§9.2):

    >>> import numpy as np
    >>> from theorytools.fisher import ggn
    >>> net = ggn.TanhNet(1, 2, 2, offset=[0.0, -1.0])
    >>> G = ggn.ggn(net, np.full(net.P, 0.1), [[1.0]], [2.0], "gaussian_mu_logvar")
    >>> bool(np.linalg.eigvalsh(G).min() < 0)
    True
    """
    net, theta, X, kind = _net_args(net, theta, X, kind)
    Y = _targets(net, kind, X, Y)
    Js = [net.jacobian(theta, x) for x in X]
    return sum(J.T @ _loss_hessian(kind, y, net.output(theta, x)) @ J for J, x, y in zip(Js, X, Y)) / len(X)


def empirical_fisher(net: TanhNet, theta, X, Y, kind: str) -> np.ndarray:
    """``mean_(x,y) J_f^T g g^T J_f`` with g = dL/dz at the data's labels (001_7d31b3ff3a2f0401.txt §11, the display after line 511: eqn. 3 with the expectation over the data).

    Parameters
    ----------
    net : TanhNet
        The network.
    theta : array_like
        Its P parameters.
    X : array_like
        The inputs, one row per example.
    Y : array_like
        The labels, one per row of X.
    kind : str
        The output model: ``"gaussian_mean"``, ``"categorical"``, ``"gaussian_mu_logvar"`` or ``"gaussian_natural"``.

    Returns
    -------
    numpy.ndarray
        The P x P empirical Fisher F-bar.

    Examples
    --------
    For the Gaussian mean, one example: ``F-bar = (z - y)^2 J_f^T J_f = (z - y)^2 F``:

    >>> import numpy as np
    >>> from theorytools.fisher import ggn
    >>> net, theta, X = ggn.TanhNet(1, 1, 1), np.array([0.5, 2.0]), [[1.0]]
    >>> r2 = (net.output(theta, X[0])[0] - 3.0) ** 2
    >>> bool(np.allclose(ggn.empirical_fisher(net, theta, X, [[3.0]], "gaussian_mean"),
    ...                  r2 * ggn.fisher(net, theta, X, "gaussian_mean")))
    True
    """
    net, theta, X, kind = _net_args(net, theta, X, kind)
    Y = _targets(net, kind, X, Y)
    scores = [net.jacobian(theta, x).T @ _loss_gradient(kind, y, net.output(theta, x)) for x, y in zip(X, Y)]
    return sum(np.outer(s, s) for s in scores) / len(X)
