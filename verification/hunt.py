"""The hunt (issue 18): search a bound's parameter space for the point where it is tightest, or false.

A *bound* is a claim ``lhs <= rhs`` over a space of parameters, declared with :func:`bound`: the decorated function
``f(**point)`` returns ``(lhs, rhs)``, or raises :class:`~theorytools.errors.HypothesisError` (or returns None) where
the statement's hypotheses fail.  :func:`hunt` maximizes the score ``log(lhs/rhs)`` (the signed relative gap
``(lhs - rhs)/max(|lhs|, |rhs|)`` where a side is 0 or negative) over the space with scipy's differential evolution,
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

from theorytools.errors import HypothesisError
from theorytools.linalg import as_bool, as_callable, as_float, as_int, as_instance, as_text, positive
from verification.errata import Erratum
from verification.registry import family_and_name, match, register

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
    """Real values in ``[low, high]``, uniform: ``low + u (high - low)``."""

    def _value(self, u):
        return self.low + u * (self.high - self.low)


class LogReal(_Space):
    """Real values in ``[low, high]``, ``0 < low``, uniform in the logarithm: ``low (high/low)^u``."""

    def _endpoints(self, low, high):
        return positive("low", low), positive("high", high)

    def _value(self, u):
        return self.low * (self.high / self.low) ** u


class Integer(_Space):
    """Integers in ``[low, high]``, uniform: ``round(low + u (high - low))``.  Searched as integers (differential
    evolution's ``integrality``)."""

    integer = True

    def _endpoints(self, low, high):
        return as_int("low", low, low=None), as_int("high", high, low=None)

    def _value(self, u):
        return np.rint(self.low + u * (self.high - self.low)).astype(np.int64)


class LogInteger(_Space):
    """Integers in ``[low, high]``, ``1 <= low``, uniform in the logarithm: ``round(low (high/low)^u)`` (so that each
    decade of k gets the same share of the search)."""

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


BOUNDS: dict[str, Bound] = {}


def bound(*, source: str, hypotheses: str = "", space: dict, certify: Callable | None = None,
          erratum: "Erratum | str" = "", name: str | None = None, family: str = "user", vectorized: bool = False):
    """Register the decorated ``f(**point) -> (lhs, rhs)``, the claim ``lhs <= rhs``, for :func:`hunt`.

    ``space`` maps each parameter of ``f`` to its range (:class:`Real`, :class:`LogReal`, :class:`Integer`,
    :class:`LogInteger`).  ``f`` raises :class:`~theorytools.errors.HypothesisError`, or returns None, at a point
    outside the statement's ``hypotheses``; with ``vectorized=True`` it takes arrays (one entry per candidate) and
    returns two arrays, NaN where a candidate is outside the hypotheses.  ``certify(**point)`` returns the two sides by
    an independent route, as exact rationals (``Fraction``, int) or mpmath numbers at 50 digits; real parameters reach
    it as ``Fraction`` or float.  ``erratum`` (an :class:`~verification.errata.Erratum` or a string) marks a bound
    known to be false as printed: finding it violated again is a rediscovery, not a new finding.
    """
    as_text("source", source)
    as_text("hypotheses", hypotheses, nonempty=False)
    space = _as_space(space)
    if certify is not None:
        as_callable("certify", certify)
    erratum = Erratum.coerce(erratum)
    family_and_name(family, name)
    vectorized = as_bool("vectorized", vectorized)

    def deco(func):
        return register(BOUNDS, "bound", family, name, func,
                        lambda key: Bound(key, func, source, hypotheses, space, certify, erratum, family, vectorized))

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
    """``log(lhs/rhs)`` where both sides are > 0, else the signed relative gap; NaN where a side is not finite."""
    lhs, rhs = np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float)
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(lhs), np.abs(rhs))
        gap = np.where(scale > 0, (lhs - rhs) / np.where(scale > 0, scale, 1.0), 0.0)
        score = np.where((lhs > 0) & (rhs > 0), np.log(lhs / rhs), gap)
    return np.where(np.isfinite(lhs) & np.isfinite(rhs), score, np.nan)


def _ratio(lhs: float, rhs: float) -> float:
    """What the report calls the worst ratio: ``lhs/rhs`` where both sides are > 0, else the relative gap."""
    if lhs > 0 and rhs > 0:
        return lhs / rhs
    return float(_scores(lhs, rhs))


class _Objective:
    """``-score`` of a bound at search coordinates (what scipy minimizes).  A point outside the hypotheses scores
    +inf, so that it never wins; :meth:`tally` counts evaluations and feasible candidates (in this process, also when
    the evaluations ran in worker processes)."""

    def __init__(self, b: Bound):
        self.bound, self.names = b, list(b.space)
        self.evaluations = self.feasible = 0

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

    def tally(self, values):
        """Count the objective ``values`` of one call or one batch; return them."""
        v = np.asarray(values, dtype=float)
        self.evaluations += v.size
        self.feasible += int(np.isfinite(v).sum())
        return values

    def counted(self, x):
        return self.tally(self(x))


# -- the search -----------------------------------------------------------------------------------------------------
def hunt(bound, budget=60.0, seed=0, workers=1) -> dict:
    """Search ``bound`` (a :class:`Bound` or the name of a registered one) for its largest ``log(lhs/rhs)``.

    ``budget`` (nominal seconds) buys ``round(budget x EVALUATIONS_PER_SECOND)`` evaluations (at least one generation
    of differential evolution): Nelder-Mead's share (:data:`REFINE_EVALUATIONS` per real parameter) is set aside and
    differential evolution (seeded, ``integrality`` on Integer parameters, vectorized when the bound is) runs the
    generations the rest pays for, or stops earlier at convergence; Nelder-Mead then refines the real parameters with
    the integers fixed.  Both stop at the wall-clock cap, ``TIME_CAP x budget`` seconds.  A violation is certified and
    shrunk as the module docstring says.  Returns a dict: ``bound``, ``source``, ``status``
    (``violated``: certified; ``uncertified``: seen in floating point only; ``holds``; ``infeasible``: no point met
    the hypotheses), ``worst_ratio``, ``point``, ``certified``, ``counterexample`` (the shrunk point, None unless
    certified), ``certificate`` (the certified sides), ``evaluations``, ``max_evaluations`` (the budget's), ``feasible``,
    ``stopped`` (``converged``, ``evaluations``: the budget spent, or ``time cap``), ``seconds``, ``known_erratum``.  ``workers`` > 1 evaluates candidates in processes (the bound must be picklable).
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
    max_evaluations = max(1, round(budget * EVALUATIONS_PER_SECOND))
    x, stopped = _search(obj, max_evaluations, seed, workers, t0 + TIME_CAP * budget)
    point = obj.point(x)
    out = {"bound": b.name, "source": b.source, "status": "infeasible", "worst_ratio": None, "score": None,
           "point": None, "certified": False, "counterexample": None, "certificate": None,
           "known_erratum": b.erratum is not None}
    sides = obj.sides(point) if obj.feasible else None
    score = float("nan") if sides is None else float(_scores(*sides))
    if np.isfinite(score):
        out.update(worst_ratio=_ratio(*sides), score=score, point=point,
                   status="holds" if score <= FLOAT_RTOL else "uncertified")
        if score > FLOAT_RTOL and b.certify is not None:
            out.update(_certified_counterexample(obj, point))
    out.update(evaluations=obj.evaluations, max_evaluations=max_evaluations, feasible=obj.feasible, stopped=stopped,
               seconds=round(time.perf_counter() - t0, 3))
    return out


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
    refine = REFINE_EVALUATIONS * sum(not d.integer for d in dims)
    population = POPSIZE * len(dims)  # scipy's population: popsize x parameters, one evaluation each per generation
    generations = max(1, (max_evaluations - refine) // population - 1)  # after the initial population
    capped = []

    def cap(intermediate_result):
        if time.perf_counter() > deadline:
            capped.append(True)
        return bool(capped)

    with _evaluator(obj, workers) as (func, mapper):
        res = differential_evolution(func, bounds, rng=seed, polish=False, integrality=integrality, popsize=POPSIZE,
                                     maxiter=generations, updating="deferred", vectorized=obj.bound.vectorized,
                                     workers=mapper, callback=cap)
    if capped:
        return res.x, "time cap"
    stopped = "converged" if res.success else "evaluations"
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
        yield obj, lambda func, xs: obj.tally(pool.map(func, xs))


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
    it is not, ``worst`` itself is.  Real parameters are then rounded, and integers shrunk again, keeping it
    certified."""
    def violated(p):
        return obj.score(p) > FLOAT_RTOL

    def certified(p):
        return violated(p) and _certificate(obj.bound, p) is not None

    start = next((p for p in (_smaller_integers(obj, worst, violated), worst) if _certificate(obj.bound, p)), None)
    if start is None:
        return {}
    p = _smaller_integers(obj, _shorter_reals(obj, start, certified), certified)
    return {"status": "violated", "certified": True, "counterexample": p, "certificate": _certificate(obj.bound, p)}


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
        lhs, rhs = (mp.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else mp.mpf(v) for v in (lhs, rhs))
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
    """Each real parameter, in order, replaced by the first of its roundings (:func:`_roundings`) inside its range
    (to float precision: 1/1000 is in LogReal(1e-3, ...)) for which ``ok`` holds; else kept."""
    for name in obj.names:
        dim = obj.bound.space[name]
        if dim.integer:
            continue
        for q in _roundings(point[name]):
            if dim.contains(float(q)) and ok({**point, name: q}):
                point = {**point, name: q}
                break
    return point


def _roundings(x) -> list:
    """Rationals near ``x`` by increasing denominator d (:data:`DENOMINATORS`): for each d the nearest one with
    denominator at most d, then the multiples of 1/d on either side of ``x`` (a counterexample near the edge of the
    hypotheses, such as b just above 1/2, keeps its side: 51/100 rather than 1/2)."""
    x = Fraction(x)
    out = []
    for d in DENOMINATORS:
        below = Fraction(math.floor(x * d), d)
        for q in (x.limit_denominator(d), below, below + Fraction(1, d)):
            if q not in out:
                out.append(q)
    return out


def describe(point: dict | None) -> str:
    """``k = 3, a = 1/1000, b = 0``: a point as a reader writes it (floats to 6 significant digits)."""
    if point is None:
        return ""
    return ", ".join(f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}" for k, v in point.items())


__all__ = ["bound", "hunt", "Real", "LogReal", "Integer", "LogInteger"]
