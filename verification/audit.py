"""The proof audit: every proof of the four papers, step by step.

A :class:`Proof` lists a statement's steps (each with its line in the seed file), the hypotheses the statement
states next to those the proof actually uses, and the audit's result.  It is registered with :func:`proof`, which
also registers one check that evaluates every numerically checkable step on instances from the hypothesis region:
the decorated function returns one :class:`~verification.verdict.Verdict` per checked step, in order.  A step the
audit found false is still "checked": its verdict PASSes when the step is shown to fail as the audit says (the
check compares the printed step with the true relation), so that a FAIL always means the audit does not reproduce.

The report's *Proof audit* section (:func:`verification.report.audit`) has one row per statement; a finding (a
false step, a hypothesis the proof uses but the statement omits) is also an :class:`~verification.errata.Erratum`
on the proof's check, so it is listed with the other errata.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from theorytools.linalg import as_bool, as_int, as_text
from verification.errata import _SEED
from verification.registry import CHECKS, check
from verification.verdict import FAIL, PASS, Verdict

#: statement name -> its audited proof, in registration order
PROOFS: dict[str, "Proof"] = {}


@dataclass(frozen=True)
class Step:
    """One step of a proof: ``claim`` as the proof writes it (short), ``line`` its line in the seed file.

    ``checked`` False marks a step with nothing to evaluate (a definition, a purely logical step): ``how`` then says
    why.  ``holds`` False marks a step the audit found false as written (its check shows it failing).

    Parameters
    ----------
    claim : str
        The step as the proof writes it.
    line : int
        Its line in the seed file (1-based).
    checked : bool, default True
        Whether the step is evaluated numerically.
    holds : bool, default True
        False for a step the audit found false as written.
    how : str, optional
        Why a step is not checked (required when ``checked`` is False).

    Examples
    --------
    >>> from verification import Step
    >>> s = Step("|a b| <= |a| |b|", line=120)
    >>> s.checked, s.holds, s.line
    (True, True, 120)
    >>> Step("let B = A^T A", line=121, checked=False, how="a definition").checked
    False
    """

    claim: str
    line: int
    checked: bool = True
    holds: bool = True
    how: str = ""

    def __post_init__(self):
        as_text("claim", self.claim)
        object.__setattr__(self, "line", as_int("line", self.line, low=1))
        for name in ("checked", "holds"):
            as_bool(name, getattr(self, name))
        as_text("how", self.how, nonempty=not self.checked)


@dataclass(frozen=True)
class Proof:
    statement: str      # "Lemma 17", "Proposition 4", "eq. 18 from eq. 10"
    seed: str           # the seed file
    line: int           # where the proof (or derivation) starts
    stated: tuple       # the hypotheses the statement states
    used: tuple         # the hypotheses the proof actually uses
    steps: tuple        # of Step
    result: str         # "sound", or what the audit found, in one sentence
    check: str          # the registered check that evaluates the steps

    @property
    def checked(self) -> int:
        return sum(s.checked for s in self.steps)

    @property
    def extra_hypotheses(self) -> tuple:
        """Hypotheses the proof uses that the statement does not state."""
        return tuple(h for h in self.used if h not in self.stated)


def _texts(name: str, x) -> tuple:
    """A list of hypotheses, each a string (a bare string is refused: it would read as its characters)."""
    if isinstance(x, (str, bytes)) or not hasattr(x, "__iter__"):
        raise TypeError(f"{name} must be a list of strings, got {x!r}")
    return tuple(as_text(name, h) for h in x)


def proof(*, statement: str, seed: str, line: int, stated, used, steps, result: str, family: str, instances,
          source: str, name: str | None = None, erratum=""):
    """Register the decorated function as the audit of one proof (see the module docstring).

    The function takes ``(instance, rng)`` and returns one Verdict per step with ``checked=True``, in order; the
    registered check (``family.name``) PASSes when every step reproduces as the audit states it.

    Parameters
    ----------
    statement : str
        The statement proved, e.g. ``"Lemma 17"``.
    seed : str
        The seed file.
    line : int
        Where the proof starts in the seed file (1-based).
    stated : sequence of str
        The hypotheses the statement states.
    used : sequence of str
        The hypotheses the proof actually uses.
    steps : sequence of Step
        The proof's steps, at least one of them checked.
    result : str
        ``"sound"``, or what the audit found, in one sentence.
    family : str
        The check's family.
    instances : callable
        ``instances(profile, seed)``, as for :func:`~verification.check`.
    source : str
        The check's source.
    name : str, optional
        The check's name (default: the function's).
    erratum : Erratum or str, optional
        The finding, listed with the errata.

    Returns
    -------
    callable
        The decorator; it registers the proof and its check and returns the function unchanged.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from verification import CHECKS, Step, Verdict, proof
    >>> from verification.audit import PROOFS
    >>> @proof(statement="(a + b)^2 = a^2 + 2ab + b^2", seed="001_7d31b3ff3a2f0401.txt", line=1, stated=[], used=[],
    ...        steps=[Step("expand the square", line=1)], result="sound", family="example", source="algebra",
    ...        instances=lambda profile, seed: [SimpleNamespace(name="a=1,b=2", a=1, b=2)])
    ... def square(instance, rng):
    ...     a, b = instance.a, instance.b
    ...     return [Verdict.close((a + b) ** 2, a * a + 2 * a * b + b * b, rtol=0.0)]
    >>> CHECKS["example.square"](SimpleNamespace(a=1, b=2), None).status
    'PASS'
    >>> del CHECKS["example.square"], PROOFS["(a + b)^2 = a^2 + 2ab + b^2"]  # leave the registries as they were
    """
    as_text("statement", statement)
    if not _SEED.fullmatch(as_text("seed", seed)):
        raise ValueError(f"seed must name a seed file such as '001_7d31b3ff3a2f0401.txt', got {seed!r}")
    steps = tuple(steps) if hasattr(steps, "__iter__") and not isinstance(steps, (str, bytes)) else ()
    if not steps or not all(isinstance(s, Step) for s in steps):
        raise TypeError(f"steps must be a non-empty sequence of Step, got {steps!r}")
    stated, used = _texts("stated", stated), _texts("used", used)
    line = as_int("line", line, low=1)
    as_text("result", result)
    checked = [s for s in steps if s.checked]
    if not checked:
        raise ValueError(f"{statement}: no step is checked numerically; a proof audit must evaluate at least one")

    rule = (f"each of the {len(checked)} checked steps of the proof of {statement} as the audit states it "
            f"({sum(not s.holds for s in checked)} false as printed); hypotheses used: {'; '.join(used) or 'none'}")
    register = check(source=source, family=family, kind="deterministic", rule=rule, instances=instances,
                     hypotheses="; ".join(stated) or "none", name=name, erratum=erratum)

    def deco(func):
        @wraps(func)
        def run(instance, rng):
            verdicts = list(func(instance, rng))
            if len(verdicts) != len(checked) or not all(isinstance(v, Verdict) for v in verdicts):
                raise TypeError(f"{func.__name__} must return one Verdict per checked step ({len(checked)}), got "
                                f"{len(verdicts)} objects")
            rows = [{"line": s.line, "claim": s.claim, "holds": s.holds, "status": v.status, "message": v.message}
                    for s, v in zip(checked, verdicts)]
            bad = [r for r in rows if r["status"] == FAIL]
            if bad:
                return Verdict(FAIL, "deterministic", f"{statement}: the audit does not reproduce at line {bad[0]['line']} "
                               f"({bad[0]['claim']}): {bad[0]['message']}", {"steps": rows})
            false = sum(not s.holds for s in checked)
            return Verdict(PASS, "deterministic", f"{statement}: {len(rows)} steps reproduced"
                           + (f", {false} of them false as printed" if false else ""), {"steps": rows})

        register(run)
        key = f"{family}.{name or run.__name__}"
        PROOFS[statement if statement not in PROOFS else f"{statement} ({key})"] = Proof(
            statement, seed, line, stated, used, steps, result, key)
        return func

    return deco


def proofs_of(family: str | None = None) -> list[Proof]:
    """The audited proofs whose check is registered (optionally of one family)."""
    return [p for p in PROOFS.values() if p.check in CHECKS and (family is None or CHECKS[p.check].family == family)]
