"""The hunt (issue 18): search a bound's parameter space for the point where it is tightest, or false.

A *bound* is a claim ``lhs <= rhs`` over a space of parameters, declared with :func:`bound`: the decorated function
``f(**point)`` returns ``(lhs, rhs)``, or raises :class:`~theorytools.errors.HypothesisError` (or returns None) where
the statement's hypotheses fail.  :func:`hunt` maximizes the score ``log(lhs/rhs)`` (``log(rhs/lhs)`` where both sides
are negative; the signed relative gap ``(lhs - rhs)/max(|lhs|, |rhs|)``, shifted out of the ratios' range, where their
signs differ: :func:`_scores`) over the space with scipy's differential evolution,
refines the best point by Nelder-Mead on the real parameters, and then

* reports ``holds`` when the largest score is within rounding of 0 or below (the worst ratio says how tight it is);
* reports a violation as ``violated`` only when the bound's ``certify`` re-evaluates both sides by an independent
  high-precision route (exact rationals, or mpmath at 50 digits) and confirms ``lhs > rhs`` with a margin far above
  rounding; a violation seen in floating point alone is ``uncertified``;
* shrinks a certified counterexample for a reader: each integer parameter as small as it stays violated (bisection
  toward its lower end), then each real parameter rounded to the shortest rational that keeps it certified.

The search's budget is a number of evaluations, :data:`EVALUATIONS_PER_SECOND` per second of ``budget``, so the same
seed gives the same result on any machine (differential evolution is seeded, its generations are counted, its polish
is off, the refinement's evaluations are counted).  The wall clock only stops a search that runs past
:data:`TIME_CAP` times its budget (a bound far slower than the nominal rate); such a run is reported as stopped by
the ``time cap``, and only then may it depend on the machine.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import mpmath as mp
import numpy as np

from threadpoolctl import threadpool_limits

from theorytools.errors import HypothesisError
from theorytools.linalg import as_bool, as_callable, as_float, as_int, as_instance, as_text, positive
from verification.errata import Erratum
from verification.registry import family_and_name, match, register

#: Where the sides' signs differ the score is the relative gap shifted this far from 0: beyond |log(x/y)| for any two
#: positive doubles (at most 1490), so such points rank above (violated) or below (slack) every ratio.
SIGN_SPAN = 1500.0
#: A float score above this is a violation seen in floating point; below it the bound holds to rounding (the sides of
#: a tight bound, such as an equality case, differ by a few ulps either way).
FLOAT_RTOL = 1e-10
#: Working precision and relative margin of a certificate evaluated with mpmath: lhs - rhs must exceed
#: CERTIFY_MARGIN max(|lhs|, |rhs|), 30 digits above the rounding error at CERTIFY_DPS digits.
CERTIFY_DPS = 50
CERTIFY_MARGIN = mp.mpf(10) ** -20
#: Denominators tried, in order, when a real parameter of a counterexample is rounded to a short rational.
DENOMINATORS = (1, 2, 4, 10, 100, 1000, 10**4, 10**6)
STATUSES = ("violated", "uncertified", "holds", "infeasible")
#: Evaluations of the bound per second of ``budget``: hunt(budget=B) evaluates it at most round(B x this) times during
#: the search (certifying and shrinking a violation come on top).  A nominal rate, about that of a bound that costs a
#: few milliseconds per point on one core.
EVALUATIONS_PER_SECOND = 200
#: The wall clock stops a search after TIME_CAP x budget seconds (reported as stopped by the "time cap").
TIME_CAP = 5.0
#: Differential evolution's population per searched parameter (scipy's popsize) and the Nelder-Mead evaluations per
#: real parameter reserved out of the budget.
POPSIZE = 15
REFINE_EVALUATIONS = 200


class _Space:
    """A range of one parameter, mapping a unit coordinate ``u`` in [0, 1] to a value (``space(u)``)."""

    integer = False

    def __init__(self, low, high):
        self.low, self.high = self._endpoints(low, high)
        if not self.low < self.high:
            raise ValueError(f"high must be > low, got low = {self.low!r}, high = {self.high!r}")

    def _endpoints(self, low, high):
        return as_float("low", low), as_float("high", high)

    def __call__(self, u):
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        return self._value(u)

    def __repr__(self):
        return f"{type(self).__name__}({self.low!r}, {self.high!r})"

    def contains(self, value) -> bool:
        return self.low <= value <= self.high


class Real(_Space):
    """Real values in ``[low, high]``, searched uniformly: ``low + u (high - low)`` for a unit coordinate ``u``.

    Parameters
    ----------
    low, high : float
        The range's ends, ``low < high``.

    Examples
    --------
    >>> from verification import Real
    >>> Real(-1.0, 1.0)(0.75).item()
    0.5
    """

    def _value(self, u):
        return self.low + u * (self.high - self.low)


class LogReal(_Space):
    """Real values in ``[low, high]``, ``0 < low``, searched uniformly in the logarithm: ``low (high/low)^u``.

    For a parameter that ranges over decades (a condition number, a step size near 0).

    Parameters
    ----------
    low, high : float
        The range's ends, ``0 < low < high``.

    Examples
    --------
    >>> from verification import LogReal
    >>> round(LogReal(1.0, 1e8)(0.5).item(), 6)  # the middle of the search is 1e4, not 5e7
    10000.0
    """

    def _endpoints(self, low, high):
        return positive("low", low), positive("high", high)

    def _value(self, u):
        return self.low * (self.high / self.low) ** u


class Integer(_Space):
    """Integers in ``[low, high]``, searched as integers (differential evolution's ``integrality``).

    A unit coordinate ``u`` maps to ``round(low + u (high - low))``.

    Parameters
    ----------
    low, high : int
        The range's ends, ``low < high``.

    Examples
    --------
    >>> from verification import Integer
    >>> Integer(1, 6)(0.5).item()
    4
    """

    integer = True

    def _endpoints(self, low, high):
        return as_int("low", low, low=None), as_int("high", high, low=None)

    def _value(self, u):
        return np.rint(self.low + u * (self.high - self.low)).astype(np.int64)


class LogInteger(_Space):
    """Integers in ``[low, high]``, ``1 <= low``, searched uniformly in the logarithm: ``round(low (high/low)^u)``.

    Each decade of an iteration count k gets the same share of the search.

    Parameters
    ----------
    low, high : int
        The range's ends, ``1 <= low < high``.

    Examples
    --------
    >>> from verification import LogInteger
    >>> LogInteger(1, 10**12)(0.25).item()
    1000
    """

    integer = True

    def _endpoints(self, low, high):
        return as_int("low", low, low=1), as_int("high", high, low=1)

    def _value(self, u):
        v = np.rint(self.low * (self.high / self.low) ** u).astype(np.int64)
        return np.clip(v, self.low, self.high)


@dataclass(frozen=True)
class Bound:
    """A registered claim ``lhs <= rhs`` (see :func:`bound`)."""

    name: str
    func: Callable
    source: str
    hypotheses: str
    space: dict
    certify: Callable | None
    erratum: Erratum | None
    family: str
    vectorized: bool
    rate: float


BOUNDS: dict[str, Bound] = {}


def bound(*, source: str, hypotheses: str = "", space: dict, certify: Callable | None = None,
          erratum: "Erratum | str" = "", name: str | None = None, family: str = "user", vectorized: bool = False,
          rate: float = None):
    """Register the decorated ``f(**point) -> (lhs, rhs)``, the claim ``lhs <= rhs``, for :func:`hunt`.

    The decorator of the hunt (issue 18): ``theorytools-verify --hunt`` searches every registered bound (and those of
    ``--module`` files) for its worst case; see the README's "Hunt your own bound".

    ``space`` maps each parameter of ``f`` to its range (:class:`Real`, :class:`LogReal`, :class:`Integer`,
    :class:`LogInteger`).  ``f`` raises :class:`~theorytools.errors.HypothesisError`, or returns None, at a point
    outside the statement's ``hypotheses``; with ``vectorized=True`` it takes arrays (one entry per candidate) and
    returns two arrays, NaN where a candidate is outside the hypotheses.  ``certify(**point)`` returns the two sides by
    an independent route, as exact rationals (``Fraction``, int) or mpmath numbers at 50 digits; real parameters reach
    it as ``Fraction`` or float.  ``erratum`` (an :class:`~verification.errata.Erratum` or a string) marks a bound
    known to be false as printed: finding it violated again is a rediscovery, not a new finding.  ``rate`` is the
    bound's evaluations per second of the hunt's budget (default :data:`EVALUATIONS_PER_SECOND`): lower it for a bound
    that costs more than a few milliseconds per point (one whose left side is itself a high-precision reference), so
    that a budget stays near its wall-clock meaning while the search stays a fixed number of evaluations.

    Parameters
    ----------
    source : str
        Where the claim is stated (seed file and equation, or a paper and lemma).
    hypotheses : str
        The statement's hypotheses in words (shown in the report).
    space : dict
        Parameter name -> :class:`Real`, :class:`LogReal`, :class:`Integer` or :class:`LogInteger`.
    certify : callable, optional
        ``certify(**point) -> (lhs, rhs)`` by an independent high-precision route.
    erratum : Erratum or str, optional
        Marks a bound known to be false as printed.
    name, family : str, optional
        The bound's key is ``family.name`` (``name`` defaults to the function's).
    vectorized : bool
        Whether ``f`` takes a whole population of points as arrays.
    rate : float, optional
        Evaluations per second of budget.

    Returns
    -------
    callable
        The decorator; it registers ``f`` in :data:`BOUNDS` and returns ``f`` unchanged.

    Examples
    --------
    A claim that is false: ``(1 - 1/kappa)^k <= 1 - k/kappa`` (Bernoulli's inequality runs the other way), found,
    certified in exact rationals and shrunk to k = 2:

    >>> from fractions import Fraction
    >>> from verification import LogInteger, LogReal, bound
    >>> from verification.hunt import BOUNDS, hunt
    >>> @bound(source="doctest", family="doctest", space={"kappa": LogReal(2, 100), "k": LogInteger(1, 50)},
    ...        certify=lambda kappa, k: ((1 - 1 / Fraction(kappa)) ** k, 1 - k / Fraction(kappa)))
    ... def bernoulli_reversed(kappa, k):
    ...     return (1 - 1 / kappa) ** k, 1 - k / kappa
    >>> r = hunt(BOUNDS.pop("doctest.bernoulli_reversed"), budget=1, seed=0)
    >>> r["status"], r["certified"], r["counterexample"]["k"]
    ('violated', True, 2)
    """
    as_text("source", source)
    as_text("hypotheses", hypotheses, nonempty=False)
    space = _as_space(space)
    if certify is not None:
        as_callable("certify", certify)
    erratum = Erratum.coerce(erratum)
    family_and_name(family, name)
    vectorized = as_bool("vectorized", vectorized)
    rate = EVALUATIONS_PER_SECOND if rate is None else positive("rate", rate)

    def deco(func):
        return register(BOUNDS, "bound", family, name, func,
                        lambda key: Bound(key, func, source, hypotheses, space, certify, erratum, family, vectorized,
                                               rate))

    return deco


def _as_space(space) -> dict:
    if not isinstance(space, dict):
        raise TypeError(f"space must be a dict of parameter name -> Real, LogReal, Integer or LogInteger, "
                        f"got {space!r}"[:200])
    if not space:
        raise ValueError("space must name at least one parameter, got {}")
    for key, dim in space.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(f"space must be keyed by parameter names, got the key {key!r}")
        as_instance(f"space[{key!r}]", dim, _Space, "a Real, LogReal, Integer or LogInteger")
    return dict(space)


def select(only: str | None = None) -> list[Bound]:
    """Registered bounds whose name matches ``only`` (the rules of :func:`verification.registry.select`)."""
    from verification.registry import load_all

    load_all()
    return [BOUNDS[n] for n in match(sorted(BOUNDS), only, "bound")]


# -- scoring --------------------------------------------------------------------------------------------------------
def _scores(lhs, rhs) -> np.ndarray:
    """How far ``lhs <= rhs`` is from failing, one scale for every sign (> 0: violated): ``log(lhs/rhs)`` where both
    sides are > 0, ``log(rhs/lhs)`` where both are < 0, and where their signs differ or one is 0 the signed relative
    gap ``(lhs - rhs)/max(|lhs|, |rhs|)`` shifted by :data:`SIGN_SPAN` away from 0 (0 where both are 0): a violation
    with ``rhs <= 0 < lhs`` outranks every ratio, and ``lhs <= 0 < rhs`` (an error of exactly 0, a product that is 0)
    ranks below every ratio, so that it does not draw the search away from where the bound is tight.  NaN where a
    side is not finite."""
    lhs, rhs = np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float)
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(lhs), np.abs(rhs))
        gap = np.where(scale > 0, (lhs - rhs) / np.where(scale > 0, scale, 1.0), 0.0)
        log_ratio = np.where(lhs > 0, np.log(lhs) - np.log(rhs), np.log(-rhs) - np.log(-lhs))
        same_sign = ((lhs > 0) & (rhs > 0)) | ((lhs < 0) & (rhs < 0))
        score = np.where(same_sign, log_ratio, gap + SIGN_SPAN * np.sign(gap))
    return np.where(np.isfinite(lhs) & np.isfinite(rhs), score, np.nan)


def _ratio(lhs: float, rhs: float) -> float:
    """What the report calls the worst ratio: ``lhs/rhs`` where both sides are > 0, ``rhs/lhs`` (= |rhs|/|lhs|) where
    both are < 0 (> 1: violated, in both cases), else the relative gap ``(lhs - rhs)/max(|lhs|, |rhs|)``."""
    if (lhs > 0 and rhs > 0) or (lhs < 0 and rhs < 0):
        return float(np.exp(float(_scores(lhs, rhs))))
    scale = max(abs(lhs), abs(rhs))
    return 0.0 if scale == 0 else (lhs - rhs) / scale


class _Objective:
    """``-score`` of a bound at search coordinates (what scipy minimizes).  A point outside the hypotheses scores
    +inf, so that it never wins; :meth:`tally` counts evaluations and feasible candidates (in this process, also when
    the evaluations ran in worker processes)."""

    def __init__(self, b: Bound):
        self.bound, self.names = b, list(b.space)
        self.evaluations = self.feasible = 0
        self.first_seen = None  # (evaluations, seconds) when a float violation was first seen
        self.trace = None  # [(search coordinates, objective values)] per call, when hunt(trace=True)
        self.t0 = time.perf_counter()

    def point(self, x) -> dict:
        """The parameters at search coordinates ``x`` (unit coordinates; an Integer's own value)."""
        out = {}
        for name, xi in zip(self.names, x):
            dim = self.bound.space[name]
            out[name] = int(np.rint(xi)) if isinstance(dim, Integer) else dim(xi).item()
        return out

    def sides(self, point: dict):
        """The float sides at ``point``, or None outside the hypotheses (a vectorized bound gets 1-entry arrays)."""
        args = {k: float(v) if isinstance(v, Fraction) else v for k, v in point.items()}
        if self.bound.vectorized:
            args = {k: np.array([v]) for k, v in args.items()}
        try:
            out = self.bound.func(**args)
        except HypothesisError:
            return None
        if out is None:
            return None
        return tuple(float(np.asarray(side, dtype=float).reshape(-1)[0]) for side in out)

    def score(self, point: dict) -> float:
        """The score at ``point``; NaN outside the hypotheses."""
        s = self.sides(point)
        return float("nan") if s is None else float(_scores(*s))

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        if x.ndim == 2:  # differential evolution's vectorized call: one column per candidate
            scores = self._vectorized(x)
        else:
            scores = np.array([self.score(self.point(x))])
        out = np.where(np.isfinite(scores), -scores, np.inf)
        return out if x.ndim == 2 else float(out[0])

    def _vectorized(self, x):
        cols = {}
        for name, row in zip(self.names, x):
            dim = self.bound.space[name]
            cols[name] = np.rint(row).astype(np.int64) if isinstance(dim, Integer) else dim(row)
        lhs, rhs = self.bound.func(**cols)
        return _scores(lhs, rhs) * np.ones(x.shape[1])

    def tally(self, values, x=None):
        """Count the objective ``values`` of one call or one batch (at search coordinates ``x``: one candidate, or one
        column per candidate, kept when tracing); return them."""
        v = np.asarray(values, dtype=float)
        if self.trace is not None and x is not None:
            x = np.asarray(x, dtype=float)
            self.trace.append((x.reshape(1, -1) if x.ndim == 1 else x.T, v.reshape(-1)))
        if self.first_seen is None and np.any(v < -FLOAT_RTOL):  # a score above FLOAT_RTOL: lhs > rhs in floats
            self.first_seen = (self.evaluations + int(np.argmax(v.ravel() < -FLOAT_RTOL)) + 1,
                               round(time.perf_counter() - self.t0, 3))
        self.evaluations += v.size
        self.feasible += int(np.isfinite(v).sum())
        return values

    def counted(self, x):
        return self.tally(self(x), x)


# -- the search -----------------------------------------------------------------------------------------------------
def hunt(bound, budget=60.0, seed=0, workers=1, trace=False) -> dict:
    """Search ``bound`` (a :class:`Bound` or the name of a registered one) for its largest ``log(lhs/rhs)``.

    ``budget`` (nominal seconds) buys ``round(budget x rate)`` evaluations (the bound's ``rate``,
    :data:`EVALUATIONS_PER_SECOND` by default; at least one generation of differential evolution): Nelder-Mead's
    share (:data:`REFINE_EVALUATIONS` per real parameter, at most a quarter of the budget) is set aside and
    differential evolution (seeded, ``integrality`` on Integer parameters, vectorized when the bound is) runs the
    generations the rest pays for, restarted from a fresh seeded population whenever it converges early; Nelder-Mead
    then refines the real parameters of the best point with
    the integers fixed.  Both stop at the wall-clock cap, ``TIME_CAP x budget`` seconds.  A violation is certified and
    shrunk as the module docstring says.  Returns a dict: ``bound``, ``source``, ``status``
    (``violated``: certified; ``uncertified``: seen in floating point only; ``holds``; ``infeasible``: no point met
    the hypotheses), ``worst_ratio`` (lhs/rhs at the worst point, rhs/lhs where both sides are negative, or the signed
    relative gap where their signs differ: ``measure`` says which), ``point``, ``certified``, ``counterexample`` (the shrunk point, None unless
    certified), ``certificate`` (the certified sides), ``evaluations``, ``max_evaluations`` (the budget's), ``feasible``,
    ``stopped`` (``converged``, ``evaluations``: the budget spent, or ``time cap``), ``first_seen_evaluations`` and
    ``first_seen_seconds`` (when a violation was first seen in floating point; None if never), ``seconds``,
    ``known_erratum``.
    ``workers`` > 1 evaluates candidates in processes (the bound must be picklable).  ``trace=True`` adds ``trace``:
    every evaluated point (``values``: one row per point, one column per parameter, in ``names`` order) and its
    ``score`` (NaN outside the hypotheses), for :func:`verification.hunt_figure.tightness_figure`.
    BLAS runs on one thread (the sides are small matrices; threads only spin on a shared machine).

    Parameters
    ----------
    bound : Bound or str
        A bound registered with :func:`bound`, or its name (``quadratic.theorem6``).
    budget : float
        Nominal seconds of search (evaluations, at the bound's rate).
    seed : int
        Seed of differential evolution.
    workers : int
        Processes evaluating the candidates (1: this process).
    trace : bool
        Whether to return every evaluated point.

    Returns
    -------
    dict
        The result described above (one row of the report's Tightness section).

    Examples
    --------
    Martens' Proposition 23 as printed (001_7d31b3ff3a2f0401.txt Appendix D), from its whole hypothesis region:

    >>> from verification.hunt import describe, hunt
    >>> r = hunt("quadratic.proposition23_sum_printed", budget=1, seed=0)
    >>> r["status"], r["known_erratum"], describe(r["counterexample"])
    ('violated', True, 'k = 3, a = 1, b = 0')
    """
    b = _as_bound(bound)
    budget = positive("budget", budget)
    seed = as_int("seed", seed)
    workers = as_int("workers", workers, low=1)
    if b.vectorized and workers > 1:
        raise ValueError(f"workers must be 1 for a vectorized bound (it evaluates a whole population at once), "
                         f"got {workers}")
    t0 = time.perf_counter()
    obj = _Objective(b)
    obj.trace = [] if as_bool("trace", trace) else None
    max_evaluations = max(1, round(budget * b.rate))
    with threadpool_limits(1):
        return _hunt(b, obj, budget, seed, workers, max_evaluations, t0)


def _hunt(b: Bound, obj: _Objective, budget, seed, workers, max_evaluations, t0) -> dict:
    x, stopped = _search(obj, max_evaluations, seed, workers, t0 + TIME_CAP * budget)
    point = obj.point(x)
    out = {"bound": b.name, "source": b.source, "status": "infeasible", "worst_ratio": None, "measure": None,
           "score": None,
           "point": None, "certified": False, "counterexample": None, "certificate": None,
           "known_erratum": b.erratum is not None}
    sides = obj.sides(point) if obj.feasible else None
    score = float("nan") if sides is None else float(_scores(*sides))
    if np.isfinite(score):
        measure = "ratio" if sides[0] * sides[1] > 0 else "relative gap"
        out.update(worst_ratio=_ratio(*sides), measure=measure, score=score,
                   point=point,
                   status="holds" if score <= FLOAT_RTOL else "uncertified")
        if score > FLOAT_RTOL and b.certify is not None:
            out.update(_certified_counterexample(obj, point))
    first = obj.first_seen or (None, None)
    out.update(evaluations=obj.evaluations, max_evaluations=max_evaluations, feasible=obj.feasible, stopped=stopped,
               first_seen_evaluations=first[0], first_seen_seconds=first[1], seconds=round(time.perf_counter() - t0, 3))
    if obj.trace is not None:
        out["trace"] = _trace_values(obj)
    return out


def _trace_values(obj: _Objective) -> dict:
    """The traced search coordinates as parameter values, with their scores (``-objective``)."""
    if not obj.trace:
        return {"names": obj.names, "values": np.empty((0, len(obj.names))), "score": np.empty(0)}
    x = np.concatenate([t[0] for t in obj.trace])
    objective = np.concatenate([t[1] for t in obj.trace])  # -score, +inf outside the hypotheses
    values = np.column_stack([x[:, i] if isinstance(obj.bound.space[n], Integer) else obj.bound.space[n](x[:, i])
                              for i, n in enumerate(obj.names)]).astype(float)
    return {"names": obj.names, "values": values, "score": np.where(np.isfinite(objective), -objective, np.nan)}


def hunt_all(names, budget=60.0, seed=0, *, client=None, modules=(), log=None, trace=False) -> list[dict]:
    """:func:`hunt` each registered bound of ``names``, in order, and return the results in that order.

    With a ``dask.distributed.Client`` each bound is one task: the worker imports the toolkit's bound modules and the
    user ``modules`` (so that a bound defined in a user's file need not be pickled) and runs the same seeded,
    evaluation-counted search, so the results are those of the serial run (but for ``seconds``, and for a search
    stopped by the wall-clock cap).  ``log(result)`` is called as each finishes; ``trace`` as for :func:`hunt`."""
    from verification.registry import load_modules

    if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple)):
        raise TypeError(f"names must be a list of registered bound names, got {names!r}"[:200])
    budget, seed, trace = positive("budget", budget), as_int("seed", seed), as_bool("trace", trace)
    if client is not None and not callable(getattr(client, "submit", None)):
        raise TypeError(f"client must be a dask.distributed.Client or None, got {client!r}"[:200])
    if log is not None:
        as_callable("log", log)
    load_modules(modules)  # the user's bound modules, here too
    registered = {b.name for b in select()}
    for n in names:
        if as_text("names", n) not in registered:
            raise ValueError(f"names must be registered bounds, got {n!r} (theorytools-verify --hunt --list)")
    log = log or (lambda r: None)
    if client is None:
        out = []
        for n in names:
            out.append(hunt(n, budget, seed, trace=trace))
            log(out[-1])
        return out
    from dask.distributed import as_completed

    futures = [client.submit(_hunt_remote, n, budget, seed, tuple(modules), trace, pure=False) for n in names]
    order = {f.key: i for i, f in enumerate(futures)}
    out = [None] * len(names)
    for fut in as_completed(futures):
        out[order[fut.key]] = fut.result()
        log(out[order[fut.key]])
    return out


def _hunt_remote(name: str, budget: float, seed: int, modules: tuple, trace: bool) -> dict:
    """:func:`hunt` of the bound ``name`` on a Dask worker, after loading the bound modules there."""
    from verification.registry import load_all, load_modules

    load_all()
    load_modules(modules)
    return hunt(name, budget, seed, trace=trace)


def _as_bound(b) -> Bound:
    if isinstance(b, str):
        select()  # a registered name: load the toolkit's bound modules first
        if b not in BOUNDS:
            raise ValueError(f"bound must be a Bound or the name of a registered bound, got {b!r}")
        return BOUNDS[b]
    return as_instance("bound", b, Bound, "a Bound (registered with @bound) or its name")


def _search(obj: _Objective, max_evaluations: int, seed: int, workers: int, deadline: float):
    """Differential evolution over the search coordinates, then Nelder-Mead on the real ones, within
    ``max_evaluations`` (and the wall clock's ``deadline``): ``(x, stopped)``."""
    from scipy.optimize import differential_evolution

    dims = [obj.bound.space[n] for n in obj.names]
    bounds = [(d.low, d.high) if isinstance(d, Integer) else (0.0, 1.0) for d in dims]
    integrality = [isinstance(d, Integer) for d in dims]
    # Nelder-Mead's share: REFINE_EVALUATIONS per real parameter, but at most a quarter of a small budget (else the
    # global search would get a single generation)
    refine = min(REFINE_EVALUATIONS * sum(not d.integer for d in dims), max_evaluations // 4)
    population = POPSIZE * len(dims)  # scipy's population: popsize x parameters, one evaluation each per generation
    capped = []

    def cap(intermediate_result):
        if time.perf_counter() > deadline:
            capped.append(True)
        return bool(capped)

    # Differential evolution that converges before the budget is spent has settled on one basin (TANGO's Lemma 7
    # stopped at a worst ratio of 0.25 after 1411 of 12000 evaluations on seed 2; 0.4375 elsewhere): it is restarted
    # from a fresh population (seeded by (seed, restart)) while the budget pays for an initial population and a
    # generation, and the best run is kept.
    best, restart = None, 0
    with _evaluator(obj, workers) as (func, mapper):
        while True:
            generations = max(1, (max_evaluations - refine - obj.evaluations) // population - 1)
            rng = seed if restart == 0 else np.random.default_rng([seed, restart])
            res = differential_evolution(func, bounds, rng=rng, polish=False, integrality=integrality,
                                         popsize=POPSIZE, maxiter=generations, updating="deferred",
                                         vectorized=obj.bound.vectorized, workers=mapper, callback=cap)
            if best is None or res.fun < best.fun:
                best = res
            if capped or not res.success or max_evaluations - refine - obj.evaluations < 2 * population:
                break
            restart += 1
    res = best
    if capped:
        return res.x, "time cap"
    stopped = "converged" if obj.evaluations < max_evaluations - refine - population else "evaluations"
    if not np.isfinite(res.fun):
        return res.x, stopped
    x, capped = _refine(obj, res.x, float(res.fun), max(0, max_evaluations - obj.evaluations), deadline)
    return x, "time cap" if capped else stopped


@contextlib.contextmanager
def _evaluator(obj: _Objective, workers: int):
    """``(func, workers)`` for differential evolution: the counted objective in this process, or the objective mapped
    over a pool of ``workers`` processes with its values counted here."""
    if workers == 1:
        yield obj.counted, 1
        return
    import multiprocessing

    with multiprocessing.Pool(workers) as pool:
        yield obj, lambda func, xs: obj.tally(pool.map(func, xs), np.array(list(xs)).T)


def _refine(obj: _Objective, x, fun: float, evaluations: int, deadline: float):
    """Nelder-Mead on the real parameters (unit coordinates), integers fixed, for at most ``evaluations``
    evaluations: ``(the better of x and its result, whether the wall clock's deadline stopped it)``."""
    from scipy.optimize import minimize

    free = [i for i, n in enumerate(obj.names) if not obj.bound.space[n].integer]
    if not free or evaluations < len(free) + 1:  # too few for Nelder-Mead's first simplex
        return x, False
    if time.perf_counter() > deadline:
        return x, True

    def at(y):
        z = np.array(x, dtype=float)
        z[free] = y
        return z

    capped = []

    def stop(intermediate_result):
        if time.perf_counter() > deadline:
            capped.append(True)
            raise StopIteration

    res = minimize(lambda y: obj.counted(at(y)), x[free], method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(free),
                   callback=stop, options={"maxfev": evaluations, "xatol": 1e-10, "fatol": 1e-14})
    return (at(res.x) if res.fun < fun else x), bool(capped)


# -- certification and shrinking ------------------------------------------------------------------------------------
def _certified_counterexample(obj: _Objective, worst: dict) -> dict:
    """Certify the violation at ``worst`` and shrink it.  Integers are shrunk first under the float score (the
    certifier may cost O(k), so it is not run at every bisection step of a large k), then the result is certified; if
    it is not, ``worst`` itself is.  Real parameters are then rounded, keeping it certified, and integers shrunk again
    (under the float score when its result certifies, else under the certificate)."""
    def violated(p):
        return obj.score(p) > FLOAT_RTOL

    def certified(p):
        return violated(p) and _certificate(obj.bound, p) is not None

    def shrunk_integers(p):  # under the float score, certified once; else under the certificate at every step
        q = _smaller_integers(obj, p, violated)
        return q if _certificate(obj.bound, q) else _smaller_integers(obj, p, certified)

    start = next((p for p in (_smaller_integers(obj, worst, violated), worst) if _certificate(obj.bound, p)), None)
    if start is None:
        return {}
    p = shrunk_integers(_shorter_reals(obj, start, certified))
    return {"status": "violated", "certified": True, "counterexample": p, "certificate": _certificate(obj.bound, p)}


def mpf_exact(x) -> mp.mpf:
    """``x`` (an int, a Fraction, or a float: the dyadic rational it stores) as an mpmath number at the working
    precision, with no rounding through a decimal string: what a ``certify`` route starts from.

    Examples
    --------
    >>> import mpmath as mp
    >>> from fractions import Fraction
    >>> from verification.hunt import mpf_exact
    >>> with mp.workdps(30):
    ...     print(mpf_exact(Fraction(1, 3)), mpf_exact(0.1))
    0.333333333333333333333333333333 0.100000000000000005551115123126
    """
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer, float, np.floating, Fraction)):
        raise TypeError(f"x must be an int, a Fraction or a float, got {x!r} of type {type(x).__name__}")
    if isinstance(x, (float, np.floating)) and not math.isfinite(x):
        raise ValueError(f"x must be finite, got {x!r}")
    q = Fraction(x)
    return mp.mpf(q.numerator) / q.denominator


def _certificate(b: Bound, point: dict) -> str | None:
    """The certified sides at ``point`` as text, or None when ``certify`` does not confirm ``lhs > rhs`` (or cannot
    evaluate there: outside the hypotheses, or beyond the route's reach, e.g. k too large for exact rationals)."""
    try:
        out = b.certify(**point)
    except (HypothesisError, ValueError, ArithmeticError):
        return None
    if out is None:
        return None
    lhs, rhs = out
    if all(isinstance(v, (int, Fraction)) for v in (lhs, rhs)):
        return f"lhs = {float(lhs):.12g} > rhs = {float(rhs):.12g} (exact rationals)" if lhs > rhs else None
    for side, v in (("lhs", lhs), ("rhs", rhs)):
        if not isinstance(v, (int, Fraction, mp.mpf)):
            raise TypeError(f"certify of {b.name} must return exact rationals (Fraction, int) or mpmath numbers, got "
                            f"{side} = {v!r} of type {type(v).__name__}")
    with mp.workdps(CERTIFY_DPS):
        lhs, rhs = (mpf_exact(v) if isinstance(v, Fraction) else mp.mpf(v) for v in (lhs, rhs))
        if not lhs - rhs > CERTIFY_MARGIN * max(abs(lhs), abs(rhs)):
            return None
        return (f"lhs = {mp.nstr(lhs, 12)} > rhs = {mp.nstr(rhs, 12)} (mpmath {CERTIFY_DPS} digits, relative margin "
                f"{mp.nstr(CERTIFY_MARGIN, 1)})")


def _smaller_integers(obj: _Objective, point: dict, ok) -> dict:
    """Each integer parameter, in order, as small as ``ok`` allows: its lower end if that works, else bisection
    between it and the current value (which works)."""
    for name in obj.names:
        dim = obj.bound.space[name]
        if not dim.integer:
            continue
        lo, hi = dim.low, point[name]
        if lo < hi and ok({**point, name: lo}):
            hi = lo
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if ok({**point, name: mid}) else (mid, hi)
        point = {**point, name: hi}
    return point


def _shorter_reals(obj: _Objective, point: dict, ok) -> dict:
    """Each real parameter, in order, replaced by the first candidate inside its range (to float precision: 1/1000 is
    in LogReal(1e-3, ...)) for which ``ok`` holds, else kept.  The candidates are its roundings (:func:`_roundings`)
    and the one-digit numbers between the range's low end and it (:func:`_one_digit_below`), the fewest digits first
    and, among those, the shortest written out (3 before 0.1 before 10000), then the nearest the low end: the hunt's
    kappa = 10000 of the §14.2.1 display becomes 3, its smallest integer counterexample, and a scale becomes 1."""
    for name in obj.names:
        dim = obj.bound.space[name]
        if dim.integer:
            continue
        x = Fraction(point[name])
        candidates = dict.fromkeys(_roundings(x) + _one_digit_below(dim.low, x))
        for q in sorted(candidates, key=lambda q: (_digits(q), len(_written(q)), abs(q - Fraction(dim.low)))):
            if dim.contains(float(q)) and ok({**point, name: q}):
                point = {**point, name: q}
                break
    return point


def _written(q: Fraction) -> str:
    """``q`` as a reader writes it: a decimal in positional notation (``0.001``, ``10000``), else ``p/q``."""
    if 10 ** (len(str(q.denominator)) - 1) == q.denominator:
        digits = len(str(q.denominator)) - 1
        sign, whole = ("-" if q < 0 else ""), abs(q.numerator)
        text = str(whole).rjust(digits + 1, "0")
        return sign + (text if digits == 0 else f"{text[:-digits]}.{text[-digits:]}")
    return str(q)


def _one_digit_below(low: float, x: Fraction) -> list:
    """``m 10^e`` (m = 1..9, and 0 where ``low <= 0``) between ``low`` and ``x``, for ``x > low``."""
    lo = Fraction(low)
    if not x > lo:
        return []
    out = [Fraction(0)] if lo <= 0 <= x else []
    top = max(abs(x), abs(lo))
    if top == 0:
        return out
    smallest = abs(lo) if lo > 0 else top / 10**6
    for e in range(math.floor(math.log10(smallest)) - 1, math.floor(math.log10(top)) + 2):
        for m in range(1, 10):
            for v in (Fraction(m) * Fraction(10) ** e, -Fraction(m) * Fraction(10) ** e):
                if lo <= v <= x:
                    out.append(v)
    return out


def _roundings(x) -> list:
    """Rationals near ``x``, shortest to write first: for each denominator d of :data:`DENOMINATORS` the nearest one
    with denominator at most d and the multiples of 1/d on either side of ``x`` (a counterexample near the edge of the
    hypotheses, such as b just above 1/2, keeps its side: 51/100 rather than 1/2), and ``x`` to 1..6 significant
    digits (1.1e-12 where no small denominator comes near); ordered by :func:`_digits`, stably."""
    x = Fraction(x)
    out = []
    for d in DENOMINATORS:
        below = Fraction(math.floor(x * d), d)
        out += [x.limit_denominator(d), below, below + Fraction(1, d)]
    out += [Fraction(f"{float(x):.{n}g}") for n in range(1, 7)]
    return sorted(dict.fromkeys(out), key=_digits)


def _digits(q: Fraction) -> int:
    """How many digits a reader writes for ``q``: a decimal (denominator a power of 10) in scientific notation needs
    its significant digits; any other fraction, the digits of its numerator and its denominator."""
    num, den = abs(q.numerator), q.denominator
    if num == 0:
        return 1
    if 10 ** (len(str(den)) - 1) == den:
        return len(str(num).rstrip("0"))
    return len(str(num)) + len(str(den))


def describe(point: dict | None) -> str:
    """``k = 3, a = 1/1000, b = 0``: a point as a reader writes it (floats to 6 significant digits)."""
    if point is None:
        return ""
    return ", ".join(f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}" for k, v in point.items())


__all__ = ["bound", "hunt", "hunt_all", "Real", "LogReal", "Integer", "LogInteger"]
