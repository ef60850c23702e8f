"""KL divergence between two Gaussians in any of the four parameterizations, and its local quadratic form
(002_add1c097d251ec63.txt A.3, eqs 22-25: the Hessian of KL(p_theta || p_theta') in theta' at theta' = theta is F;
001_7d31b3ff3a2f0401.txt §5: KL(theta + d || theta) = 1/2 d^T F d + O(|d|^3))."""

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
    """``KL(N(mu1, s1^2) || N(mu2, s2^2)) = ln(s2/s1) + (s1^2 + (mu1 - mu2)^2) / (2 s2^2) - 1/2``, the two distributions
    given by their coordinates in ``param``."""
    return _kl(*_mean_sd("z1", z1, param), *_mean_sd("z2", z2, param))


def kl_remainder(z, d, eps, param: str, direction: str = "forward") -> np.ndarray:
    """``KL - 1/2 eps^2 d^T F d`` along ``z + eps d`` for each ``eps``: ``"forward"`` is KL(z || z + eps d) (A.3's
    order), ``"reverse"`` KL(z + eps d || z).  Both are O(eps^3) in general; in a direction where the KL is exactly
    quadratic (e.g. the mean of a Gaussian) the remainder vanishes identically and has no order."""
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
