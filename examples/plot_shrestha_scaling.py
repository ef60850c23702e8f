"""
Shrestha, Figure 5: time and memory of one natural-gradient update
==================================================================

Seconds and peak memory of one update direction as the number of parameters :math:`P` grows, on squared-loss
networks with hidden layers of 20 units and a batch of 128 (``002_add1c097d251ec63.txt`` §4.4, Figure 5): exact NGD
(eq. 36, a :math:`P \\times P` system, stopped at the profile's largest :math:`P`), block-diagonal NGD with explicit
per-layer blocks (eq. 39), TENGraD (A.5, eqs 40-43, which never forms the Jacobian) and SGD.
:func:`theorytools.fisher.experiments.scaling` at ``size="full"``. The timings are medians of repeats on the machine
that built this page, while other work ran beside them: they vary from run to run, the memory (traced peak
allocations) does not.
"""

import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter

from theorytools.fisher import experiments

res = experiments.scaling("full", seed=0)

names = {"exact": "exact NGD (eq. 36)", "block_explicit": "block-diagonal NGD (eq. 39)", "tengrad": "TENGraD (A.5)",
         "sgd": "SGD"}
fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for m, r in res.items():
    axes[0].plot(r["P"], r["seconds"], marker="o", ms=4, label=names.get(m, m))
    axes[1].plot(r["P"], r["bytes"] / 2**20, marker="o", ms=4, label=names.get(m, m))
for ax, ylabel in ((axes[0], "time per update [s]"), (axes[1], "peak memory per update [MiB]")):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks([500, 1000, 2000, 5000], labels=["500", "1000", "2000", "5000"])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(r"number of parameters $P$")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
axes[0].legend(fontsize=8)
fig.suptitle("Figure 5: hidden layers of 20 units, batch 128", fontsize=10)

# %%
# Each method at the largest :math:`P` it was run at (the check ``fisher.shrestha_figure5_scaling`` reports the same
# numbers and their log-log slopes).
for m, r in res.items():
    print(f"{names[m]:<28} P = {r['P'][-1]:>5}: {r['seconds'][-1] * 1e3:8.2f} ms, {r['bytes'][-1] / 2**20:8.2f} MiB")
