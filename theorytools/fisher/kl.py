"""KL divergence between two Gaussians in any of the four parameterizations, and its local quadratic form
(002_add1c097d251ec63.txt A.3, eqs 22-25: the Hessian of KL(p_theta || p_theta') in theta' at theta' = theta is F;
001_7d31b3ff3a2f0401.txt §5: ``KL(theta + d || theta) = 1/2 d^T F d + O(|d|^3)``)."""

from __future__ import annotations

import numpy as np

from theorytools.fisher.distributions import _finite, _mean_sd, gaussian_fisher
from theorytools.linalg import as_array, as_choice, as_vector

DIRECTIONS = ("forward", "reverse")


def _kl(m1, s1, m2, s2) -> float:
    # in ratios: s1^2 and s2^2 separately overflow for sigma > 1e154 (ln sigma > 355), where the KL is still moderate;
    # squares as products (Python's float ** raises OverflowError where a product gives inf, reported by _finite)
    ratio, shift = s1 / s2, (m1 - m2) / s2
    kl = np.log(s2) - np.log(s1) + (ratio * ratio + shift * shift) / 2.0 - 0.5
    return float(_finite("the KL divergence", kl))


def gaussian_kl(z1, z2, param: str) -> float:
    """The KL divergence between two 1-D Gaussians given by their coordinates in ``param``.

    ``KL(N(mu1, s1^2) || N(mu2, s2^2)) = ln(s2/s1) + (s1^2 + (mu1 - mu2)^2) / (2 s2^2) - 1/2`` (the divergence of
    002_add1c097d251ec63.txt A.3).

    Parameters
    ----------
    z1, z2 : array_like
        The coordinates of the two Gaussians (two numbers each).
    param : str
        One of :data:`~theorytools.fisher.PARAMS`.

    Returns
    -------
    float
        ``KL(z1 || z2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import gaussian_kl
    >>> gaussian_kl([0.0, 1.0], [1.0, 1.0], "mu_sigma")  # (mu1 - mu2)^2 / 2
    0.5
    >>> kl = gaussian_kl([0.0, 0.0], [0.0, np.log(2.0)], "mu_log_sigma")  # ln 2 + 1/8 - 1/2
    >>> bool(np.isclose(kl, np.log(2.0) - 0.375))
    True
    """
    return _kl(*_mean_sd("z1", z1, param), *_mean_sd("z2", z2, param))


def kl_remainder(z, d, eps, param: str, direction: str = "forward") -> np.ndarray:
    """The remainder ``KL - 1/2 eps^2 d^T F d`` of the KL along ``z + eps d``, for each ``eps``.

    ``"forward"`` is KL(z || z + eps d) (002_add1c097d251ec63.txt A.3's order), ``"reverse"`` KL(z + eps d || z).
    Both are O(eps^3) in general; in a direction where the KL is exactly quadratic (e.g. the mean of a Gaussian) the
    remainder vanishes identically and has no order.

    Parameters
    ----------
    z : array_like
        The coordinates of the Gaussian (two numbers).
    d : array_like
        The direction (two numbers).
    eps : float or array_like
        The step length(s).
    param : str
        One of :data:`~theorytools.fisher.PARAMS`.
    direction : str, default "forward"
        ``"forward"`` or ``"reverse"``.

    Returns
    -------
    numpy.ndarray
        The remainder for each ``eps``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.fisher import kl_remainder
    >>> bool(np.allclose(kl_remainder([0.0, 1.0], [1.0, 0.0], [0.1, 0.2], "mu_sigma"), 0.0, atol=1e-15))  # the mean
    True
    >>> r = kl_remainder([0.0, 0.0], [0.0, 1.0], [0.01, 0.02], "mu_log_sigma")
    >>> print(f"{r[1] / r[0]:.1f}")  # O(eps^3): doubling eps multiplies it by about 8
    8.0
    """
    direction = as_choice("direction", direction, DIRECTIONS)
    z, d = as_vector("z", z, 2), as_vector("d", d, 2)
    eps = as_array("eps", eps)
    if eps.ndim > 1:
        raise ValueError(f"eps must be a number or a vector of them, got shape {eps.shape}")
    F = gaussian_fisher(*_mean_sd("z", z, param), param)
    out = []
    for e in np.atleast_1d(eps):
        w = z + e * d
        here, there = _mean_sd("z", z, param), _mean_sd(f"z + eps d (eps = {e:g})", w, param)
        kl = _kl(*here, *there) if direction == "forward" else _kl(*there, *here)
        out.append(kl - 0.5 * e * e * d @ F @ d)
    return np.array(out)
