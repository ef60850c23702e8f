"""Errata as data: what a check shows to be wrong in its source, classed, quoted and certified.

A finding about a paper is what a reader quotes, so each one says

* its **class** (:data:`CLASSES`): *false* (a counterexample exists), *misprint* (the printed formula differs from the
  one the text derives or uses), *missing hypothesis* (true once a stated condition is added), *imprecise* (true, but
  weaker than it could be, ambiguous, or true for another reason than the one given);
* the **passage**: a short quote and its line number in the seed file (``../shared/seeds``), found by
  :func:`passage_at`;
* the **evidence**: the smallest counterexample, and a ``certify`` function that re-evaluates the printed statement and
  the corrected one on it in exact arithmetic (sympy rationals, exact enumeration) or with mpmath at 50 digits and a
  margin above rounding, returning a :class:`Certificate`.

Where the text already qualifies its statement the finding says what is actually wrong and no more.  A user's
``--module`` may still pass a plain string as ``erratum=``; it is shown as *unclassified*.

A :class:`Reading` is not a finding: it records a passage the toolkit had to interpret (an index that may start at 0
or 1, a rule the text gives in words only), the reading it follows, the others, and what would change.  Checks that
rest on a reading declare it (``@check(readings=...)``) and the report lists it, so that a choice is shown as a
choice rather than passed off as verified.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from theorytools.linalg import as_bool, as_callable, as_choice, as_int, as_text

CLASSES = ("false", "misprint", "missing hypothesis", "imprecise")
UNCLASSIFIED = "unclassified"
_SEED = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")


def seeds_dir() -> Path:
    """The folder of the papers' text: ``$THEORYTOOLS_SEEDS``, else ``../shared/seeds`` beside the repository."""
    return Path(os.environ.get("THEORYTOOLS_SEEDS", Path(__file__).resolve().parents[2] / "shared" / "seeds"))


def _words(text: str) -> str:
    """``text`` with its whitespace collapsed and line-end hyphenation undone, for quoting across line breaks."""
    return " ".join(re.sub(r"-\s*\n\s*", "", text).split())


@lru_cache(maxsize=None)
def _lines(path: Path) -> tuple:
    return tuple(path.read_text(encoding="utf-8").splitlines())


def passage_at(seed: str, line: int, passage: str, span: int = 4) -> bool:
    """Whether ``passage`` is quoted from ``seed`` starting on line ``line`` (1-based): it occurs, whitespace
    collapsed, in the text of lines ``line`` to ``line + span - 1`` and starts on ``line``."""
    lines = _lines(seeds_dir() / seed)
    if not 1 <= line <= len(lines):
        return False
    window = _words("\n".join(lines[line - 1:line - 1 + span]))
    first = _words(lines[line - 1])
    at = window.find(_words(passage))
    return bool(passage.strip()) and 0 <= at < len(first)


@dataclass(frozen=True)
class Certificate:
    """The printed statement and the corrected one evaluated on one instance by a route that leaves no doubt.

    ``instance`` names it as a reader would write it (``a = b = 1, k = 3000``); ``printed`` and ``corrected`` say
    whether each statement holds there; ``arithmetic`` names the route (``exact rationals (sympy)``, ``exhaustive
    enumeration``, ``mpmath 50 digits, margin 1e-30``); ``detail`` gives the two sides' values.

    Parameters
    ----------
    instance : str
        The counterexample, as a reader would write it.
    printed : bool
        Whether the printed statement holds there.
    corrected : bool
        Whether the corrected statement holds there.
    arithmetic : str
        The route of the evaluation.
    detail : str, optional
        The two sides' values.

    Examples
    --------
    >>> from fractions import Fraction
    >>> from verification import Certificate
    >>> x = Fraction(1, 2)
    >>> c = Certificate("x = 1/2", printed=x * x >= x, corrected=x * x <= x, arithmetic="exact rationals")
    >>> c.printed, c.corrected
    (False, True)
    """

    instance: str
    printed: bool
    corrected: bool
    arithmetic: str
    detail: str = ""

    def __post_init__(self):
        for name in ("instance", "arithmetic"):
            as_text(name, getattr(self, name))
        as_text("detail", self.detail, nonempty=False)
        for name in ("printed", "corrected"):
            object.__setattr__(self, name, as_bool(name, getattr(self, name)))


@dataclass(frozen=True)
class Erratum:
    """One finding about a paper (see the module docstring).

    ``finding`` says what is wrong and the correction, in one or two sentences; ``evidence`` names the smallest
    counterexample and how "smallest" (or a rate, or a range) was established.  ``certify()`` returns a
    :class:`Certificate`; it is required for every class but *imprecise* (an imprecise statement may have no
    counterexample: ``evidence`` then says what shows the gap).

    Parameters
    ----------
    category : str
        One of :data:`CLASSES` (or ``"unclassified"`` for a user's plain string).
    finding : str
        What is wrong, and the correction.
    seed : str
        The seed file, e.g. ``"001_7d31b3ff3a2f0401.txt"``.
    line : int
        The passage's line in the seed file (1-based).
    passage : str
        A short quote of the passage.
    evidence : str
        The smallest counterexample and how it was established.
    certify : callable, optional
        Returns the :class:`Certificate` of the counterexample (required unless *imprecise*).

    Examples
    --------
    >>> from verification import Certificate, Erratum
    >>> e = Erratum("false", "x^2 >= x fails on (0, 1); x^2 <= x holds there.", seed="001_7d31b3ff3a2f0401.txt",
    ...             line=1, passage="x^2 >= x", evidence="x = 1/2, exact",
    ...             certify=lambda: Certificate("x = 1/2", printed=0.25 >= 0.5, corrected=0.25 <= 0.5,
    ...                                         arithmetic="exact"))
    >>> e.certified()["ok"], e.as_dict()["class"]
    (True, 'false')
    """

    category: str
    finding: str
    seed: str = ""
    line: int = 0
    passage: str = ""
    evidence: str = ""
    certify: Callable[[], Certificate] | None = None

    def __post_init__(self):
        as_text("finding", self.finding)
        if self.category == UNCLASSIFIED:
            return
        as_choice("category", self.category, CLASSES)
        if not _SEED.fullmatch(as_text("seed", self.seed)):
            raise ValueError(f"seed must name a seed file such as '001_7d31b3ff3a2f0401.txt', got {self.seed!r}")
        object.__setattr__(self, "line", as_int("line", self.line, low=1))
        for name in ("passage", "evidence"):
            as_text(name, getattr(self, name))
        if self.certify is not None:
            as_callable("certify", self.certify)
        elif self.category != "imprecise":
            raise ValueError(f"certify must be given for a {self.category!r} erratum (a function returning the "
                             "Certificate of its counterexample), got None")

    @classmethod
    def coerce(cls, erratum) -> "Erratum | None":
        """``erratum=`` of :func:`verification.check`: an Erratum, a plain string (unclassified) or empty.

        Parameters
        ----------
        erratum : Erratum or str
            The argument as given.

        Returns
        -------
        Erratum or None
            The Erratum; an *unclassified* one for a non-empty string; None for an empty string.

        Examples
        --------
        >>> from verification import Erratum
        >>> Erratum.coerce("eq. 3 has a sign misprint").category, Erratum.coerce("") is None
        ('unclassified', True)
        """
        if isinstance(erratum, cls):
            return erratum
        text = as_text("erratum", erratum, nonempty=False)
        return cls(UNCLASSIFIED, text) if text else None

    def __str__(self) -> str:
        return self.finding

    def certified(self) -> dict:
        """The certificate as data, with ``ok``: the corrected statement holds and the printed one fails.

        (For an *imprecise* erratum only the corrected statement must hold.)  A certify function that raises is
        reported (``error``), never raised.  Evaluated once per process (a report asks twice).

        Returns
        -------
        dict
            ``ok`` and the certificate's fields, or ``ok`` and ``error``.

        Examples
        --------
        >>> from verification import Erratum
        >>> e = Erratum("imprecise", "The bound holds but is loose by a factor 2.", seed="001_7d31b3ff3a2f0401.txt",
        ...             line=1, passage="x", evidence="the ratio is 1/2 at every k")
        >>> e.certified()["ok"] is None  # nothing to certify
        True
        """
        return dict(_certified(self))

    def as_dict(self) -> dict:
        """The finding as data (the certificate aside), for the report.

        Returns
        -------
        dict
            ``class``, ``finding``, ``seed``, ``line``, ``passage`` and ``evidence``.

        Examples
        --------
        >>> from verification import Erratum
        >>> sorted(Erratum.coerce("a plain finding").as_dict())
        ['class', 'evidence', 'finding', 'line', 'passage', 'seed']
        """
        return {"class": self.category, "finding": self.finding, "seed": self.seed, "line": self.line,
                "passage": self.passage, "evidence": self.evidence}


@lru_cache(maxsize=None)
def _certified(erratum: Erratum) -> dict:
    if erratum.certify is None:
        return {"ok": None, "error": "no counterexample (see the evidence)" if erratum.category != UNCLASSIFIED
                else "unclassified: no certificate"}
    try:
        c = erratum.certify()
        if not isinstance(c, Certificate):
            raise TypeError(f"certify() must return a Certificate, got {c!r}")
    except Exception as exc:  # noqa: BLE001 - one broken certificate must not stop a report
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    ok = c.corrected and (erratum.category == "imprecise" or not c.printed)
    return {"ok": ok, "instance": c.instance, "printed_holds": c.printed, "corrected_holds": c.corrected,
            "arithmetic": c.arithmetic, "detail": c.detail}


@dataclass(frozen=True)
class Reading:
    """A passage that admits more than one reading, and the one the toolkit follows (see the module docstring).

    ``followed`` is the reading implemented (and where: ``theorytools.x.y``), ``others`` the readings not followed,
    ``consequence`` what would change under them and whether any check can tell them apart.

    Parameters
    ----------
    seed : str
        The seed file.
    line : int
        The passage's line in the seed file (1-based).
    passage : str
        A short quote of the passage.
    followed : str
        The reading implemented, and where.
    others : str
        The readings not followed.
    consequence : str
        What would change under them.

    Examples
    --------
    >>> from verification import Reading
    >>> r = Reading("001_7d31b3ff3a2f0401.txt", 12, "for k steps", followed="k counts from 1 (theorytools.x)",
    ...             others="k counts from 0", consequence="every curve shifts by one step")
    >>> r.as_dict()["line"]
    12
    """

    seed: str
    line: int
    passage: str
    followed: str
    others: str
    consequence: str

    def __post_init__(self):
        if not _SEED.fullmatch(as_text("seed", self.seed)):
            raise ValueError(f"seed must name a seed file such as '001_7d31b3ff3a2f0401.txt', got {self.seed!r}")
        object.__setattr__(self, "line", as_int("line", self.line, low=1))
        for name in ("passage", "followed", "others", "consequence"):
            as_text(name, getattr(self, name))

    def as_dict(self) -> dict:
        """The reading as data, for the report.

        Returns
        -------
        dict
            ``seed``, ``line``, ``passage``, ``followed``, ``others`` and ``consequence``.

        Examples
        --------
        >>> from verification import Reading
        >>> r = Reading("001_7d31b3ff3a2f0401.txt", 3, "k steps", "k from 1", "k from 0", "a shift by one step")
        >>> r.as_dict()["followed"]
        'k from 1'
        """
        return {"seed": self.seed, "line": self.line, "passage": self.passage, "followed": self.followed,
                "others": self.others, "consequence": self.consequence}

