"""
Martens, Theorem 5: the bounds, the exact risk and Monte Carlo
==============================================================

The iteration :math:`\\theta_{k+1} = \\theta_k - \\alpha B^{-1} g_k` with a constant step on a quadratic
(``001_7d31b3ff3a2f0401.txt`` §14.2): Theorem 5's band :math:`l(k) \\le \\mathbb{E}[h(\\theta_k)] - h(\\theta^*) \\le
u(k)`, the exact excess risk (eqn. 20, :func:`~theorytools.quadratic.excess_risk`) and a Monte Carlo estimate with its
99% confidence interval (:func:`~theorytools.quadratic.simulate`, Gaussian gradient noise of covariance
:math:`\\Sigma_g`).
"""

import matplotlib.pyplot as plt
import numpy as np

from theorytools.quadratic import Constant, excess_risk, random_problem, simulate, theorem5_bounds

p = random_problem(n=10, kappa=100.0, B_kind="I", Sigma_kind="H", seed=0)
step = Constant(0.5 / p.lambda_1)  # alpha lambda_1(B^-1 H) = 1/2: inside Theorem 5's hypotheses
ks = np.unique(np.logspace(0, 4, 80).astype(int))
exact = excess_risk(p, step, ks)
lower, upper = theorem5_bounds(p, step, ks)
k_mc = np.unique(np.logspace(0, 3, 13).astype(int))
mc = simulate(p, step, k=k_mc, runs=4000, seed=0)
lo, hi = mc.ci(0.99)

fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
ax.fill_between(ks, np.where(lower > 0, lower, np.nan), upper, color="#ffd8a8", alpha=0.7,
                label=r"Theorem 5's band $[l(k), u(k)]$")
ax.plot(ks, exact, color="black", lw=1.5, label=r"exact $\mathbb{E}[h(\theta_k)] - h(\theta^*)$ (eqn. 20)")
ax.errorbar(k_mc, mc.mean, yerr=[mc.mean - lo, hi - mc.mean], fmt="o", ms=3.5, color="#1971c2", capsize=2,
            label="Monte Carlo mean, 99% CI (4000 runs)")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel(r"iteration $k$")
ax.set_ylabel(r"excess risk $\mathbb{E}[h(\theta_k)] - h(\theta^*)$")
ax.set_title(r"Constant step $\alpha = 0.5/\lambda_1$, $B = I$, $n = 10$, $\kappa(H) = 100$", fontsize=10)
ax.grid(True, which="major", alpha=0.3)
ax.legend(fontsize=8)

# %%
# The exact curve and the Monte Carlo means agree within their intervals, and both stay inside the band; the exact risk
# levels off at the noise floor :math:`\frac{\alpha}{4}\operatorname{tr}((B - \frac{\alpha}{2}H)^{-1}\Sigma_g)`
# (:func:`~theorytools.quadratic.constant_noise_floor`) that :math:`u(k)` and :math:`l(k)` approach from either side.
inside = np.all((lower <= exact * (1 + 1e-12)) & (exact <= upper * (1 + 1e-12)))
covered = np.mean((lo <= excess_risk(p, step, k_mc)) & (excess_risk(p, step, k_mc) <= hi))
print(f"exact risk inside Theorem 5's band at every k: {inside}; Monte Carlo 99% intervals covering it: {covered:.0%}")
