"""Reports of a verification run: ``report.md``, ``report.json`` and PNG figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from verification.runner import Result, summary_counts
from verification.verdict import FAIL, MEASURED, PASS, SKIPPED

_STATUS_ORDER = (FAIL, PASS, MEASURED, SKIPPED)
_COLORS = {PASS: "#2b8a3e", FAIL: "#c92a2a", SKIPPED: "#868e96", MEASURED: "#1c7ed6"}


def _jsonable(x):
    """``x`` as JSON data.  A check's details may hold any object: numpy booleans and numbers become JSON ones,
    non-finite floats and everything else without a JSON form (complex numbers, paths, sets, user objects) its
    string, so that one odd detail cannot stop the report of a whole run."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (np.floating, float)):
        return float(x) if np.isfinite(x) else str(float(x))
    if isinstance(x, (np.integer, int)):
        return int(x)
    if x is None or isinstance(x, str):
        return x
    return str(x)


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s).strip("_")


def write_report(results: list[Result], out: Path, meta: dict) -> dict:
    """Write the three artefacts under ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    figures = write_figures(results, out)
    counts = summary_counts(results)
    doc = {
        "meta": meta,
        "summary": counts,
        "results": [
            {"check": r.check, "family": r.family, "kind": r.kind, "source": r.source, "instance": r.instance,
             "status": r.verdict.status, "message": r.verdict.message, "p_value": r.verdict.p_value,
             "details": r.verdict.details, "seconds": r.seconds}
            for r in results
        ],
        "errata": errata(results, meta),
        "figures": [str(f.name) for f in figures],
    }
    (out / "report.json").write_text(json.dumps(_jsonable(doc), indent=2))
    (out / "report.md").write_text(markdown(results, meta, figures))
    return {"json": out / "report.json", "md": out / "report.md", "figures": figures}


def errata(results: list[Result], meta: dict) -> list[dict]:
    """One entry per check with an ``erratum`` (what it shows wrong in its source): the statement, the verdicts and
    the exact command that reproduces it."""
    from verification.registry import CHECKS

    out: dict = {}
    for r in results:
        chk = CHECKS.get(r.check)
        if chk is None or not chk.erratum:
            continue
        e = out.setdefault(r.check, {"check": r.check, "source": r.source, "erratum": chk.erratum, "statuses": {}})
        e["statuses"][r.verdict.status] = e["statuses"].get(r.verdict.status, 0) + 1
    for e in out.values():
        flags = ["--full"] if meta.get("profile") == "full" else []
        flags += [f"--seed {meta.get('seed', 0)}"] + [f"--module {m}" for m in meta.get("modules", [])]
        e["command"] = f"theorytools-verify --only {e['check']} " + " ".join(flags)
    return list(out.values())


def summary_table(results: list[Result]) -> str:
    """One line per check: counts of each status over its instances."""
    rows = {}
    for r in results:
        rows.setdefault(r.check, {s: 0 for s in _STATUS_ORDER})[r.verdict.status] += 1
    width = max([len(c) for c in rows] + [5])
    head = f"{'check':<{width}}  " + "  ".join(f"{s:>8}" for s in _STATUS_ORDER)
    lines = [head, "-" * len(head)]
    for c in sorted(rows):
        lines.append(f"{c:<{width}}  " + "  ".join(f"{rows[c][s]:>8}" for s in _STATUS_ORDER))
    return "\n".join(lines)


def markdown(results: list[Result], meta: dict, figures) -> str:
    counts = summary_counts(results)
    lines = ["# theorytools verification report", ""]
    lines += [f"- {k}: `{v}`" for k, v in meta.items()]
    lines += ["", "**Summary:** " + ", ".join(f"{s} {counts.get(s, 0)}" for s in _STATUS_ORDER), ""]
    lines += ["```", summary_table(results), "```", ""]
    lines += ["| status | check | instance | source | message |", "|---|---|---|---|---|"]
    key = {s: i for i, s in enumerate(_STATUS_ORDER)}
    for r in sorted(results, key=lambda r: (key.get(r.verdict.status, 9), r.check, r.instance)):
        msg = r.verdict.message.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r.verdict.status} | `{r.check}` | {r.instance} | {r.source} | {msg} |")
    found = errata(results, meta)
    if found:
        lines += ["", "## Errata", "", "What the checks show to be false, misprinted or imprecise in the papers, with the "
                  "correction; each command reproduces the finding.", ""]
        for e in found:
            verdicts = ", ".join(f"{k} {v}" for k, v in sorted(e["statuses"].items()))
            lines += [f"- **`{e['check']}`** ({verdicts}): {e['erratum']}  ", f"  `{e['command']}`"]
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{f.stem}]({f.name})" for f in figures]
    return "\n".join(lines) + "\n"


def write_figures(results: list[Result], out: Path) -> list[Path]:
    """Per check family: one log-log panel per instance with curves from the verdicts' series,
    plus a bar chart of verdict counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    by_family: dict = {}
    for r in results:
        if r.verdict.series.get("k") is not None or r.verdict.series.get("paths"):
            by_family.setdefault((r.family, r.check), []).append(r)
    for (family, check), rs in sorted(by_family.items()):
        ncol = min(3, len(rs))
        nrow = -(-len(rs) // ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.9 * nrow), squeeze=False)
        for ax, r in zip(axes.flat, rs):
            _panel(ax, r)
        for ax in list(axes.flat)[len(rs):]:
            ax.set_visible(False)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=min(6, len(labels)), fontsize=8,
                   bbox_to_anchor=(0.5, 1.0 - 0.25 / (3.9 * nrow)))
        fig.suptitle(f"{check}  ({rs[0].source})", fontsize=10, y=1.0)
        fig.tight_layout(rect=(0, 0, 1, 1.0 - 0.55 / (3.9 * nrow)))
        path = out / f"{_slug(check)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    paths.append(_summary_figure(results, out, plt))
    return paths


def _positive(y):
    """Non-positive values (e.g. l(k) < 0 early on) cannot be drawn on a log axis: leave gaps."""
    y = np.asarray(y, dtype=float)
    return np.where(y > 0, y, np.nan)


def _paths_panel(ax, r: Result):
    """Trajectories in a parameter plane (linear axes), e.g. TANGO's Figure 1 in (mu, sigma)."""
    s = r.verdict.series
    for i, (label, (x, y)) in enumerate(s["paths"].items()):
        ax.plot(x, y, lw=1.6 if i == 0 else 1.0, color="black" if i == 0 else None, label=label)
    ax.set_xlabel(s.get("xlabel", "x"))
    ax.set_ylabel(s.get("ylabel", "y"))
    ax.set_title(f"{r.instance}\n[{r.verdict.status}]", fontsize=8, color=_COLORS.get(r.verdict.status, "black"))
    ax.grid(True, alpha=0.25)


def _panel(ax, r: Result):
    if r.verdict.series.get("paths"):
        return _paths_panel(ax, r)
    s = {key: (_positive(v) if key not in ("k", "xlabel", "ylabel", "exact_label", "bound_label") else v)
         for key, v in r.verdict.series.items()}
    k = np.asarray(s["k"], dtype=float)
    x = np.where(k > 0, k, 0.5)  # k = 0 drawn at 0.5 on the log axis
    ylabel = s.get("ylabel", r"$\mathbb{E}[h(\theta_k)] - h(\theta^*)$")
    if "lower" in s and "upper" in s:
        ax.fill_between(x, s["lower"], s["upper"], color="#ffd8a8", alpha=0.6, label=r"Theorem bounds $[l(k), u(k)]$")
        ax.plot(x, s["upper"], color="#e8590c", lw=1.0, ls="--", label=r"$u(k)$")
        ax.plot(x, s["lower"], color="#e8590c", lw=1.0, ls=":", label=r"$l(k)$")
    if "bound" in s:
        ax.plot(x, s["bound"], color="#e8590c", lw=1.0, ls="--", label=s.get("bound_label", "bound"))
    if "exact" in s:
        ax.plot(x, s["exact"], color="black", lw=1.4, label=s.get("exact_label", "exact"))
    if "mc_mean" in s:
        ax.fill_between(x, s["mc_lo"], s["mc_hi"], color="#74c0fc", alpha=0.5, label="Monte Carlo 99% CI")
        ax.plot(x, s["mc_mean"], color="#1971c2", lw=0.9, marker=".", ms=3, label="Monte Carlo mean")
    ax.set_xscale("log")
    ax.set_yscale("log")
    # Clip the y-range to 12 decades below the largest curve: a bound that underflows towards 1e-300
    # (e.g. (1 - eps)^{2k} with eps near 1) would otherwise squeeze every curve into one line.
    curves = [s[key] for key in ("exact", "upper", "lower", "bound", "mc_mean") if key in s]
    finite = np.concatenate([np.ravel(c)[np.isfinite(np.ravel(c))] for c in curves]) if curves else np.array([])
    if finite.size:
        top = float(finite.max())
        ax.set_ylim(max(float(finite.min()), top * 1e-12) / 2, top * 2)
    ax.set_xlabel(s.get("xlabel", r"iteration $k$"))
    ax.set_ylabel(ylabel)
    color = _COLORS.get(r.verdict.status, "black")
    ax.set_title(f"{r.instance}\n[{r.verdict.status}]", fontsize=8, color=color)
    ax.grid(True, which="major", alpha=0.25)


def _summary_figure(results, out: Path, plt) -> Path:
    checks = sorted({r.check for r in results})
    counts = {s: np.array([sum(1 for r in results if r.check == c and r.verdict.status == s) for c in checks])
              for s in _STATUS_ORDER}
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(checks) + 1.2))
    left = np.zeros(len(checks))
    for s in _STATUS_ORDER:
        ax.barh(checks, counts[s], left=left, color=_COLORS[s], label=s)
        left += counts[s]
    ax.set_xlabel("number of instances")
    ax.set_title("verdicts per check")
    ax.legend(fontsize=7, loc="lower right")
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    path = out / "summary.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
