"""Predictive distributions R_{y|z} and their Fisher matrices in closed form (001_7d31b3ff3a2f0401.txt §5, §9.2;
002_add1c097d251ec63.txt A.1-A.3).

The 1-D Gaussian N(mu, sigma^2) in four parameterizations, with ``mu``, ``sigma`` the point where each is evaluated:

* ``"mu_sigma"``       z = (mu, sigma):                      F = diag(1/sigma^2, 2/sigma^2)
* ``"mu_log_sigma"``   z = (mu, ln sigma):                   F = diag(1/sigma^2, 2)
* ``"mu_log_var"``     z = (mu, gamma = ln sigma^2) (§9.2):  F = diag(1/sigma^2, 1/2)
* ``"natural"``        z = (mu/sigma^2, -1/(2 sigma^2)):     F = Cov(y, y^2) = [[s2, 2 mu s2], [2 mu s2, 2 s2^2 + 4 mu^2 s2]]
  (the Hessian of the log-partition; s2 = sigma^2)

Each is the pull-back ``J^T F J`` of any other through the change of parameters (tested), and equals E[score score^T]
and -E[Hessian of log p] (tests: Gauss-Hermite quadrature of finite-difference scores).

Arguments are validated by :mod:`theorytools.linalg.validation`; a point so far out that a Fisher entry over- or
underflows float64 (sigma = 1e-160: 1/sigma^2 = inf) raises :class:`~theorytools.errors.NonFiniteError` naming it.
"""

from __future__ import annotations

import numpy as np

from theorytools.errors import NonFiniteError
from theorytools.linalg import as_array, as_choice, as_float, as_vector, positive

#: The four coordinate systems of N(mu, sigma^2) accepted as ``param`` (see the module docstring).
PARAMS = ("mu_sigma", "mu_log_sigma", "mu_log_var", "natural")


def _finite(what: str, value):
    """``value``, or a NonFiniteError naming the quantity (the point is too far out for float64)."""
    if not np.all(np.isfinite(value)):
        raise NonFiniteError(f"{what} is not finite (it over- or underflows float64): the point is too far out")
    return value


def _check_point(mu, sigma):
    return as_float("mu", mu), positive("sigma", sigma)


def gaussian_fisher(mu, sigma, param: str) -> np.ndarray:
    """The 2 x 2 Fisher of N(mu, sigma^2) in the coordinates ``param`` (see the module docstring), at (mu, sigma).

    Source: 001_7d31b3ff3a2f0401.txt §9.2 (the (mu, ln sigma^2) Gaussian: ``diag(1/sigma^2, 1/2)``) and
    002_add1c097d251ec63.txt A.1-A.3 (F = E[score score^T] = -E[Hessian of log p]).

    Parameters
    ----------
    mu : float
        The mean.
    sigma : float
        The standard deviation, > 0.
    param : str
        One of :data:`PARAMS`: ``"mu_sigma"``, ``"mu_log_sigma"``, ``"mu_log_var"`` or ``"natural"``.

    Returns
    -------
    numpy.ndarray
        The 2 x 2 Fisher information matrix in the coordinates ``param``.

    Examples
    --------
    >>> from theorytools.fisher import gaussian_fisher
    >>> gaussian_fisher(0.0, 2.0, "mu_log_var").tolist()  # diag(1/sigma^2, 1/2)
    [[0.25, 0.0], [0.0, 0.5]]
    >>> gaussian_fisher(1.0, 1.0, "natural").tolist()  # Cov(y, y^2) of N(1, 1)
    [[1.0, 2.0], [2.0, 6.0]]
    """
    mu, sigma = _check_point(mu, sigma)
    param = as_choice("param", param, PARAMS)
    s2 = sigma * sigma
    with np.errstate(over="ignore", divide="ignore"):  # overflow is reported by _finite, naming the matrix
        if param == "mu_sigma":
            F = np.diag([1.0 / s2, 2.0 / s2])
        elif param == "mu_log_sigma":
            F = np.diag([1.0 / s2, 2.0])
        elif param == "mu_log_var":
            F = np.diag([1.0 / s2, 0.5])
        else:
            F = np.array([[s2, 2.0 * mu * s2], [2.0 * mu * s2, 2.0 * s2 * s2 + 4.0 * mu * mu * s2]])
    return _finite(f"the {param} Fisher at (mu, sigma) = ({mu:g}, {sigma:g})", F)


def gaussian_coordinates(mu, sigma, param: str) -> np.ndarray:
    """The coordinates of N(mu, sigma^2) in the parameterization ``param``.

    The four parameterizations are those of the module docstring (001_7d31b3ff3a2f0401.txt §9.2 uses
    ``"mu_log_var"``; ``"natural"`` is ``(mu/sigma^2, -1/(2 sigma^2))``).

    Parameters
    ----------
    mu : float
        The mean.
    sigma : float
        The standard deviation, > 0.
    param : str
        One of :data:`PARAMS`.

    Returns
    -------
    numpy.ndarray
        The two coordinates z.

    Examples
    --------
    >>> from theorytools.fisher import gaussian_coordinates
    >>> gaussian_coordinates(1.0, 2.0, "natural").tolist()  # (1/4, -1/8)
    [0.25, -0.125]
    """
    mu, sigma = _check_point(mu, sigma)
    param = as_choice("param", param, PARAMS)
    if param == "mu_sigma":
        return np.array([mu, sigma])
    if param == "mu_log_sigma":
        return np.array([mu, np.log(sigma)])
    if param == "mu_log_var":
        return np.array([mu, 2.0 * np.log(sigma)])
    with np.errstate(over="ignore"):  # reported by _finite
        # mu / sigma^2 as (mu / sigma) / sigma: sigma^2 alone underflows for sigma < 1e-162 where the ratio need not
        z = np.array([(mu / sigma) / sigma, -0.5 / sigma / sigma])
    return _finite(f"the natural coordinates of N({mu:g}, {sigma:g}^2)", z)


def _mean_sd(name: str, z, param: str) -> tuple:
    """(mu, sigma) from the coordinates ``z`` (named ``name`` in messages) in ``param``."""
    a, b = as_vector(name, z, 2)
    param = as_choice("param", param, PARAMS)
    if param == "mu_sigma":
        if not b > 0:
            raise ValueError(f"{name} must have sigma = {name}[1] > 0 in mu_sigma coordinates, got {b:g}")
        return float(a), float(b)
    if param == "natural":
        if not b < 0:
            raise ValueError(f"{name} must have the natural coordinate {name}[1] = -1/(2 sigma^2) < 0, got {b:g}")
        with np.errstate(over="ignore", divide="ignore", under="ignore"):
            s2 = -0.5 / b
            mu, sd = a * s2, np.sqrt(s2)
    else:
        with np.errstate(over="ignore", under="ignore"):
            mu, sd = a, np.exp(b if param == "mu_log_sigma" else 0.5 * b)
    if not (np.isfinite(mu) and np.isfinite(sd) and sd > 0):
        raise NonFiniteError(f"{name} = ({a:g}, {b:g}) in {param} coordinates gives (mu, sigma) = ({mu:g}, {sd:g}), "
                             "outside float64 (sigma over- or underflows)")
    return float(mu), float(sd)


def gaussian_mean_sd(z, param: str) -> tuple:
    """Inverse of :func:`gaussian_coordinates`: (mu, sigma) from the coordinates ``z``.

    The parameterizations are those of the module docstring (001_7d31b3ff3a2f0401.txt §9.2).

    Parameters
    ----------
    z : array_like
        The two coordinates.
    param : str
        One of :data:`PARAMS`.

    Returns
    -------
    tuple of float
        ``(mu, sigma)``.

    Examples
    --------
    >>> from theorytools.fisher import gaussian_mean_sd
    >>> gaussian_mean_sd([0.25, -0.125], "natural")
    (1.0, 2.0)
    """
    return _mean_sd("z", z, param)


def gaussian_log_density(y, z, param: str):
    """``log N(y; mu, sigma^2)`` with (mu, sigma) given by the coordinates ``z`` in ``param``.

    The negative of the loss ``L(y, z) = -log r(y|z)`` of 001_7d31b3ff3a2f0401.txt §9.2 for a Gaussian R_{y|z}.

    Parameters
    ----------
    y : float or array_like
        The point(s) where the density is evaluated.
    z : array_like
        The two coordinates of the Gaussian.
    param : str
        One of :data:`PARAMS`.

    Returns
    -------
    numpy.ndarray
        The log-density at each ``y`` (the shape of ``y``).

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import gaussian_log_density
    >>> v = gaussian_log_density(0.0, [0.0, 1.0], "mu_sigma")  # -ln(2 pi) / 2
    >>> print(f"{float(v):.6f}", bool(np.isclose(v, -0.5 * np.log(2 * np.pi))))
    -0.918939 True
    """
    y = as_array("y", y, nonempty=False)
    mu, sigma = gaussian_mean_sd(z, param)
    with np.errstate(over="ignore"):  # reported by _finite
        out = -0.5 * ((y - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2.0 * np.pi)
    return _finite("log N(y; mu, sigma^2)", out)


def gaussian_mu_logvar_hessian(y, mu, gamma) -> np.ndarray:
    """H_L of 001_7d31b3ff3a2f0401.txt §9.2: the Hessian of ``-log N(y; mu, e^gamma)`` in z = (mu, gamma).

    ``H_L = e^-gamma [[1, y - mu], [y - mu, (y - mu)^2 / 2]]``.

    Its determinant is ``-(y - mu)^2 e^{-2 gamma} / 2``: indefinite for *every* y != mu and every (mu, gamma), not
    only "for certain settings" (the paper's example y = 2, mu = gamma = 0 is one of them); PSD and singular at y = mu.

    Parameters
    ----------
    y : float
        The target.
    mu : float
        The mean.
    gamma : float
        The log-variance ``ln sigma^2``.

    Returns
    -------
    numpy.ndarray
        The 2 x 2 Hessian in (mu, gamma).

    Examples
    --------
    The paper's example y = 2, mu = gamma = 0, with determinant ``-(2 - 0)^2 / 2 = -2``:

    >>> import numpy as np
    >>> from theorytools.fisher import gaussian_mu_logvar_hessian
    >>> H = gaussian_mu_logvar_hessian(2.0, 0.0, 0.0)
    >>> H.tolist(), round(float(np.linalg.det(H)), 6)
    ([[1.0, 2.0], [2.0, 2.0]], -2.0)
    """
    y, mu, gamma = as_float("y", y), as_float("mu", mu), as_float("gamma", gamma)
    r = y - mu
    with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite
        H = np.exp(-gamma) * np.array([[1.0, r], [r, 0.5 * r * r]])
    return _finite(f"H_L at (y, mu, gamma) = ({y:g}, {mu:g}, {gamma:g})", H)


def _softmax(z, axis: int = -1) -> np.ndarray:
    """softmax of a validated finite array along ``axis``: exp of the logits minus their maximum (no overflow; a
    probability below the float range becomes 0, also when z - max(z) itself overflows to -inf for logits 1e308
    apart)."""
    with np.errstate(under="ignore", over="ignore"):
        e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _complement(p, axis: int = -1) -> np.ndarray:
    """``1 - p_k`` for probabilities ``p`` along ``axis``, computed as ``sum_{j != k} p_j``: for a class with p_k near 1,
    ``1 - p_k`` in floating point is 0 (p = 1 - 4e-18 rounds to 1) while the sum of the others keeps its relative
    precision; F_R's diagonal p_k (1 - p_k) and the loss gradient's p_y - 1 depend on it."""
    p = np.moveaxis(p, axis, -1)
    K = p.shape[-1]
    return np.moveaxis(p @ (np.ones((K, K)) - np.eye(K)), -1, axis)


def softmax(z) -> np.ndarray:
    """``exp(z_k) / sum_j exp(z_j)`` along the last axis, for logits of any size (computed without overflow).

    The probabilities of the categorical R_{y|z} of 001_7d31b3ff3a2f0401.txt §9.2.

    Parameters
    ----------
    z : array_like
        Logits: a vector, or an array of them along the last axis.

    Returns
    -------
    numpy.ndarray
        The probabilities, the shape of ``z``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import softmax
    >>> np.round(softmax([0.0, np.log(3.0)]), 6).tolist()
    [0.25, 0.75]
    >>> softmax([0.0, 1000.0]).tolist()  # no overflow
    [0.0, 1.0]
    """
    z = as_array("z", z)
    if z.ndim == 0:
        raise ValueError(f"z must be a vector of logits (or an array of them along the last axis), got a scalar {z}")
    return _softmax(z)


def _categorical_fisher(p) -> np.ndarray:
    """diag(p) - p p^T from probabilities along the last axis (leading axes: a stack), its diagonal p_k (1 - p_k)
    computed with :func:`_complement`."""
    F = -p[..., :, None] * p[..., None, :]
    k = np.arange(p.shape[-1])
    F[..., k, k] = p * _complement(p)
    return F


def categorical_fisher(z) -> np.ndarray:
    """F_R = diag(p) - p p^T with p = softmax(z): the Fisher of the categorical distribution in its logits z.

    F_R is the Fisher in the natural parameters z (= the Hessian of the log-sum-exp loss, 001_7d31b3ff3a2f0401.txt
    §9.2).  Singular: F_R 1 = 0 (z + c 1 is the same distribution).  The diagonal is ``p_k sum_{j != k} p_j`` (equal
    to p_k - p_k^2), so that a dominant class (logits 40 apart: p = (4e-18, 1)) keeps its diagonal 4e-18 instead of
    the 0 of 1 - 1, and F_R 1 = 0 to rounding.

    Parameters
    ----------
    z : array_like
        A vector of K logits.

    Returns
    -------
    numpy.ndarray
        The K x K matrix ``diag(p) - p p^T``.

    Examples
    --------
    >>> from theorytools.fisher import categorical_fisher
    >>> F = categorical_fisher([0.0, 0.0])  # p = (1/2, 1/2)
    >>> F.tolist(), F.sum(axis=1).tolist()  # F_R 1 = 0
    ([[0.25, -0.25], [-0.25, 0.25]], [0.0, 0.0])
    """
    return _categorical_fisher(softmax(as_array("z", z, ndim=1)))


def categorical_fisher_pinv(z=None, *, p=None) -> np.ndarray:
    """``F_R^+``, the Moore-Penrose pseudo-inverse of the softmax output Fisher F_R = diag(p) - p p^T, in closed form.

    From the logits ``z`` (p = softmax(z); log-probabilities are logits) or, keyword-only, the probabilities ``p``.

    Source: 001_7d31b3ff3a2f0401.txt §9.2 (the multinomial R_{y|z} with softmax(z) its probabilities, z its natural
    parameters, so F_R = H_L = the Hessian of log-sum-exp = diag(p) - p p^T) and §13, whose bound and completed square
    use ``F_R^-1 grad_z log r``: F_R is never invertible here (F_R 1 = 0: z + c 1 is the same distribution), and
    grad_z log r = e_y - p lies in its range, so ``F_R^+`` replaces F_R^-1 exactly.

    Derivation (D = diag(p), all p_k > 0, 1^T p = 1, C = I - 1 1^T / K the orthogonal projector onto 1-perp):
    ``F^+ = C D^-1 C`` exactly -- the rank-one correction one might expect on top of C D^-1 C is zero.  Because
    ``F D^-1 = I - p 1^T`` and 1^T p = 1, ``F D^-1 F = (I - p 1^T)(D - p p^T) = D - 2 p p^T + p p^T = F``: D^-1 is a
    generalized inverse of F.  With X = C D^-1 C and F C = C F = F (F 1 = 0):  F X F = F D^-1 F = F;
    X F = C D^-1 F = C (I - 1 p^T) = C (C 1 = 0), symmetric, and F X = C likewise;  X F X = C X = X.  These are the four
    Penrose conditions, so X = F^+ (F^+ F = C: the null space of F is exactly span(1) when every p_k > 0).
    Entrywise, with n = K and u = 1/(n p):  ``X_ij = delta_ij / p_i - u_i - u_j + sum(u) / n``.

    Accuracy.  F^+ has entries up to ~1/p_min (up to 1.8e308), so the meaningful measure is not "relative to the
    norm" (that would allow an error of eps/p_min in an entry of size 1 beside it) but per entry, relative to its own
    diagonal: ``|error_ij| <= c K eps sqrt(X_ii X_jj)``, c small (tested to 8 K eps against mpmath at 60+ digits for
    p_min down to 1e-300, K = 2..6).  The bound follows from the formula: it is a sum of at most four terms, each at
    most twice in size the matching part of ``B_ij = sum_k |C_ik| |C_jk| / p_k`` (every ``|C_ik| >= 1/K``), and
    B_ij <= sqrt(B_ii B_jj) = sqrt(X_ii X_jj) (Cauchy-Schwarz).  Diagonal entries are thus accurate relative to
    themselves; an off-diagonal entry can be a cancellation (K = 3: X_12 = (1/p_3 - 2/p_1 - 2/p_2) / 9), and no method
    given p to rounding does better, since a relative perturbation eps of p moves X_ij by ~eps B_ij.  Nothing
    overflows unless an entry does: sum(u) <= max(1/p), the terms are summed in an order whose partial sums are bounded
    by the result's size.  From logits, 1/p_k = sum_j exp(z_j - z_k) is computed as ``s exp(m - z_k)`` (m = max z,
    s = sum_j exp(z_j - m)) with the rounding of the difference m - z_k restored (an error-free sum): the naive
    1/softmax(z)_k carries a relative error ``~eps |m - z_k|`` (1.5e-13 at 690 apart) and the subnormals of p; here it
    is a few eps for every gap.  (The older route (F + 1 1^T/K)^-1 - 1 1^T/K lost accuracy like eps/p_min.)

    Zero probabilities.  With ``p`` given and p_k = 0 exactly, F has a zero row and column k, its null space is
    span(1_S) + span(e_k) (S: the support), and F^+ is the formula on the support (n = ``|S|``) padded with zeros -- the
    Moore-Penrose inverse of that matrix, though not the limit p_k -> 0 (where F^+ grows like 1/p_k).  From logits,
    a class ~745 or more below the largest has softmax(z)_k = 0 in float64, and :func:`categorical_fisher` a zero row
    and column: the result is likewise the pseudo-inverse of that matrix (the exact F_R(z)^+ has entries beyond float64
    there).  A class with 0 < p_k < 1/1.8e308 (logits ~709.8 to 745 below the largest) has an entry 1/p_k beyond float64,
    a :class:`~theorytools.errors.NonFiniteError`; so does any other entry that overflows.

    ``p`` must be a non-negative vector summing to 1 within sqrt(eps) ~ 1.5e-8 (numpy.random.Generator.choice's
    tolerance); it is normalised by its sum, since diag(p) - p p^T is invertible when 1^T p != 1 and only the normalised
    matrix is a Fisher.  Otherwise a ValueError names ``p``.

    Parameters
    ----------
    z : array_like, optional
        A vector of K logits.
    p : array_like, optional
        Keyword-only: K probabilities instead of the logits.

    Returns
    -------
    numpy.ndarray
        The K x K matrix ``F_R^+``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import categorical_fisher, categorical_fisher_pinv
    >>> categorical_fisher_pinv([0.0, 0.0]).tolist()  # F_R = [[1, -1], [-1, 1]] / 4
    [[1.0, -1.0], [-1.0, 1.0]]
    >>> z = np.log([0.5, 0.25, 0.25])
    >>> F, X = categorical_fisher(z), categorical_fisher_pinv(z)
    >>> bool(np.allclose(F @ X @ F, F)), bool(np.allclose(X, categorical_fisher_pinv(p=[0.5, 0.25, 0.25])))
    (True, True)
    """
    if p is not None:
        if z is not None:
            raise ValueError("give either the logits z or the probabilities p, not both")
        return _categorical_fisher_pinv(_probabilities("p", p))
    if z is None:
        raise TypeError("z must be a vector of logits (or pass the probabilities as p=...), got None")
    z = as_array("z", z, ndim=1)
    return _pinv_on_support(_inverse_softmax(z), _softmax(z) > 0)


#: Tolerance on ``|sum(p) - 1|`` for probabilities given by the user (numpy.random.Generator.choice's).
PROB_SUM_TOL = float(np.sqrt(np.finfo(float).eps))


def _probabilities(name: str, p) -> np.ndarray:
    """``p`` validated as a probability vector (1-D, finite, non-negative, summing to 1 within PROB_SUM_TOL), divided
    by its sum."""
    p = as_array(name, p, ndim=1)
    if np.any(p < 0):
        k = int(np.flatnonzero(p < 0)[0])
        raise ValueError(f"{name} must be a probability vector (non-negative), entry {k} is {p[k]:g}")
    total = float(np.sum(p))
    if not abs(total - 1.0) <= PROB_SUM_TOL:
        raise ValueError(f"{name} must be a probability vector summing to 1 (within {PROB_SUM_TOL:.1e}), got sum {total!r}")
    return p / total


def _categorical_fisher_pinv(p) -> np.ndarray:
    """:func:`categorical_fisher_pinv` from probabilities ``p`` (not validated: summing to 1 to rounding)."""
    with np.errstate(over="ignore", divide="ignore"):
        inv = 1.0 / p  # inf where p = 0: outside the support, not used
    return _pinv_on_support(inv, p > 0, p)


def _inverse_softmax(z) -> np.ndarray:
    """``1 / softmax(z)_k = s exp(m - z_k)`` for finite logits z (m = max z, s = sum_j exp(z_j - m) in [1, K]), with the
    rounding of ``d_k = m - z_k`` restored by an error-free sum (exp(d + r) = exp(d) (1 + r), |r| <= ulp(d)/2): a few
    eps relative error for every gap, where 1/softmax(z) has eps |d_k|.  inf where it overflows (d_k > ~709.8)."""
    m = np.max(z)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        d = m - z
        bz = d - m  # TwoSum(m, -z): d + r == m - z exactly
        r = (m - (d - bz)) + (-z - bz)
        s = np.sum(np.exp(-d))
        inv = np.exp(d) * (1.0 + np.where(np.isfinite(r), r, 0.0)) * s
    return np.where(np.isnan(inv), np.inf, inv)


def _pinv_on_support(inv, support, p=None) -> np.ndarray:
    """``C_S diag(inv_S) C_S`` on the classes of the boolean mask ``support`` (C_S: the projector off 1 on S), zeros
    elsewhere; ``inv`` holds 1/p_k on S (ignored outside).  A NonFiniteError when an entry is beyond float64."""
    S = np.flatnonzero(support)
    inv = inv[S]
    if not np.all(np.isfinite(inv)):
        k = int(S[np.flatnonzero(~np.isfinite(inv))[0]])
        why = f"class {k} is more than ~709.8 below the largest logit" if p is None else f"p_{k} = {p[k]:.3g} < 1/1.8e308"
        raise NonFiniteError(f"F_R^+ has the entry 1/p_{k}, beyond float64 ({why})")
    n = S.size
    u = inv / n
    with np.errstate(over="ignore", invalid="ignore"):  # an entry beyond float64 is reported by _finite
        CinvC = np.diag(inv) - u[:, None] - u[None, :] + np.sum(u) / n
    out = np.zeros((support.size, support.size))
    out[np.ix_(S, S)] = CinvC
    return _finite("F_R^+", out)


def _categorical_fisher_pinv_apply(p, g) -> np.ndarray:
    """``F_R^+ g`` for a vector g with 1^T g = 0 in exact arithmetic (a score e_y - p, its entry 1 - p_y the others'
    sum), as ``C (g / p)`` (C D^-1 C g = C D^-1 g when C g = g): the product with the explicit F_R^+ cancels
    catastrophically when some p_k is small (entries ~1/p_min against a result of size ~1/p_y: logits 40 apart
    already lose every digit).  Classes with p_k = 0 are dropped (their g_k = -p_k = 0), as in the support formula."""
    S = p > 0
    out = np.zeros_like(g, dtype=float)
    with np.errstate(over="ignore"):
        w = g[S] / p[S]
    out[S] = w - np.mean(w)
    return _finite("F_R^+ g", out)
