"""KL divergence between two Gaussians in any of the four parameterizations, and its local quadratic form
(002_add1c097d251ec63.txt A.3, eqs 22-25: the Hessian of KL(p_theta || p_theta') in theta' at theta' = theta is F;
001_7d31b3ff3a2f0401.txt §5: KL(theta + d || theta) = 1/2 d^T F d + O(|d|^3))."""

from __future__ import annotations

import numpy as np

from theorytools.fisher.distributions import gaussian_fisher, gaussian_mean_sd


def gaussian_kl(z1, z2, param: str) -> float:
    """``KL(N(mu1, s1^2) || N(mu2, s2^2)) = ln(s2/s1) + (s1^2 + (mu1 - mu2)^2) / (2 s2^2) - 1/2``, the two distributions
    given by their coordinates in ``param``."""
    m1, s1 = gaussian_mean_sd(z1, param)
    m2, s2 = gaussian_mean_sd(z2, param)
    if not (s1 > 0 and s2 > 0):
        raise ValueError(f"both standard deviations must be > 0, got {s1}, {s2}")
    return float(np.log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2.0 * s2 * s2) - 0.5)


def kl_remainder(z, d, eps, param: str, direction: str = "forward") -> np.ndarray:
    """``KL - 1/2 eps^2 d^T F d`` along ``z + eps d`` for each ``eps``: ``"forward"`` is KL(z || z + eps d) (A.3's
    order), ``"reverse"`` KL(z + eps d || z).  Both are O(eps^3) in general; in a direction where the KL is exactly
    quadratic (e.g. the mean of a Gaussian) the remainder vanishes identically and has no order."""
    if direction not in ("forward", "reverse"):
        raise ValueError(f"direction must be 'forward' or 'reverse', got {direction!r}")
    z, d = np.asarray(z, dtype=float), np.asarray(d, dtype=float)
    F = gaussian_fisher(*gaussian_mean_sd(z, param), param)
    out = []
    for e in np.atleast_1d(eps):
        w = z + e * d
        kl = gaussian_kl(z, w, param) if direction == "forward" else gaussian_kl(w, z, param)
        out.append(kl - 0.5 * e * e * d @ F @ d)
    return np.array(out)
