"""Natural-gradient dynamics of deep linear nets in continuous time (003_34787a2226c5cf0a.txt §4, eqs 16-19).

``natural_gradient_flow`` integrates the parameter ODE ``d theta/dt = v(theta)`` with ``solve_ivp`` for the
exact natural gradient or for Eq. 10, and returns the total map ``W(t)``.  The exact flow's parameters move with
``-G grad`` for the generalized inverse ``G = D^-1 (D^-1 F D^-1)^+ D^-1`` (``D^2 = diag F``) rather than ``F^+``: the
total map moves identically for every generalized inverse (§3, claim (a)), and this one follows a change of units of
the parameters exactly, so the path does not depend on units.  The closed forms it is compared with (derived here,
the supplement not being included):

* wherever the Fisher has rank ``n_L n_0`` (the tangent map ``X -> sum_i A_i X_i B_i`` is onto; this needs
  ``r = min(n_0, n_L)``), the exact natural gradient's total map moves with Eq. 18, so its path is
  ``W(t) = W* + (W_0 - W*) e^-t`` and the excess loss is ``E(t) = E(0) e^-2t``.  This includes the points where
  ``det W = 0``: a square ``W`` changes the sign of its determinant by one layer becoming singular, and the flow
  continues (see "Where the flows are singular");
* Eq. 10 follows Eq. 19, which is Eq. 18 only when every hidden width is at least ``max(n_0, n_L)``;
* in a bottleneck net (``r = min_i n_i < min(n_0, n_L)``) the exact flow is the Riemannian gradient flow of
  the excess loss on the rank-``r`` matrices, ``dW = -Pi_T (W - W*)``: it tends to the best reachable map
  and, asymptotically, ``E(t) - E_r ~ e^{-2 (1 - s_{r+1}/s_r) t}`` (``s`` the singular values of
  ``St^-1/2 W* Sigma^1/2``), which is ``e^-2t`` only when ``W*`` itself has rank ``<= r``.

Where the flows are singular (derived here).  The Fisher is ``J^T (Sigma kron St^-1) J``, so its rank is the
dimension of the tangent space ``T = {sum_i A_i X_i B_i}`` (eq. 17).  Term ``i`` spans ``col(A_i) (x) row(B_i)``; the
column spaces increase with ``i`` (``A_i = A_{i+1} W_{i+1}``) and the row spaces decrease (``B_{i+1} = W_i B_i``), so in
bases adapted to both flags the terms are rectangles of a staircase and

    rank F = dim T = sum_i rank(A_i) rank(B_i) - sum_{i<L} rank(A_i) rank(B_{i+1})     (:func:`tangent_dimension`).

In a square net (all widths n) this is ``n^2`` as long as at most one layer is singular, whatever its rank (term ``k``
of the singular layer alone spans everything: ``A_k``, ``B_k`` do not contain it), and ``< n^2`` as soon as two are
(the direction ``y z^T`` with ``y^T A_i = 0`` for ``i < m`` and ``B_i z = 0`` for ``i > k`` is missed, ``k < m`` the two
singular layers).  Where ``T`` has its full dimension (and no column of the Jacobian vanishes, which the equilibration
``D`` needs) the velocity ``-G grad`` is an analytic function of the weights (pseudo-inverses of constant rank), so the
exact flow has a unique, bounded continuation through ``det W = 0``; a generic path meets ``det W = 0`` with one layer
singular (two at once is codimension 2).  Measured (``deeplinear.singular_total_map_crossed_by_exact_flow``: 2-layer
2x2, 3-layer 2x2 and 2-layer 3x3 nets whose ``W*`` has the other determinant sign, one with three crossings):
``W(t)`` stays on Eq. 18 to ``<= 4.2e-11 |W_0 - W*|`` through every crossing, the parameter speed never exceeds 1.06x
its start value at the sampled times (crossings included), the Fisher has rank ``n^2`` at each crossing, and there
exactly one layer is singular and changes the sign of its determinant while the others stay invertible; ``-F^+ grad``
integrated with a dense Fisher does the same.

The exact flow is singular only where ``T`` loses dimension: at starts such as zero layers or two singular layers (no
saddle needed), and where the path is driven into such a point.  The parameter path, unlike the total map's, depends on
the generalized inverse: with diagonal layers (diagonal ``Sigma``, ``St``, ``W*``) each diagonal entry is a scalar net
whose equilibrated flow keeps ``w_1 : ... : w_L`` fixed, so all layers' entries reach 0 together where the entry of
``W`` changes sign (speed ``~ (t* - t)^{1/L - 1}``; a start perturbed off the diagonal passes), whereas ``-F^+ grad``
conserves ``w_1^2 - w_2^2`` in a 1-1-1 net and passes ``w = 0`` with one layer at 0.  Eq. 10 (eq. 16 for invertible
layers) conserves ``det W_i / det W_j``: at ``det W = 0`` all layers are singular together, each
``s_min(W_i) ~ (t* - t)^{1/L}``, and its velocity ``(1/L) A_i^-1 (W* - W) B_i^-1`` holds ``L - 1`` inverses, so
``|theta'| ~ c (t* - t)^{-(L-1)/L}``: fitted exponents 0.5000-0.5046 for L = 2 and 0.6667-0.6676 for L = 3 over
``t* - t`` in [d/1e6, d/100], ``d = min(1e-2, t*/2)`` (``deeplinear.singular_eq10_speed_divergence``, full profile,
seed 0, 10 nets).
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from theorytools.deeplinear.network import EPS, DeepLinearNet
from theorytools.errors import NonFiniteError
from theorytools.linalg import (as_array, as_bool, as_choice, as_float, as_instance, as_int, check_allocation,
                                same_length)

METHODS = ("exact", "eq10")


class SingularCrossingError(NonFiniteError):
    """The flow has no bounded continuation where it stopped, so the integration stops and says where.

    003_34787a2226c5cf0a.txt §4, eqs 16-19 (the flows; see the module docstring for where they are singular).  For the
    exact natural gradient, a point where the tangent map ``X -> sum_i A_i X_i B_i`` (so the Fisher) loses rank; for
    Eq. 10, a point where the total map loses rank (in a square net ``det W = 0``, where Eq. 10 makes all layers
    singular together).  ``t`` is the time, ``layers`` the layers responsible (1-based) and ``layer`` the first of them.

    Parameters
    ----------
    message : str
        The error message.
    t : float
        The time where the flow stopped.
    layer : int or None
        The first layer responsible (1-based).
    layers : sequence of int, optional
        All layers responsible (default: ``(layer,)``).

    Examples
    --------
    A start with zero layers is a saddle: the Fisher is 0 there.

    >>> import numpy as np
    >>> from theorytools.deeplinear import DeepLinearNet, SingularCrossingError, natural_gradient_flow
    >>> net = DeepLinearNet([[[0.0]], [[0.0]]], np.eye(1), np.eye(1), [[4.0]])
    >>> try:
    ...     natural_gradient_flow(net, [0.0, 1.0])
    ... except SingularCrossingError as exc:
    ...     print(exc.t, exc.layers, exc.layer)
    0.0 (1, 2) 1
    """

    def __init__(self, message: str, t: float, layer: int | None, layers=None):
        super().__init__(message)
        self.layers = tuple(int(i) for i in layers) if layers is not None else (() if layer is None else (int(layer),))
        self.t = t
        self.layer = layer if layer is not None else (self.layers[0] if self.layers else None)


def velocity(net, method: str) -> np.ndarray:
    """The ``(P,)`` parameter velocity at unit rate: the exact natural gradient (``"exact"``: ``-G grad`` with the
    equilibrated generalized inverse ``G``, whose total-map velocity is that of ``-F^+ grad``, see
    ``DeepLinearNet._equilibrated_natural_gradient``) or Eq. 10 (``"eq10"``)."""
    if method == "exact":
        return net._equilibrated_natural_gradient()
    if method == "eq10":
        return _flat(net.eq10_update())
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def _flat(layers) -> np.ndarray:
    """The column-major parameter vector of the layer arrays a net computed itself: :meth:`DeepLinearNet.flatten`
    without its per-layer validation, except that non-finite entries go through it (and its error, which names them)."""
    v = np.concatenate([U.reshape(-1, order="F") for U in layers])
    if not np.isfinite(v).all():
        as_array("layers", v)
    return v


def rank_margin(W, r: int) -> float:
    """``s_r(W) / s_1(W)``: 0 on the set where the matrix ``W`` has rank < ``r``.

    Used to detect where Eq. 10's flow (003_34787a2226c5cf0a.txt §4, eqs 16 and 19) reaches the singular set.
    For a square ``W`` with ``r = n`` it
    carries the sign of ``det W``, so that a path through the singular set (codimension 1 there) changes its sign
    instead of touching zero between two solver steps.  :func:`natural_gradient_flow` applies it to the whitened total
    map ``St^-1/2 W Sigma^1/2`` (:meth:`DeepLinearNet.whiten`), whose margin does not depend on the units of x and y.

    Parameters
    ----------
    W : array_like, shape (m, n)
        The matrix.
    r : int
        The rank, ``1 <= r <= min(m, n)``.

    Returns
    -------
    float
        ``s_r / s_1``, times ``sign(det W)`` for a square ``W`` with ``r = n``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import rank_margin
    >>> [round(rank_margin(np.diag(s), 2), 6) for s in ([2.0, 1.0], [1.0, -2.0], [1.0, 0.0])]   # sign of det W
    [0.5, -0.5, 0.0]
    """
    W = as_array("W", W, ndim=2)
    r = as_int("r", r, low=1, high=min(W.shape))
    s = np.linalg.svd(W, compute_uv=False)
    margin = float(s[r - 1] / s[0]) if s[0] > 0 else 0.0
    if W.shape[0] == W.shape[1] == r:
        margin *= float(np.sign(np.linalg.det(W)))
    return margin


def _layer_margins(net) -> np.ndarray:
    """``s_min(W_i) / s_max(W_i)`` of each layer (0 for a zero layer)."""
    out = []
    for W in net.weights:
        s = np.linalg.svd(W, compute_uv=False)
        out.append(s[-1] / s[0] if s[0] > 0 else 0.0)
    return np.array(out)


def _eq10_singular_layers(net) -> tuple:
    """The layers at least as singular as the geometric middle of the most singular one and 1: under Eq. 10 (which
    conserves ``det W_i / det W_j``) every layer of a square net, the first being the most singular."""
    m = _layer_margins(net)
    order = np.argsort(m, kind="stable")
    cut = np.sqrt(m[order[0]])
    return tuple(int(i) + 1 for i in order if m[i] <= cut)


def tangent_dimension(net) -> int:
    """The rank of the Fisher, ``dim {sum_i A_i X_i B_i}``, by the staircase formula.

    ``dim {sum_i A_i X_i B_i} = sum_i rank(A_i) rank(B_i) - sum_{i<L} rank(A_i) rank(B_{i+1})``, with ``A_i``, ``B_i``
    the products of layers after and before layer i (003_34787a2226c5cf0a.txt eq. 17; derived in the module
    docstring: the column spaces of the ``A_i`` increase with ``i`` and the row spaces of
    the ``B_i`` decrease, so the terms of eq. 17 fill a staircase).  The ranks of the whitened ``A_i`` (columns
    equilibrated) and ``B_i`` (rows equilibrated) are decided at ``max(shape) eps`` relative, so they do not depend on
    the units of features, targets or hidden units.

    Parameters
    ----------
    net : DeepLinearNet
        The net.

    Returns
    -------
    int
        The rank of the Fisher at ``net``'s weights.

    Examples
    --------
    A 2-1-2 bottleneck: rank-1 maps of 2 x 2 form a manifold of dimension ``r (n_0 + n_L - r) = 3``:

    >>> import numpy as np
    >>> from theorytools.deeplinear import DeepLinearNet, tangent_dimension
    >>> net = DeepLinearNet([[[1.0, 1.0]], [[1.0], [1.0]]], np.eye(2), np.eye(2), np.diag([2.0, 1.0]))
    >>> tangent_dimension(net), int(np.linalg.matrix_rank(net.fisher())), net.P
    (3, 3, 4)
    """
    net = as_instance("net", net, DeepLinearNet)
    u = [_equilibrated_rank(net._inv_chol_out.T @ A) for A in net.A]
    v = [_equilibrated_rank((B @ net._chol_x).T) for B in net.B]
    return int(sum(a * b for a, b in zip(u, v)) - sum(u[i] * v[i + 1] for i in range(net.L - 1)))


def _equilibrated_rank(M) -> int:
    d = np.linalg.norm(M, axis=0)
    live = d > 0
    if not live.any():
        return 0
    s = np.linalg.svd(M[:, live] / d[live], compute_uv=False)
    return int(np.count_nonzero(s > max(M.shape) * EPS * s[0]))


def _unit_columns(M0) -> np.ndarray:
    """``1 / |column|`` of ``M0`` (a zero column takes the largest of the others; all zero: 1)."""
    d = np.linalg.norm(M0, axis=0)
    top = float(d.max()) if d.size else 0.0
    d = np.where(d > 0, d, top if top > 0 else 1.0)
    return 1.0 / d


class _TangentMonitor:
    """How far the tangent map ``X -> sum_i A_i X_i B_i`` of a net is from losing rank, in the units of a start.

    ``Y = X_w S`` with ``X_w`` the whitened Jacobian of ``W`` (``DeepLinearNet._whitened``: ``F = X_w^T X_w``) and ``S``
    the diagonal of parameter scales of the start -- ``1 / |column p of X_w|`` there, so the start's columns are unit
    (equilibrated), or the parameter's own size (:func:`_parameter_scales`) for a column that is zero at the start (a
    layer that is zero at the start has no size of its own and gets 1).  ``S`` follows every rescaling of features,
    targets and hidden units, and ``W_i -> c W_i, W_{i+1} -> W_{i+1} / c``, so ``Y`` does not depend on units.  The
    margin is ``s_k(Y) / max(s_1(Y), s_1(Y_0) |y| / |y_0|)`` with ``k`` the generic Fisher rank and ``y`` the whitened
    residual ``W - W*``: the relative smallest singular value of ``Y``, except that a tangent map shrinking faster than
    the motion it must produce (the whole of ``Y`` tending to 0 while ``W`` still has to move, as when every layer tends
    to 0) also counts; a flow converging to ``W* = 0``, where ``Y`` shrinks slower than ``y``, does not.  ``1 / margin``
    bounds the parameter speed in the start's units relative to the start's, per unit of the total-map speed."""

    def __init__(self, start):
        X0, y0 = start._whitened
        self.scales = np.where(np.linalg.norm(X0, axis=0) > 0, _unit_columns(X0), _parameter_scales(start))
        self.k = start.generic_fisher_rank
        s0 = np.linalg.svd(X0 * self.scales, compute_uv=False)
        ny0 = float(np.linalg.norm(y0))
        self.ref = float(s0[0]) / ny0 if ny0 > 0 else 0.0
        R, C = start._inv_chol_out, start._chol_x
        # the start's units of the hidden layers, for naming the products A_i, B_i that lost rank
        self.a_scales = [_unit_columns(R.T @ A) for A in start.A]
        self.b_scales = [_unit_columns((B @ C).T) for B in start.B]
        self.a_top = [np.linalg.norm(R.T @ A * c, 2) for A, c in zip(start.A, self.a_scales)]
        self.b_top = [np.linalg.norm((B @ C).T * c, 2) for B, c in zip(start.B, self.b_scales)]

    def __call__(self, net) -> float:
        X, y = net._whitened
        s = np.linalg.svd(X * self.scales, compute_uv=False)
        den = max(float(s[0]), self.ref * float(np.linalg.norm(y)))
        return float(s[self.k - 1]) / den if den > 0 and s.size >= self.k else 0.0

    def product_margins(self, net) -> tuple:
        """``(a, b)``: for each ``i``, ``s_u(A_i) / s_1`` and ``s_v(B_i) / s_1`` in the start's units (``u``, ``v`` their
        generic ranks; ``s_1`` the larger of now and the start, so that a product tending to 0 counts)."""
        R, C, w = net._inv_chol_out, net._chol_x, net.widths
        a, b = [], []
        for i in range(net.L):
            for M, top, rank, out in (((R.T @ net.A[i]) * self.a_scales[i], self.a_top[i], min(w[i + 1:]), a),
                                      (((net.B[i] @ C).T) * self.b_scales[i], self.b_top[i], min(w[:i + 1]), b)):
                s = np.linalg.svd(M, compute_uv=False)
                den = max(float(s[0]), float(top))
                out.append(float(s[rank - 1]) / den if den > 0 and s.size >= rank else 0.0)
        return np.array(a), np.array(b)

    def responsible(self, net) -> tuple:
        """``(layers, lost_A, lost_B)``: the products ``A_i``, ``B_i`` that lost rank -- margin at most ``m^(1/L)`` with
        ``m`` the smallest of them (at least eps), so a product exactly rank-deficient at a start counts alone while at
        a point approached by the flow, where the layers shrink together, its factors count too -- and the layers
        responsible: layer ``i + 1`` when ``A_i = A_{i+1} W_{i+1}`` lost rank but ``A_{i+1}`` did not (``A_L = I``),
        layer ``i - 1`` when ``B_i = W_{i-1} B_{i-1}`` lost rank but ``B_{i-1}`` did not (``B_1 = I``).  By the staircase
        formula (module docstring) these layers account for the lost dimensions."""
        a, b = self.product_margins(net)
        L = net.L
        if L == 1:
            return (), [], []
        cut = max(min(float(a[:L - 1].min()), float(b[1:].min())), EPS) ** (1.0 / L)
        lost_a = [i for i in range(1, L) if a[i - 1] <= cut]
        lost_b = [i for i in range(2, L + 1) if b[i - 1] <= cut]
        layers = {i + 1 for i in lost_a if i + 1 not in lost_a} | {i - 1 for i in lost_b if i - 1 not in lost_b}
        return tuple(sorted(layers)), lost_a, lost_b


def tangent_margin(net, start=None) -> float:
    """How far ``net``'s tangent map ``X -> sum_i A_i X_i B_i`` is from losing rank, without units.

    The image dimension of the tangent map (003_34787a2226c5cf0a.txt eq. 17) is the rank of the Fisher.  The margin
    is ``s_k(Y) / max(s_1(Y), s_1(Y_0) |y| / |y_0|)`` with ``Y`` the whitened Jacobian of
    ``W`` in the parameter units of ``start`` (default: ``net`` itself), ``k`` the generic Fisher rank and ``y`` the
    whitened residual ``W - W*`` (see :class:`_TangentMonitor`).  0 exactly where the Fisher has rank ``< k``;
    :func:`natural_gradient_flow` (``method="exact"``) stops where it falls to ``singular_margin``.  Unlike
    :func:`rank_margin` of ``W``, it stays away from 0 where ``det W = 0`` with a single singular layer.

    Parameters
    ----------
    net : DeepLinearNet
        The net.
    start : DeepLinearNet, optional
        The net whose parameter units are used (default: ``net``).

    Returns
    -------
    float
        The margin, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import DeepLinearNet, tangent_margin
    >>> net = DeepLinearNet([[[1.0]], [[2.0]]], np.eye(1), np.eye(1), [[4.0]])
    >>> saddle = DeepLinearNet([[[0.0]], [[0.0]]], np.eye(1), np.eye(1), [[4.0]])
    >>> round(tangent_margin(net), 6), tangent_margin(saddle)      # the equilibrated Jacobian (1, 1); zero layers
    (1.0, 0.0)
    """
    net = as_instance("net", net, DeepLinearNet)
    start = net if start is None else as_instance("start", start, DeepLinearNet)
    if start.widths != net.widths:
        raise ValueError(f"start must have net's widths {net.widths}, got {start.widths}")
    return _TangentMonitor(start)(net)


def _parameter_scales(net) -> np.ndarray:
    """A scale for each parameter, for solve_ivp's absolute tolerance: ``|row a of W_i| |column b of W_i| / |W_i|_F`` for
    entry ``(a, b)`` of layer ``i`` at the start.  It follows any rescaling of rows and columns of a layer (a change of
    units of x or y, a rescaled hidden unit, ``W_i -> c W_i``), so the tolerance means the same in every unit system;
    a zero row or column takes the largest scale of its layer."""
    out = []
    for W in net.weights:
        f = np.linalg.norm(W)
        s = np.outer(np.linalg.norm(W, axis=1), np.linalg.norm(W, axis=0)) / (f if f > 0 else 1.0)
        top = float(s.max())
        out.append(np.where(s > 0, s, top if top > 0 else 1.0).reshape(-1, order="F"))
    return np.concatenate(out)


def natural_gradient_flow(net, t, method: str = "exact", rtol: float = 1e-10, atol: float = 1e-12,
                          singular_margin: float = 1e-6, return_nets: bool = False):
    """Integrate the exact natural gradient or Eq. 10 from ``net``'s weights and return the total maps ``W(t)``.

    003_34787a2226c5cf0a.txt §4: the natural-gradient flow (eq. 4 with a generalized inverse), Eq. 10, eqs 16-19.
    ``d theta/dt`` is the natural gradient (``method="exact"``) or Eq. 10 (``"eq10"``); the total maps ``W(t)`` come
    back as an array ``(len(t), n_L, n_0)`` (and the nets at ``t`` when ``return_nets``).

    ``rtol`` is solve_ivp's relative tolerance; ``atol`` its absolute tolerance in units of each parameter's own scale
    (:func:`_parameter_scales`), so that rescaling features, targets or layers gives the same total-map path.  Once
    the whitened total map moves slower than ``rtol`` times its size per unit time, the path has converged to the
    solver's resolution: the integration stops and later times get the point reached (long horizons cost no more).
    Repeated times are allowed.

    Raises :class:`SingularCrossingError` where the flow has no bounded continuation (see the module docstring), naming
    the time and the layers responsible:

    * ``"exact"``: where the tangent map ``X -> sum_i A_i X_i B_i`` loses rank, i.e. the Fisher's rank falls below
      its generic value -- at the start when :func:`tangent_margin` ``<= singular_margin`` (zero layers, two singular
      layers of a square net), and where the path is driven to such a point.  Points where ``det W = 0`` with the
      tangent space of full dimension (one singular layer) are integrated through: the total map stays on Eq. 18 and
      one layer changes the sign of its determinant.  The layers named are those that made a product ``A_i`` or
      ``B_i`` lose rank (in the start's units; :meth:`_TangentMonitor.responsible`);
    * ``"eq10"``: where ``s_r/s_1`` of the whitened total map (:meth:`DeepLinearNet.whiten`, :func:`rank_margin`;
      ``r = min_i n_i``; ``s_1`` at least ``s_1(Z_0) |Z - Z*| / |Z_0 - Z*|``, so that a scalar map tending to 0
      counts) falls below ``singular_margin`` (for square maps: crosses it with a change of sign of ``det W``), at the
      start or on the path.  Eq. 10 conserves ``det W_i / det W_j``, so there every layer is singular
      and ``|theta'| ~ c (t* - t)^{-(L-1)/L}``.

    Parameters
    ----------
    net : DeepLinearNet
        The start.
    t : array_like, shape (T,)
        Non-decreasing times >= 0.
    method : {"exact", "eq10"}
        The exact natural gradient or Eq. 10.
    rtol : float, default 1e-10
        The relative tolerance of solve_ivp.
    atol : float, default 1e-12
        Absolute tolerance, in units of each parameter's scale.
    singular_margin : float, default 1e-6
        The margin below which the flow counts as singular.
    return_nets : bool, default False
        Also return the nets at the times ``t``.

    Returns
    -------
    W : ndarray, shape (T, n_L, n_0)
        The total maps ``W(t)``.
    nets : list of DeepLinearNet
        The nets at ``t``, only with ``return_nets``.

    Examples
    --------
    The exact flow's total map follows Eq. 18, ``W(t) = W* + (W_0 - W*) e^-t``:

    >>> import numpy as np
    >>> from theorytools.deeplinear import DeepLinearNet, eq18_path, natural_gradient_flow
    >>> net = DeepLinearNet([[[1.0]], [[2.0]]], np.eye(1), np.eye(1), [[4.0]])       # W_0 = 2, W* = 4
    >>> W = natural_gradient_flow(net, [0.0, 1.0])
    >>> round(float(W[1, 0, 0]), 6), bool(np.allclose(W, eq18_path(net, [0.0, 1.0])))     # 4 - 2 / e
    (3.264241, True)
    """
    net = as_instance("net", net, DeepLinearNet)
    method = as_choice("method", method, METHODS)
    t = as_array("t", t, ndim=1)
    if t[0] < 0 or np.any(np.diff(t) < 0):
        raise ValueError(f"t must be a non-decreasing 1-D array of times >= 0, got {t!r}")
    rtol = as_float("rtol", rtol, low=0.0, high=1.0, low_open=True, high_open=True)
    atol = as_float("atol", atol, low=0.0, low_open=True)
    singular_margin = as_float("singular_margin", singular_margin, low=0.0, high=1.0, low_open=True, high_open=True)
    return_nets = as_bool("return_nets", return_nets)
    # solve_ivp keeps the P x len(t) path; the total maps (and the nets) add len(t) x n_L n_0 each
    check_allocation("the kept path of natural_gradient_flow", (t.size, net.P + net.W.size), copies=2 + return_nets,
                     cheaper="fewer times in t")
    r = net.rank_bound
    if method == "exact":
        monitor = _TangentMonitor(net)

        def margin_of(n):
            return monitor(n)

        def singular_error(n, tc, where):
            layers, lost_a, lost_b = monitor.responsible(n)
            lost = " and ".join(x for x in (f"A_i for i = {lost_a}" if lost_a else "",
                                            f"B_i for i = {lost_b}" if lost_b else "") if x)
            return SingularCrossingError(
                f"exact flow{where} the tangent map X -> sum_i A_i X_i B_i, whose image dimension is the Fisher's rank, "
                f"has lost rank or is within singular_margin of losing it: tangent margin {monitor(n):.2e} <= "
                f"{singular_margin:g} (rank {tangent_dimension(n)} of generically {monitor.k} at rounding level), so the "
                f"velocity has no bounded continuation; {lost or 'no product A_i, B_i'} lost rank; layers responsible: "
                f"{list(layers)}", tc,
                layers[0] if layers else None, layers)

        if margin_of(net) <= singular_margin:
            raise singular_error(net, 0.0, ": the start is singular:")
    else:
        Z0, Zs = net.whiten(), net.whiten(net.W_star)
        gap0 = float(np.linalg.norm(Z0 - Zs))
        ref = float(np.linalg.norm(Z0, 2)) / gap0 if gap0 > 0 else 0.0

        def margin_of(n):
            """``rank_margin`` of the whitened total map, except that a map shrinking to 0 while it still has to move
            (a scalar net, where ``s_r / s_1 = 1``) counts too: ``s_1`` is replaced by ``max(s_1, s_1(Z_0) |Z - Z*| /
            |Z_0 - Z*|)``."""
            Z = n.whiten()
            s1 = float(np.linalg.norm(Z, 2))
            shrink = s1 / max(s1, ref * float(np.linalg.norm(Z - Zs))) if s1 > 0 else 0.0
            return sign * rank_margin(Z, r) * shrink

        def singular_error(n, tc, where):
            layers = _eq10_singular_layers(n)
            return SingularCrossingError(
                f"eq10 flow{where} s_r/s_1 of the whitened total map = {abs(margin_of(n)):.2e} "
                f"(singular_margin {singular_margin:g}, r = {r}); Eq. 10 conserves det W_i / det W_j, so where "
                f"det W = 0 every layer is singular and the velocity diverges like (t* - t)^-(L-1)/L; singular "
                f"layers: {list(layers)}", tc, layers[0], layers)

        sign = 1.0  # margin_of reads it: the sign of det W at the start, for square maps
        margin0 = margin_of(net)
        sign = 1.0 if margin0 >= 0 else -1.0
        if sign * margin0 <= singular_margin:
            raise singular_error(net, 0.0, ": the start is on the singular set (a saddle such as zero layers, or a "
                                           "singular layer):")

    # the solver evaluates the velocity at the end of each step (its last stage) and then the events at that same point:
    # the net there (with its products and whitened Jacobian, which the exact velocity and the tangent margin share) and
    # its velocity are kept for them
    last = {"key": None, "net": None, "v": None}

    def net_at(theta):
        key = theta.tobytes()
        if last["key"] != key:
            # a non-finite theta goes through with_weights' validation, which names it
            n = net._with_flat(theta) if np.isfinite(theta).all() else net.with_weights(net.unflatten(theta))
            last.update(key=key, net=n, v=None)
        return last["net"]

    def velocity_at(theta):
        n = net_at(theta)
        if last["v"] is None:
            last["v"] = velocity(n, method)
        return last["v"]

    def rhs(_, theta):
        return velocity_at(theta)

    def crossing(_, theta):
        return margin_of(net_at(theta)) - singular_margin

    Z_star = np.max(np.abs(net.whiten(net.W_star)))

    def converged(_, theta):
        """> 0 while the whitened total map moves faster than rtol times its size per unit time.  Below that the solver
        cannot resolve the motion (measured: the path then jitters at 1e-9 of its size for rtol = 1e-10), and an
        explicit method, held to steps of ~6 by its stability region, would spend t/6 steps on it (t = 1e5 took 200000
        velocity evaluations, ~100 s).  A flow converging at rate rho is then within rtol / rho of its limit."""
        v = velocity_at(theta)
        n = net_at(theta)
        speed = np.max(np.abs(n.whiten(n.total_map_velocity(v))))
        return speed - rtol * max(np.max(np.abs(n.whiten())), Z_star)

    crossing.terminal = converged.terminal = True
    converged.direction = -1
    theta0 = net.flatten(net.weights)
    times, where = np.unique(t, return_inverse=True)  # solve_ivp wants strictly increasing times
    thetas = np.repeat(theta0[None], times.size, axis=0)
    if times[-1] > 0:
        sol = solve_ivp(rhs, (0.0, float(times[-1])), theta0, method="DOP853", t_eval=times, rtol=rtol,
                        atol=atol * _parameter_scales(net), events=(crossing, converged))
        if sol.t_events[0].size:
            tc = float(sol.t_events[0][0])
            at = net.with_weights(net.unflatten(sol.y_events[0][0]))
            raise singular_error(at, tc, f" reached the singular set at t = {tc:.6g}:")
        if sol.status < 0:
            raise NonFiniteError(f"{method} flow: solve_ivp failed ({sol.message})")
        thetas[:sol.y.shape[1]] = sol.y.T
        if sol.t_events[1].size:  # converged: the total map stays where it is for the remaining times
            thetas[sol.y.shape[1]:] = sol.y_events[1][0]
    nets = [net.with_weights(net.unflatten(th)) for th in thetas[where]]
    Ws = np.array([n.W for n in nets])
    return (Ws, nets) if return_nets else Ws


def eq18_path(net, t) -> np.ndarray:
    """Eq. 18 solved: ``W(t) = W* + (W_0 - W*) e^-t``.

    003_34787a2226c5cf0a.txt §4, eq. 18 (unit rate), with ``W* = <y x^T> Sigma^-1`` (text after eq. 18).

    Parameters
    ----------
    net : DeepLinearNet
        The start ``W_0`` and the data that fix ``W*``.
    t : array_like, shape (T,)
        The times.

    Returns
    -------
    ndarray, shape (T, n_L, n_0)
        ``W(t)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import DeepLinearNet, eq18_path
    >>> net = DeepLinearNet([[[1.0]], [[2.0]]], np.eye(1), np.eye(1), [[4.0]])       # W_0 = 2, W* = 4
    >>> np.round(eq18_path(net, [0.0, np.log(2.0)]).ravel(), 6).tolist()            # 4 - 2 e^-t
    [2.0, 3.0]
    """
    net = as_instance("net", net, DeepLinearNet)
    t = as_array("t", t, ndim=1)
    check_allocation("the Eq. 18 path", (t.size,) + net.W.shape, cheaper="fewer times in t")
    return net.W_star + (net.W - net.W_star)[None] * np.exp(-t)[:, None, None]


def eq18_crossing_time(net) -> float | None:
    """The first ``t`` at which Eq. 18's straight path is singular, for square total maps.

    003_34787a2226c5cf0a.txt §4, eq. 18: the path ``W* + (W_0 - W*) s`` (``s = e^-t``); ``s`` is a real generalized
    eigenvalue in (0, 1) of ``W* v = s (W* - W_0) v`` (a singular ``W_0 - W*``
    gives infinite eigenvalues, which are dropped).  ``None`` if the path stays regular; that can fail even when
    ``det W_0`` and ``det W*`` have the same sign (two crossings).  The pencil is taken in whitened coordinates
    (:meth:`DeepLinearNet.whiten`), which have the same eigenvalues and no units.

    Parameters
    ----------
    net : DeepLinearNet
        A net with a square total map that can have full rank.

    Returns
    -------
    float or None
        The first crossing time, or None.

    Examples
    --------
    From ``W_0 = 2`` to ``W* = -2`` the path ``-2 + 4 e^-t`` crosses 0 at ``t = ln 2``:

    >>> import numpy as np
    >>> from theorytools.deeplinear import DeepLinearNet, eq18_crossing_time
    >>> net = DeepLinearNet([[[1.0]], [[2.0]]], np.eye(1), np.eye(1), [[-2.0]])
    >>> round(eq18_crossing_time(net), 6), round(float(np.log(2.0)), 6)
    (0.693147, 0.693147)
    """
    net = as_instance("net", net, DeepLinearNet)
    if net.W.shape[0] != net.W.shape[1]:
        raise ValueError(f"eq18_crossing_time needs net to have a square total map, got {net.W.shape}")
    if net.rank_bound < net.W.shape[0]:  # det W = 0 all along: the eigenvalue s = 1 would be rounded to either side
        raise ValueError(f"eq18_crossing_time needs net's total map to be able to have full rank, but a hidden width "
                         f"r = {net.rank_bound} < n = {net.W.shape[0]} keeps it singular everywhere (widths {net.widths})")
    from scipy.linalg import eigvals

    Zs, Z0 = net.whiten(net.W_star), net.whiten()
    mu = eigvals(Zs, Zs - Z0)
    ok = np.isfinite(mu) & (np.abs(mu.imag) <= 1e-12 * np.abs(mu)) & (mu.real > 0) & (mu.real < 1)
    s = mu[ok].real
    return float(-np.log(s.max())) if s.size else None


def predicted_decay(net) -> tuple:
    """``(rate, limit)`` of the excess loss ``E(t) = L(W(t)) - L(W*)`` under the exact natural gradient.

    003_34787a2226c5cf0a.txt §4, eq. 18 and the text after it (exponential decay of the loss); eq. 19 for bottlenecks.
    ``(2, 0)`` when ``r = min(n_0, n_L)`` (exact for all t: ``E(0) e^-2t``); in a bottleneck, from generic starts, the
    asymptotic rate ``2 min(1, min{1 - s_l/s_k : k <= r < l, s_l < s_k})`` towards ``E_r = 1/2 sum_{k>r} s_k^2`` (see
    the module docstring), i.e. ``2 (1 - s_{r+1}/s_r)`` when ``s_r > s_{r+1}``.  At a tie ``s_r = s_{r+1}`` the decay
    is still exponential and follows the next gap (issue 16: the linearized flow's slowest rate, by sympy on a 2-1-2
    net with ``W* = I``: rate 2, where ``2 (1 - s_{r+1}/s_r)`` would say 0).  Ties are decided at ``64 eps s_1
    max(n_0, n_L)``, the rounding of the whitened singular values, so they do not depend on units.

    Parameters
    ----------
    net : DeepLinearNet
        The net (its widths and data).

    Returns
    -------
    rate : float
        The (asymptotic) exponential rate of ``E(t) - limit``.
    limit : float
        The limit of ``E(t)``: 0, or ``E_r`` in a bottleneck.

    Examples
    --------
    A 2-1-2 bottleneck with whitened singular values ``s = (2, 1)`` of ``W*``:

    >>> import numpy as np
    >>> from theorytools.deeplinear import DeepLinearNet, predicted_decay
    >>> net = DeepLinearNet([[[1.0, 1.0]], [[1.0], [1.0]]], np.eye(2), np.eye(2), np.diag([2.0, 1.0]))
    >>> rate, limit = predicted_decay(net)
    >>> print(f"{rate:.6f} {limit:.6f}")               # 2 (1 - s_2 / s_1) and s_2^2 / 2
    1.000000 0.500000
    """
    net = as_instance("net", net, DeepLinearNet)
    r = net.rank_bound
    if r == min(net.widths[0], net.widths[-1]):
        return 2.0, 0.0
    s = net.whitened_singular_values()
    gaps = s[None, :r] - s[r:, None]  # s_k - s_l, k <= r < l
    tied = gaps <= 64 * np.finfo(float).eps * s[0] * max(net.widths[0], net.widths[-1])
    ratios = np.divide(s[r:, None], s[None, :r], out=np.zeros_like(gaps), where=~tied)
    return 2.0 * (1.0 - np.max(ratios, initial=0.0)), net.min_reachable_excess_loss()


def fitted_rate(t, excess, limit: float = 0.0) -> tuple:
    """Least-squares slope of ``-log(E(t) - limit)`` against ``t``: ``(rate, stderr)``.

    Measures the exponential decay of the excess loss predicted after eq. 18 (003_34787a2226c5cf0a.txt §4); compare
    with :func:`predicted_decay`.

    Parameters
    ----------
    t : array_like, shape (T,)
        At least two distinct times.
    excess : array_like, shape (T,)
        The excess loss ``E(t)``, above ``limit``.
    limit : float, default 0.0
        The limit of ``E(t)``.

    Returns
    -------
    rate : float
        The fitted rate.
    stderr : float
        Its standard error.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.deeplinear import fitted_rate
    >>> t = np.array([0.0, 1.0, 2.0])
    >>> rate, stderr = fitted_rate(t, 3.0 * np.exp(-2.0 * t))
    >>> print(f"{rate:.6f}")
    2.000000
    """
    from scipy import stats

    t = as_array("t", t, ndim=1)
    excess = as_array("excess", excess, ndim=1)
    same_length(("t", "excess"), t, excess)
    limit = as_float("limit", limit)
    if t.size < 2 or np.ptp(t) == 0:
        raise ValueError(f"t must hold at least two distinct times to fit a rate, got {t!r}")
    above = excess - limit
    if np.any(above <= 0):
        i = int(np.argmax(above <= 0))
        raise ValueError(f"excess must stay above its limit {limit:g} to fit a rate: entry {i} is {excess[i]:g}")
    fit = stats.linregress(t, np.log(above))
    return -float(fit.slope), float(fit.stderr)
