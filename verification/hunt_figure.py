"""The Tightness figure of a hunted bound: its score (``log(lhs/rhs)``, :func:`verification.hunt._scores`) over the two
parameters that move it most."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from verification.hunt import SIGN_SPAN, Bound, LogInteger, LogReal


def influential(trace: dict, count: int = 2, bins: int = 10) -> list[int]:
    """Indices of the ``count`` parameters that move the score most, most influential first.

    A parameter's influence is the spread of the score's upper envelope along it: the feasible evaluated points are
    split into ``bins`` quantile bins of that parameter, and the influence is the largest minus the smallest of the
    bins' best scores.  A parameter that does not matter reaches the worst score in every bin (the others are free),
    however the search concentrated its points; a parameter the violation needs does not."""
    ok = np.isfinite(trace["score"])
    values, score = trace["values"][ok], trace["score"][ok]
    spread = []
    for column in values.T:
        edges = np.unique(np.quantile(column, np.linspace(0.0, 1.0, bins + 1)))
        which = np.clip(np.searchsorted(edges, column, side="right") - 1, 0, max(len(edges) - 2, 0))
        best = [score[which == b].max() for b in np.unique(which)]
        spread.append(float(np.max(best) - np.min(best)) if len(best) > 1 else 0.0)
    return sorted(range(len(spread)), key=lambda i: -spread[i])[:count]


def tightness_figure(row: dict, bound: Bound, path: Path) -> Path | None:
    """Scatter of the evaluated points over the two most influential parameters (log axes for LogReal/LogInteger),
    coloured by the score, with the worst point starred; None when no point met the hypotheses."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trace = row["trace"]
    ok = np.isfinite(trace["score"])
    if not ok.any():
        return None
    names = trace["names"]
    picks = influential(trace)
    fig, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    values, score = trace["values"][ok], trace["score"][ok]
    order = np.argsort(score)  # the worst drawn last, on top
    label = "score: log(lhs/rhs)  (> 0: violated)"
    mixed = np.abs(score) >= SIGN_SPAN  # sides of different signs: +-SIGN_SPAN + relative gap, off the ratios' scale
    if mixed.any():
        score = np.clip(score, np.min(score[~mixed], initial=-1.0) - 1.0, np.max(score[~mixed], initial=1.0) + 1.0)
        label += ";  sides of different signs drawn at the ends"
    if len(picks) == 1:
        ax.scatter(values[order, picks[0]], score[order], s=6, c=score[order], cmap="viridis")
        ax.set_ylabel(label)
    else:
        art = ax.scatter(values[order, picks[0]], values[order, picks[1]], s=6, c=score[order], cmap="viridis")
        fig.colorbar(art, ax=ax, label=label)
        ax.set_ylabel(names[picks[1]])
        if isinstance(bound.space[names[picks[1]]], (LogReal, LogInteger)):
            ax.set_yscale("log")
        if row["point"] is not None:
            ax.plot(float(row["point"][names[picks[0]]]), float(row["point"][names[picks[1]]]), marker="*", ms=16,
                    mfc="red", mec="black", ls="none", label=f"worst: ratio {row['worst_ratio']:.4g}")
            ax.legend(loc="best", fontsize=8)
    ax.set_xlabel(names[picks[0]])
    if isinstance(bound.space[names[picks[0]]], (LogReal, LogInteger)):
        ax.set_xscale("log")
    ax.set_title(f"{row['bound']}: {row['status']}\n{bound.source[:90]}", fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
