"""
Ollivier, Figure 1: SGD, TANGO and averaged SGD against the natural gradient
============================================================================

Learning a Gaussian :math:`\\mathcal N(\\mu, \\sigma^2)` by gradient descent on :math:`(\\mu, \\ln\\sigma)`, from
:math:`\\mathcal N(0, 1)` with data :math:`\\mathcal N(10, 1)` (``000_3b01ec78f4f92394.txt`` Figure 1): SGD with learning
rate :math:`10^{-3}`, TANGO and averaged SGD with :math:`\\gamma = 10^{-2}` and :math:`\\delta t = 10^{-4}`, the paper's
parameters (the ``full`` profile of the check ``tango.figure1_paths``; its quick profile uses a 10 times larger
:math:`\\delta t`, where TANGO lags the natural-gradient path visibly). The natural-gradient path (eq. 12) is in
closed form; the three algorithms are simulated (:func:`~theorytools.tango.simulate_tango`) and their mean paths
drawn. The example runs the verification check itself, on fewer runs than the suite.
"""

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from verification.registry import CHECKS, load_all

load_all()
check = CHECKS["tango.figure1_paths"]
case = check.instances("full", 0)[0]  # the paper's parameters: sgd_lr 1e-3, gamma 1e-2, dt 1e-4, 10^5 steps
case = dataclasses.replace(case, params={**case.params, "runs": 8})  # 8 runs per method instead of 64: a few seconds
verdict = check(case, np.random.default_rng(0))
series = verdict.series

fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
for i, (name, (mu, sigma)) in enumerate(series["paths"].items()):
    ax.plot(mu, sigma, lw=2.2 if i == 0 else 1.3, color="black" if i == 0 else None, ls="-" if i == 0 else "--",
            label=name, zorder=3 if i else 2)
ax.set_xlabel(series["xlabel"])
ax.set_ylabel(series["ylabel"])
ax.set_title(r"Figure 1: $\gamma = 10^{-2}$, $\delta t = 10^{-4}$, mean of 8 runs per method", fontsize=10)
ax.grid(True, alpha=0.3)
ax.legend(fontsize=8, loc="upper right")

# %%
# The check's message: each method's largest distance to the natural-gradient curve, and its final mean. At the
# paper's :math:`\delta t` TANGO stays close to the natural-gradient path, which "starts by increasing variance so
# that :math:`\mu` moves faster" (the caption of Figure 1); averaged SGD and SGD take other paths to the same end
# point.
print(verdict.message.replace("; ", ";\n"))
