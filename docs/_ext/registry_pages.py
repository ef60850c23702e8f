"""Pages generated from the verification registries at build time (a small Sphinx extension).

Directives (each takes the optional ``:paper:``, a seed file name such as ``001_7d31b3ff3a2f0401.txt`` or ``none``
for what cites no paper, matched against the first seed file the record's source cites, and all but the readings
``:family:``, a check family such as ``quadratic``):

``.. registry-checks::``
    the registered checks (:data:`verification.registry.CHECKS`): name, kind, source, decision rule, hypotheses;
``.. registry-errata::``
    the errata (``erratum=`` of ``@check``), grouped by class, with the passage and its line, the evidence, the
    certificate re-evaluated now (:meth:`verification.errata.Erratum.certified`) and the command that reproduces it;
``.. registry-audit::``
    the audited proofs (:data:`verification.audit.PROOFS`), one row per statement;
``.. registry-readings::``
    the readings of ambiguous passages (``readings=`` of ``@check``), listed as the report's "Readings" section
    lists them (:func:`verification.report.readings`);
``.. registry-bounds::``
    the bounds registered for the hunt (:data:`verification.hunt.BOUNDS`);
``.. registry-counts::``
    one sentence with the numbers of checks, errata, audited proofs and bounds.

Everything is read from the registries after :func:`verification.registry.load_all`, so a check, an erratum, a proof
or a bound added to ``verification/`` changes the site without touching ``docs/``.  Text from the registries is
inserted as plain text (never parsed as reStructuredText), so a rule such as ``theta_k`` cannot turn into markup.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

REPO = Path(__file__).resolve().parents[2]
SEED = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")
NONE = "none"


def _load():
    from verification.registry import load_all

    load_all()


def _first_seed(text: str) -> str:
    m = SEED.search(text or "")
    return m.group(0) if m else NONE


def _text(text) -> nodes.Text:
    """Plain text, its runs of whitespace (line breaks of the source) made single spaces."""
    return nodes.Text(re.sub(r"\s+", " ", str(text)))


def _para(*parts) -> nodes.paragraph:
    p = nodes.paragraph()
    for part in parts:
        p += part if isinstance(part, nodes.Node) else _text(part)
    return p


def _literal(text) -> nodes.literal:
    return nodes.literal(text, text)


def _strong(text) -> nodes.strong:
    return nodes.strong(text, text)


def _emph(text) -> nodes.emphasis:
    return nodes.emphasis(text, text)


def _command(text: str) -> nodes.literal_block:
    block = nodes.literal_block(text, text)
    block["language"] = "bash"
    return block


def _block(x) -> nodes.Element:
    """``x`` as a body element: a block node as it is; a string, an inline node or a list of them as a paragraph."""
    if isinstance(x, nodes.Element) and not isinstance(x, nodes.Inline):
        return x
    return _para(*x) if isinstance(x, (list, tuple)) else _para(x)


def _field_list(fields) -> nodes.field_list:
    """A field list of ``(name, body)`` pairs (a body as :func:`_block` takes it)."""
    out = nodes.field_list()
    for name, body in fields:
        field = nodes.field()
        field += nodes.field_name(name, name)
        value = nodes.field_body()
        value += _block(body)
        field += value
        out += field
    return out


def _table(header, rows, widths, classes=("registry-table",)) -> nodes.table:
    """A table of ``rows`` (lists of cells: a string, a node, or a list of nodes)."""
    table = nodes.table(classes=[*classes, "colwidths-given"])  # the writer then emits the relative widths
    group = nodes.tgroup(cols=len(header))
    table += group
    for w in widths:
        group += nodes.colspec(colwidth=w)

    def row(cells):
        r = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += _block(cell)
            r += entry
        return r

    head = nodes.thead()
    head += row(header)
    group += head
    body = nodes.tbody()
    for cells in rows:
        body += row(cells)
    group += body
    return table


class _RegistryDirective(SphinxDirective):
    has_content = False
    option_spec = {"paper": directives.unchanged, "family": directives.unchanged}

    def keep(self, seed_text: str, family: str | None = None) -> bool:
        """Whether a record whose source (or seed) is ``seed_text`` and whose family is ``family`` is selected by the
        ``:paper:`` and ``:family:`` options."""
        paper = self.options.get("paper", "").strip()
        wanted = self.options.get("family", "").strip()
        return (not paper or _first_seed(seed_text) == paper) and (not wanted or family == wanted)

    def note_dependencies(self) -> None:
        """Re-read this page when the registries or the code they evaluate change (incremental builds)."""
        self.env.note_dependency(__file__)
        for package in ("verification", "theorytools"):
            for path in sorted((REPO / package).rglob("*.py")):
                self.env.note_dependency(str(path))

    def run(self):
        _load()
        self.note_dependencies()
        out = self.build()
        return out if out else [_para(_emph("None registered."))]


class ChecksDirective(_RegistryDirective):
    def build(self):
        from verification.registry import CHECKS

        checks = [c for name, c in sorted(CHECKS.items()) if self.keep(c.source, c.family)]
        if not checks:
            return []
        kinds = {}
        for c in checks:
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        summary = _para(f"{len(checks)} registered checks (" + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
                        + "); run them with ", _literal("theorytools-verify --only <name>"), ".")
        rows = []
        for c in checks:
            name = [_literal(c.name)]
            if c.erratum is not None:
                name += [" (erratum: ", _emph(c.erratum.category), ")"]
            rule = [c.rule] + ([f" Deterministic twin: {c.twin}."] if c.twin else [])
            rows.append([name, c.kind, c.source, rule, c.hypotheses or "none stated"])
        return [summary, _table(["check", "kind", "source", "decision rule", "hypotheses"], rows, [19, 12, 17, 34, 18])]


class ErrataDirective(_RegistryDirective):
    def build(self):
        from verification.errata import CLASSES
        from verification.registry import CHECKS

        found = [c for name, c in sorted(CHECKS.items()) if c.erratum is not None
                 and self.keep(c.erratum.seed or c.source, c.family)]
        order = {c: i for i, c in enumerate(CLASSES)}
        found.sort(key=lambda c: (order.get(c.erratum.category, len(order)), c.name))
        out, group = [], None
        for c in found:
            e = c.erratum
            if e.category != group:
                group = e.category
                out.append(nodes.rubric(group.capitalize(), group.capitalize()))
            item = nodes.container(classes=["erratum"], ids=[nodes.make_id(f"erratum-{c.name}")])
            item += _para(_literal(c.name), f" ({c.kind}; {c.source}): ", _strong(e.finding))
            fields = []
            if e.passage:
                fields.append(("Passage", _para(f"{e.seed}, line {e.line}: ", _emph(f"\u201c{e.passage}\u201d"))))
            if e.evidence:
                fields.append(("Evidence", _para(e.evidence)))
            cert = e.certified()
            if "instance" in cert:
                verdict = "certified" if cert["ok"] else "NOT certified"
                fields.append(("Certificate", _para(f"({cert['arithmetic']}) at {cert['instance']}: printed statement "
                                                    f"{'holds' if cert['printed_holds'] else 'fails'}, corrected "
                                                    f"{'holds' if cert['corrected_holds'] else 'fails'}"
                                                    + (f" ({cert['detail']})" if cert["detail"] else "") + ": ",
                                                    _strong(verdict))))
            elif cert.get("error"):
                fields.append(("Certificate", _para(cert["error"])))
            fields.append(("Reproduce", _command(f"theorytools-verify --only {c.name}")))
            item += _field_list(fields)
            out.append(item)
        if out:
            counts = {}
            for c in found:
                counts[c.erratum.category] = counts.get(c.erratum.category, 0) + 1
            out.insert(0, _para(f"{len(found)} errata: " + ", ".join(f"{counts[k]} {k}" for k in sorted(
                counts, key=lambda k: order.get(k, len(order)))) + "."))
        return out


class AuditDirective(_RegistryDirective):
    def build(self):
        from verification.audit import proofs_of
        from verification.registry import CHECKS

        proofs = [p for p in proofs_of() if self.keep(p.seed, CHECKS[p.check].family)]
        if not proofs:
            return []
        rows = []
        for p in proofs:
            false = [s.line for s in p.steps if s.checked and not s.holds]
            steps = f"{p.checked}/{len(p.steps)}" + (f" ({len(false)} false: lines {', '.join(map(str, false))})"
                                                     if false else "")
            hyp = [_emph("stated: "), "; ".join(p.stated) or "none"]
            if p.extra_hypotheses:
                hyp += [". ", _emph("used beyond them: "), _strong("; ".join(p.extra_hypotheses))]
            check = [_literal(p.check)]
            if CHECKS[p.check].erratum is not None:
                check += [" (erratum: ", _emph(CHECKS[p.check].erratum.category), ")"]
            rows.append([p.statement, f"{p.seed}:{p.line}", steps, hyp, p.result, check])
        summary = _para(f"{len(proofs)} audited proofs, {sum(p.checked for p in proofs)} steps evaluated numerically "
                        f"of {sum(len(p.steps) for p in proofs)}.")
        return [summary, _table(["statement", "proof at", "steps checked", "hypotheses", "result", "check"], rows,
                                [16, 14, 9, 25, 22, 14])]


class ReadingsDirective(_RegistryDirective):
    def build(self):
        from types import SimpleNamespace

        from verification.registry import CHECKS
        from verification.report import readings

        rows = [r for r in readings([SimpleNamespace(check=n) for n in sorted(CHECKS)]) if self.keep(r["seed"])]
        out = []
        for r in rows:
            item = nodes.container(classes=["reading"])
            item += _para(_strong(f"{r['seed']}, line {r['line']}: "), _emph(f"\u201c{r['passage']}\u201d"))
            checks = []
            for i, c in enumerate(r["checks"]):
                checks += ([", "] if i else []) + [_literal(c)]
            item += _field_list([("Followed", r["followed"]), ("Not followed", r["others"]),
                                 ("Consequence", r["consequence"]), ("Checks", _para(*checks))])
            out.append(item)
        return out


class BoundsDirective(_RegistryDirective):
    def build(self):
        from verification.hunt import BOUNDS

        bounds = [b for name, b in sorted(BOUNDS.items()) if self.keep(b.source, b.family)]
        if not bounds:
            return []
        rows = []
        for b in bounds:
            space = ", ".join(f"{k} in {v!r}" for k, v in b.space.items())
            known = [_emph(b.erratum.category), f": {b.erratum.finding}"] if b.erratum is not None else "none"
            rows.append([[_literal(b.name)], b.source, b.hypotheses or "none stated", space,
                         "yes" if b.certify is not None else "no", known])
        summary = _para(f"{len(bounds)} registered bounds; hunt one with ",
                        _literal("theorytools-verify --hunt --only <name>"), ", list them with ",
                        _literal("theorytools-verify --hunt --list"), ".")
        return [summary, _table(["bound", "source", "hypotheses", "space searched", "certify", "known erratum"], rows,
                                [17, 22, 18, 20, 6, 17])]


class CountsDirective(_RegistryDirective):
    def build(self):
        from verification.audit import proofs_of
        from verification.hunt import BOUNDS
        from verification.registry import CHECKS

        checks = [c for c in CHECKS.values() if self.keep(c.source, c.family)]
        return [_para(f"{len(checks)} checks, {sum(c.erratum is not None for c in checks)} of them with an erratum, "
                      f"{len([p for p in proofs_of() if self.keep(p.seed, CHECKS[p.check].family)])} audited proofs and "
                      f"{len([b for b in BOUNDS.values() if self.keep(b.source, b.family)])} bounds for the hunt are registered "
                      "today (counted when this site was built).")]


def setup(app):
    for name, cls in (("registry-checks", ChecksDirective), ("registry-errata", ErrataDirective),
                      ("registry-audit", AuditDirective), ("registry-readings", ReadingsDirective),
                      ("registry-bounds", BoundsDirective), ("registry-counts", CountsDirective)):
        app.add_directive(name, cls)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
