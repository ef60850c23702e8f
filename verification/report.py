"""Reports of a verification run: ``report.md``, ``report.json`` and PNG figures."""

from __future__ import annotations

import json
import re
import textwrap
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


def write_report(results: list[Result], out: Path, meta: dict, hunt: list[dict] | None = None) -> dict:
    """Write the three artefacts under ``out``; return the paths written.  ``hunt``: the results of
    :func:`verification.hunt.hunt`, one per bound (the "Tightness" section and the ``hunt`` list of report.json)."""
    out.mkdir(parents=True, exist_ok=True)
    figures = write_figures(results, out) if results else []
    if hunt is not None:
        hunt = [_with_tightness_figure(row, out) for row in hunt]
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
        "readings": readings(results),
        "proof_audit": audit(results),
        "figures": [str(f.name) for f in figures],
    }
    if hunt is not None:
        doc["hunt"] = hunt
    (out / "report.json").write_text(json.dumps(_jsonable(doc), indent=2))
    (out / "report.md").write_text(markdown(results, meta, figures, hunt))
    return {"json": out / "report.json", "md": out / "report.md", "figures": figures}


def errata(results: list[Result], meta: dict) -> list[dict]:
    """One entry per check with an ``erratum`` (what it shows wrong in its source): its class, the passage with its
    line, the evidence and its certificate (re-evaluated now, :meth:`~verification.errata.Erratum.certified`), the
    verdicts and the exact command that reproduces it; ordered by class."""
    from verification.errata import CLASSES
    from verification.registry import CHECKS

    out: dict = {}
    for r in results:
        chk = CHECKS.get(r.check)
        if chk is None or chk.erratum is None:
            continue
        e = out.setdefault(r.check, {"check": r.check, "source": r.source, **chk.erratum.as_dict(), "statuses": {}})
        e["statuses"][r.verdict.status] = e["statuses"].get(r.verdict.status, 0) + 1
    for name, e in out.items():
        e["certificate"] = CHECKS[name].erratum.certified()
        flags = ["--full"] if meta.get("profile") == "full" else []
        flags += [f"--seed {meta.get('seed', 0)}"] + [f"--module {m}" for m in meta.get("modules", [])]
        e["command"] = f"theorytools-verify --only {e['check']} " + " ".join(flags)
    order = {c: i for i, c in enumerate(CLASSES)}
    return sorted(out.values(), key=lambda e: (order.get(e["class"], len(order)), e["check"]))


def readings(results: list[Result]) -> list[dict]:
    """One entry per :class:`~verification.errata.Reading` declared by a check that ran: the passage, the reading
    followed, the others, the consequence, and the checks resting on it; ordered by seed and line."""
    from verification.registry import CHECKS

    out: dict = {}
    for name in dict.fromkeys(r.check for r in results):
        for reading in getattr(CHECKS.get(name), "readings", ()):
            out.setdefault(reading, {**reading.as_dict(), "checks": []})["checks"].append(name)
    return sorted(out.values(), key=lambda e: (e["seed"], e["line"]))


def _readings_markdown(rows: list[dict]) -> list[str]:
    lines = ["", "## Readings", "", "Passages the toolkit had to interpret: the reading it follows and the others. The "
             "checks listed rest on the reading followed; a different reading is a choice, not a finding.", ""]
    for e in rows:
        lines += [f"- *{e['seed']}, line {e['line']}*: \"{e['passage']}\"  ",
                  f"  *Followed*: {e['followed']}  ", f"  *Not followed*: {e['others']}  ",
                  f"  *Consequence*: {e['consequence']}  ", "  Checks: " + ", ".join(f"`{c}`" for c in e["checks"])]
    return lines


def audit(results: list[Result]) -> list[dict]:
    """One row per audited proof whose check ran: the statement, where its proof is, the steps checked, the
    hypotheses stated and used, the result, and the verdicts of its check (:mod:`verification.audit`)."""
    from verification.audit import proofs_of

    statuses: dict = {}
    for r in results:
        statuses.setdefault(r.check, {}).setdefault(r.verdict.status, 0)
        statuses[r.check][r.verdict.status] += 1
    return [{"statement": p.statement, "seed": p.seed, "line": p.line, "steps": len(p.steps), "checked": p.checked,
             "false_steps": [s.line for s in p.steps if not s.holds], "stated": list(p.stated), "used": list(p.used),
             "extra_hypotheses": list(p.extra_hypotheses), "result": p.result, "check": p.check,
             "statuses": statuses[p.check]} for p in proofs_of() if p.check in statuses]


def _errata_markdown(found: list[dict]) -> list[str]:
    lines = ["", "## Errata", "", "What the checks show to be wrong in the papers, grouped by class (false: a "
             "counterexample exists; misprint: the printed formula differs from the one the text derives or uses; "
             "missing hypothesis: true once a condition is added; imprecise: true, but weaker, ambiguous, or true for "
             "another reason). Each certificate re-evaluates the printed and the corrected statement on the smallest "
             "counterexample; each command reproduces the finding.", ""]
    group = None
    for e in found:
        if e["class"] != group:
            group = e["class"]
            lines += [f"### {group.capitalize()}", ""]
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(e["statuses"].items()))
        lines += [f"- **`{e['check']}`** ({verdicts}): {e['finding']}  "]
        if e["passage"]:
            lines += [f"  *Passage* ({e['seed']}, line {e['line']}): \"{e['passage']}\"  "]
        if e["evidence"]:
            lines += [f"  *Evidence*: {e['evidence']}  "]
        c = e["certificate"]
        if "instance" in c:
            lines += [f"  *Certificate* ({c['arithmetic']}) at {c['instance']}: printed statement "
                      f"{'holds' if c['printed_holds'] else 'fails'}, corrected {'holds' if c['corrected_holds'] else 'fails'}"
                      f"{' (' + c['detail'] + ')' if c['detail'] else ''}: **{'certified' if c['ok'] else 'NOT certified'}**  "]
        elif c.get("error"):
            lines += [f"  *Certificate*: {c['error']}  "]
        lines += [f"  `{e['command']}`"]
    return lines


def _audit_markdown(rows: list[dict]) -> list[str]:
    lines = ["", "## Proof audit", "", "Every audited proof: its steps (those evaluated numerically on instances of "
             "the hypothesis region, of all), the hypotheses the statement states and those the proof uses, and the "
             "result; the check reproduces it.", "",
             "| statement | proof at | steps checked | stated | used (beyond stated in bold) | result | check |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        used = "; ".join(f"**{h}**" if h in r["extra_hypotheses"] else h for h in r["used"]) or "none"
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(r["statuses"].items()))
        false = f" ({len(r['false_steps'])} false: lines {', '.join(map(str, r['false_steps']))})" if r["false_steps"] else ""
        cells = [r["statement"], f"{r['seed']}:{r['line']}", f"{r['checked']}/{r['steps']}{false}",
                 "; ".join(r["stated"]) or "none", used, r["result"], f"`{r['check']}` ({verdicts})"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return lines


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


def hunt_label(row: dict) -> str:
    """A hunted bound's outcome in words: a certified violation of a bound with a known erratum is *rediscovered*, of
    any other bound a *NEW violation*."""
    if row["status"] == "violated":
        return "rediscovered (known erratum)" if row["known_erratum"] else "NEW violation"
    if row["status"] == "holds" and row["known_erratum"]:
        return "holds (known erratum not found)"
    return row["status"]


def _with_tightness_figure(row: dict, out: Path) -> dict:
    """``row`` without its ``trace``, and with ``figure``: the file name of its Tightness figure (None without a
    trace or a feasible point)."""
    from verification.hunt import BOUNDS
    from verification.hunt_figure import tightness_figure

    row = dict(row)
    trace = row.pop("trace", None)
    path = None
    if trace is not None and row["bound"] in BOUNDS:
        path = tightness_figure({**row, "trace": trace}, BOUNDS[row["bound"]], out / f"hunt_{row['bound']}.png")
    row["figure"] = path.name if path else None
    return row


def _tightness_markdown(rows: list[dict]) -> list[str]:
    from verification.hunt import describe

    lines = ["", "## Tightness", "", "Each bound lhs <= rhs searched for its worst case (`theorytools-verify --hunt`): "
             "differential evolution then Nelder-Mead on log(lhs/rhs) (log(rhs/lhs) where both sides are negative, the "
             "signed relative gap where their signs differ). The worst ratio is lhs/rhs (|rhs|/|lhs| for negative "
             "sides; > 1 is a violation), or the gap. A violation counts only when certified in exact rationals or mpmath at 50 digits; the "
             "counterexample is shrunk (smallest integers, then short rationals) and still certified.", "",
             "| bound | status | worst ratio (or relative gap) | where | evaluations | seconds | certified counterexample | figure |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = "" if r["worst_ratio"] is None else f"{r['worst_ratio']:.6g}"
        if r.get("measure") == "relative gap":
            ratio = f"gap {ratio}"
        example = describe(r["counterexample"]) + (f" ({r['certificate']})" if r["certificate"] else "")
        first = ("" if r.get("first_seen_evaluations") is None else
                 f"; violated first after {r['first_seen_evaluations']} evaluations, {r['first_seen_seconds']:.1f} s")
        figure = f"[score]({r['figure']})" if r.get("figure") else ""
        cells = [f"`{r['bound']}`", hunt_label(r), ratio, describe(r["point"]), f"{r['evaluations']} "
                 f"({r['feasible']} feasible)", f"{r['seconds']:.1f} ({r['stopped']}{first})", example, figure]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return lines


def _verdicts_markdown(results: list[Result]) -> list[str]:
    counts = summary_counts(results)
    lines = ["", "**Summary:** " + ", ".join(f"{s} {counts.get(s, 0)}" for s in _STATUS_ORDER), ""]
    lines += ["```", summary_table(results), "```", ""]
    lines += ["| status | check | instance | source | message |", "|---|---|---|---|---|"]
    key = {s: i for i, s in enumerate(_STATUS_ORDER)}
    for r in sorted(results, key=lambda r: (key.get(r.verdict.status, 9), r.check, r.instance)):
        msg = r.verdict.message.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r.verdict.status} | `{r.check}` | {r.instance} | {r.source} | {msg} |")
    return lines


def markdown(results: list[Result], meta: dict, figures, hunt: list[dict] | None = None) -> str:
    lines = ["# theorytools verification report", ""]
    lines += [f"- {k}: `{v}`" for k, v in meta.items()]
    if results or not hunt:  # a hunt alone (--hunt) runs no check: no empty verdict table
        lines += _verdicts_markdown(results)
    found = errata(results, meta)
    if found:
        lines += _errata_markdown(found)
    read = readings(results)
    if read:
        lines += _readings_markdown(read)
    audited = audit(results)
    if audited:
        lines += _audit_markdown(audited)
    if hunt:
        lines += _tightness_markdown(hunt)
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
        title = textwrap.fill(f"{check}  ({rs[0].source})", 45 + 35 * ncol)  # wrapped to the figure's width
        extra = 0.18 * title.count("\n")  # inches taken by the title's further lines
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=min(6, len(labels)), fontsize=8,
                   bbox_to_anchor=(0.5, 1.0 - (0.25 + extra) / (3.9 * nrow)))
        fig.suptitle(title, fontsize=10, y=0.995, va="top")
        fig.tight_layout(rect=(0, 0, 1, 1.0 - (0.55 + extra) / (3.9 * nrow)))
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
    # iterations k on a log axis (k = 0 drawn at 0.5); a continuous time t on a linear one, where an exponential decay
    # is a straight line (at 0.5 a t = 0 would add a segment back to a time that is not on the curve)
    iterations = bool(np.all(k == np.round(k)))
    x = np.where(k > 0, k, 0.5) if iterations else k
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
    ax.set_xscale("log" if iterations else "linear")
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
