"""
Bernacchia et al., Figure 1A: online natural gradient against SGD in a deep linear network
==========================================================================================

Online NGD (Eq. 20, :math:`\\alpha = 1`, with the adaptive damping of eq. 21) and SGD with the best learning rate of a
grid, from the same start, on the linear architecture of panel A of Figure 1 (``003_34787a2226c5cf0a.txt`` §5):
targets from a random teacher network of the same widths plus :math:`\\mathcal N(0, 10^{-6} I)` noise, inputs
:math:`\\mathcal N(0, \\Sigma)`. The test error is drawn against the training examples seen (the figure's top row) and
against wall-clock time (its bottom row); the dotted line is the minimum achievable, the noise variance.
:func:`theorytools.deeplinear.figure1.run` at ``size="quick"`` (4000 training samples; ``size="full"`` is the paper's
10\\ :sup:`4`).
"""

import matplotlib.pyplot as plt

from theorytools.deeplinear import figure1

res = figure1.run("A", size="quick", seed=0, progress=False)

fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained", sharey=True)
runs = {"NGD (Eq. 20, $\\alpha = 1$)": (res.ngd, "#1971c2"),
        f"SGD (best rate of the grid, {res.sgd_lr:g})": (res.sgd, "#e8590c")}
for ax, x, xlabel in ((axes[0], "examples", "training examples seen"), (axes[1], "seconds", "wall-clock time [s]")):
    for label, (hist, color) in runs.items():
        if hist is not None:
            ax.plot(getattr(hist, x), hist.test_error, color=color, lw=1.5, label=label)
    ax.axhline(res.min_achievable, color="black", ls=":", lw=1.0, label="minimum achievable (noise)")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.grid(True, alpha=0.3)
axes[0].set_ylabel("test error (mean squared)")
axes[0].legend(fontsize=8)
fig.suptitle(f"Figure 1A: a deep linear network of {len(res.widths) - 1} layers, widths {'-'.join(map(str, res.widths))}",
             fontsize=10)

# %%
# NGD reaches the noise floor within a few passes over the data, while SGD slows down far above it ("SGD made fast
# initial progress, but slowed down dramatically"): the check ``deeplinear.figure1_online_ngd`` turns this into a
# verdict for panels A-C.
print(f"final test error / minimum achievable: NGD {res.ngd.test_error[-1] / res.min_achievable:.2f}, "
      f"SGD {res.sgd.test_error[-1] / res.min_achievable:.3g}")
