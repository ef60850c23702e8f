"""Verdicts: the outcome of one check on one instance.

Four kinds of check share one verdict type (``../shared/DESIGN.md``, "A verification check"):

* ``deterministic`` -- a closed form against a bound or a second route, with a float tolerance
  justified where the check is defined;
* ``statistical`` -- a Monte Carlo estimate against its exact value; the verdict carries a
  p-value and is decided by the runner, which controls the family-wise false-failure rate of the
  whole run (Holm–Bonferroni);
* ``order`` -- a fitted log-log slope with its confidence interval against a predicted order;
* ``measured`` -- a quantity the theory does not claim to predict (e.g. sampled-data noise outside
  the constant-Sigma_g hypothesis): reported, never failed.

Status values: PASS, FAIL, SKIPPED (hypotheses not met: the reason says which), MEASURED, and
PENDING for a statistical verdict not yet decided by the runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats

from theorytools.linalg import as_array, as_bool, as_choice, as_float, as_int, as_text, nonnegative, real_array

PASS, FAIL, SKIPPED, MEASURED, PENDING = "PASS", "FAIL", "SKIPPED", "MEASURED", "PENDING"
STATUSES = (PASS, FAIL, SKIPPED, MEASURED, PENDING)
KINDS = ("deterministic", "statistical", "order", "measured")


def _arrays(**arrays) -> list:
    """The named arrays as float64 arrays broadcast to one shape.  NaN and inf pass (they are the results under test:
    the verdict FAILs and names them, see :func:`_non_finite`); anything that is not a non-empty real array, or shapes
    that do not broadcast, is refused naming the argument."""
    out = {}
    for name, a in arrays.items():
        out[name] = real_array(name, a)
        if out[name].size == 0:
            raise ValueError(f"{name} must not be empty (a comparison of nothing verifies nothing), got shape "
                             f"{out[name].shape}")
    try:
        return np.broadcast_arrays(*out.values())
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in out.items())
        raise ValueError(f"{' and '.join(out)} must have matching shapes, got {shapes}") from None


#: the curves of a figure panel, drawn over ``k``, and its labels (:meth:`Verdict.with_series`)
_CURVES = ("exact", "lower", "upper", "bound", "mc_mean", "mc_lo", "mc_hi")
_LABELS = ("xlabel", "ylabel", "exact_label", "bound_label")


def _probability(name: str, p) -> float:
    return as_float(name, p, low=0.0, high=1.0)


def _nonnegative_entries(name: str, a: np.ndarray) -> None:
    """Entries that are >= 0 by construction (a standard error, a sum of squares): a negative one is a bug of the
    caller, not a result (NaN passes: the verdict FAILs naming it)."""
    if np.any(a < 0):
        i = int(np.argmax(a < 0))
        raise ValueError(f"{name} must be >= 0, entry {i} is {a.flat[i]:g}")


def _non_finite(what: str, **arrays) -> str:
    """A message naming the arrays with NaN/inf entries (a NaN compares False and must not PASS), or ''."""
    bad = [f"{name} ({int(np.size(a) - np.count_nonzero(np.isfinite(a)))} entries)"
           for name, a in arrays.items() if not np.all(np.isfinite(a))]
    return f"non-finite values in {', '.join(bad)} while checking {what}" if bad else ""


def _worst(x):
    x = np.asarray(x, dtype=float)
    return float(np.max(x)) if x.size else 0.0


@dataclass(frozen=True)
class Verdict:
    """Outcome of a check.  ``details`` holds the numbers behind it; ``series`` holds curves for figures.

    Usually built by a class method (:meth:`close`, :meth:`within`, :meth:`statistical`, :meth:`order`, ...) rather
    than directly.

    Parameters
    ----------
    status : str
        ``"PASS"``, ``"FAIL"``, ``"SKIPPED"``, ``"MEASURED"`` or ``"PENDING"`` (statistical, not yet decided).
    kind : str
        ``"deterministic"``, ``"statistical"``, ``"order"`` or ``"measured"``.
    message : str
        One line for the report.
    details : dict, optional
        The numbers behind the verdict.
    series : dict, optional
        Curves for the report's figures (see :meth:`with_series`).
    p_value : float, optional
        The p-value of a statistical verdict (required when ``status`` is PENDING).

    Examples
    --------
    >>> from verification import Verdict
    >>> v = Verdict.close(0.1 + 0.2, 0.3, rtol=1e-12)  # two routes agreeing to rounding
    >>> v.status, v.failed
    ('PASS', False)
    >>> Verdict.close(3.0, 2.0, rtol=0.1).status  # 50% off
    'FAIL'
    """

    status: str
    kind: str
    message: str
    details: dict = field(default_factory=dict)
    series: dict = field(default_factory=dict)
    p_value: float | None = None

    def __post_init__(self):
        as_choice("status", self.status, STATUSES)
        as_choice("kind", self.kind, KINDS)
        as_text("message", self.message)
        for name in ("details", "series"):
            if not isinstance(getattr(self, name), dict):
                raise TypeError(f"{name} must be a dict, got {getattr(self, name)!r}")
        if self.p_value is not None:
            object.__setattr__(self, "p_value", _probability("p_value", self.p_value))
        elif self.status == PENDING:
            raise ValueError("p_value must be given for a PENDING (statistical) verdict: the runner decides it from "
                             "the p-value, got None")

    @property
    def failed(self) -> bool:
        """Whether the status is FAIL.

        Returns
        -------
        bool
            ``status == "FAIL"``.

        Examples
        --------
        >>> from verification import Verdict
        >>> Verdict.close(1.0, 2.0, rtol=0.1).failed
        True
        """
        return self.status == FAIL

    def decided(self, reject: bool, adjusted_p: float) -> "Verdict":
        """A statistical verdict after the run-wide multiple-testing correction.

        Parameters
        ----------
        reject : bool
            Whether Holm's procedure rejects (FAIL) the check's null hypothesis.
        adjusted_p : float
            The Holm-adjusted p-value, kept in ``details``.

        Returns
        -------
        Verdict
            A copy with status PASS or FAIL.

        Examples
        --------
        >>> from verification import Verdict
        >>> v = Verdict("PENDING", "statistical", "a Monte Carlo mean", p_value=0.003)
        >>> d = v.decided(True, 0.009)
        >>> d.status, d.details["holm_adjusted_p"]
        ('FAIL', 0.009)
        """
        if self.status != PENDING:
            raise ValueError(f"only a PENDING verdict is decided, this one is {self.status}")
        status = FAIL if as_bool("reject", reject) else PASS
        return replace(self, status=status, details={**self.details,
                                                     "holm_adjusted_p": _probability("adjusted_p", adjusted_p)})

    def with_series(self, **series) -> "Verdict":
        """A copy with curves for the report's figures (:mod:`verification.report`).

        ``k`` (the abscissa: finite) and the curves drawn over it (``exact``, ``lower``, ``upper``, ``bound``,
        ``mc_mean``, ``mc_lo``, ``mc_hi``: NaN leaves a gap), each a vector of the length of ``k``; or ``paths``, a
        dict of label -> ``(x, y)``; axis and legend labels are strings.  Checked here, where the check's code can be
        named, not when the figures are drawn.

        Parameters
        ----------
        **series
            The curves, by name.

        Returns
        -------
        Verdict
            A copy with the curves added to ``series``.

        Examples
        --------
        >>> from verification import Verdict
        >>> v = Verdict.close(1.0, 1.0, rtol=0.0).with_series(k=[0, 1, 2], exact=[1.0, 0.5, 0.25])
        >>> sorted(v.series), v.series["exact"]
        (['exact', 'k'], [1.0, 0.5, 0.25])
        """
        k = series["k"] if "k" in series else self.series.get("k")
        if k is not None:
            k = as_array("k", k, ndim=1)
        for name in _CURVES:
            if name in series:
                if k is None:
                    raise ValueError(f"{name} is drawn over k: give k too")
                a = real_array(name, series[name])
                if a.shape != k.shape:
                    raise ValueError(f"{name} must be a vector of the length of k ({k.size}), got shape {a.shape}")
        for name in _LABELS:
            if name in series:
                as_text(name, series[name], nonempty=False)
        if "paths" in series:
            if not isinstance(series["paths"], dict) or not series["paths"]:
                raise TypeError(f"paths must be a non-empty dict of label -> (x, y), got {series['paths']!r}")
            for label, xy in series["paths"].items():
                if not (isinstance(xy, (tuple, list)) and len(xy) == 2):
                    raise ValueError(f"paths[{label!r}] must be a pair (x, y), got {xy!r}")
                x, y = real_array(f"paths[{label!r}] x", xy[0]), real_array(f"paths[{label!r}] y", xy[1])
                if x.ndim != 1 or x.shape != y.shape:
                    raise ValueError(f"paths[{label!r}] must be two vectors of one length, got shapes {x.shape} "
                                     f"and {y.shape}")
        return replace(self, series={**self.series, **series})

    # -- deterministic ----------------------------------------------------------------
    @classmethod
    def within(cls, value, lower, upper, rtol: float, what: str = "value") -> "Verdict":
        """``lower <= value <= upper`` up to ``rtol * |value|`` (rounding of independent routes).

        Parameters
        ----------
        value, lower, upper : float or array_like
            The value and its bounds, elementwise.
        rtol : float
            The tolerance relative to ``|value|``.
        what : str, default "value"
            The quantity's name in the message.

        Returns
        -------
        Verdict
            A deterministic PASS or FAIL.

        Examples
        --------
        >>> from verification import Verdict
        >>> Verdict.within([1.0, 2.0], [0.0, 1.0], [1.0, 3.0], rtol=1e-12).message
        'lower <= value <= upper at all 2 points'
        >>> Verdict.within(1.5, 0.0, 1.0, rtol=1e-12).status
        'FAIL'
        """
        value, lower, upper = _arrays(value=value, lower=lower, upper=upper)
        rtol, what = nonnegative("rtol", rtol), as_text("what", what)
        bad_input = _non_finite(what=what, value=value, lower=lower, upper=upper)
        if bad_input:
            return cls(FAIL, "deterministic", bad_input)
        slack = rtol * np.maximum(np.abs(value), np.finfo(float).tiny)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # rtol = 0: +-inf, or nan where equal
            below = (lower - value) / slack  # > 1 means a violation beyond the tolerance
            above = (value - upper) / slack
        bad = (below > 1) | (above > 1)
        lo_gap = (value - lower) / np.maximum(np.abs(value), np.finfo(float).tiny)
        hi_gap = (upper - value) / np.maximum(np.abs(value), np.finfo(float).tiny)
        details = {
            "rtol": rtol,
            "points": int(value.size),
            "violations": int(np.count_nonzero(bad)),
            "min_relative_gap_to_lower": float(np.min(lo_gap)) if value.size else 0.0,
            "min_relative_gap_to_upper": float(np.min(hi_gap)) if value.size else 0.0,
        }
        if bad.any():
            i = int(np.argmax(np.maximum(below, above)))
            msg = (f"{what} outside [lower, upper] at {details['violations']} of {value.size} points; worst at index {i}: "
                   f"lower={lower.flat[i]:.6g}, {what}={value.flat[i]:.6g}, upper={upper.flat[i]:.6g}")
            return cls(FAIL, "deterministic", msg, details)
        return cls(PASS, "deterministic", f"lower <= {what} <= upper at all {value.size} points", details)

    @classmethod
    def close(cls, value, reference, rtol: float, atol: float = 0.0, what: str = "value") -> "Verdict":
        """``|value - reference| <= atol + rtol |reference|`` elementwise.

        Parameters
        ----------
        value, reference : float or array_like
            The two routes' results (a scalar reference broadcasts).
        rtol : float
            The relative tolerance.
        atol : float, default 0.0
            The absolute tolerance.
        what : str, default "value"
            The quantity's name in the message.

        Returns
        -------
        Verdict
            A deterministic PASS or FAIL.

        Examples
        --------
        >>> from verification import Verdict
        >>> Verdict.close(0.1 + 0.2, 0.3, rtol=1e-12).status  # equal to rounding
        'PASS'
        >>> Verdict.close([1.0, 2.5], [1.0, 2.0], rtol=0.1).status  # 25% off in the second entry
        'FAIL'
        """
        # a scalar reference (e.g. 0) broadcasts; the failure message indexes both arrays
        value, reference = _arrays(value=value, reference=reference)
        rtol, atol, what = nonnegative("rtol", rtol), nonnegative("atol", atol), as_text("what", what)
        bad_input = _non_finite(what=what, value=value, reference=reference)
        if bad_input:
            return cls(FAIL, "deterministic", bad_input)
        err = np.abs(value - reference)
        allowed = atol + rtol * np.abs(reference)
        with np.errstate(over="ignore"):  # a reference of 0 (or ~tiny) makes the relative error infinite: reported as inf
            rel = err / np.maximum(np.abs(reference), np.finfo(float).tiny)
        details = {"rtol": rtol, "atol": atol, "max_abs_error": _worst(err), "max_rel_error": _worst(rel),
                   "points": int(value.size)}
        if not np.all(np.isfinite(value)) or np.any(err > allowed):
            i = int(np.argmax(np.where(np.isfinite(err), err - allowed, np.inf)))
            return cls(FAIL, "deterministic",
                       f"{what} disagrees with its reference: {value.flat[i]:.12g} vs {reference.flat[i]:.12g} "
                       f"(relative error {rel.flat[i]:.3e} > rtol {rtol:g})", details)
        return cls(PASS, "deterministic", f"{what} agrees with its reference (max relative error {details['max_rel_error']:.2e})", details)

    @classmethod
    def all_of(cls, verdicts, summary: str) -> "Verdict":
        """Several deterministic comparisons of one check as one verdict.

        The first that failed, else a PASS naming what agreed, how many comparisons, and the largest absolute error
        among them.

        Parameters
        ----------
        verdicts : sequence of Verdict
            The comparisons (at least one).
        summary : str
            What agreed, for the message.

        Returns
        -------
        Verdict
            The first failed verdict, or a PASS.

        Examples
        --------
        >>> from verification import Verdict
        >>> ok = Verdict.close(1.0, 1.0, rtol=0.0)
        >>> Verdict.all_of([ok, ok], "two routes").details["comparisons"]
        2
        >>> Verdict.all_of([ok, Verdict.close(2.0, 1.0, rtol=0.1)], "two routes").status
        'FAIL'
        """
        if isinstance(verdicts, (str, bytes)) or not hasattr(verdicts, "__iter__"):
            raise TypeError(f"verdicts must be a list of Verdict, got {verdicts!r}")
        verdicts = list(verdicts)
        if not verdicts:
            raise ValueError("verdicts must not be empty (all of no comparison verifies nothing), got []")
        for i, v in enumerate(verdicts):
            if not isinstance(v, Verdict):
                raise TypeError(f"verdicts must hold Verdict objects only, entry {i} is {v!r}")
        as_text("summary", summary)
        for v in verdicts:
            if v.failed:
                return v
        worst = max((v.details.get("max_abs_error", 0.0) for v in verdicts), default=0.0)
        return cls(PASS, "deterministic", f"{summary}: all {len(verdicts)} comparisons agree (largest error {worst:.2e}, "
                   "scaled where the comparison is)", {"comparisons": len(verdicts), "max_abs_error": worst})

    @classmethod
    def skipped(cls, reason: str, kind: str = "deterministic") -> "Verdict":
        """A SKIPPED verdict: the instance does not meet the check's hypotheses.

        Parameters
        ----------
        reason : str
            Which hypothesis is not met.
        kind : str, default "deterministic"
            The check's kind.

        Returns
        -------
        Verdict
            Status SKIPPED.

        Examples
        --------
        >>> from verification import Verdict
        >>> v = Verdict.skipped("n < 2: no variance")
        >>> v.status, v.message
        ('SKIPPED', 'n < 2: no variance')
        """
        return cls(SKIPPED, kind, as_text("reason", reason))

    # -- statistical ------------------------------------------------------------------
    @classmethod
    def statistical(cls, estimate, stderr, exact, runs: int, what: str = "Monte Carlo mean",
                    skewness=None, studentized: bool = True) -> "Verdict":
        """Two-sided z-tests of ``estimate == exact`` at each point, Bonferroni-combined within the check.

        ``p = min(1, m * min_i p_i)`` over the m points (valid whatever their correlation); the
        runner then applies Holm's step-down procedure over all statistical checks of the run.

        With ``skewness`` (the sample skewness g of the per-run values) the statistic is Johnson's
        (1978, JASA 73:536) skew-corrected ``t = z + g (1 + 2 z^2) / (6 sqrt(n))``: h(theta_k) is a
        quadratic form of the noise, as skewed as chi^2(1) (g ~ 2.8), and the plain studentized mean
        then exceeds ``|z| = 4.2`` (the smallest Holm threshold of the quick profile) 2.4 times as often
        as the normal tail says, nearly all in the lower tail.

        With ``studentized=False`` the standard error is exact (not estimated from the runs), and the
        skew correction is the Cornish-Fisher one for a standardized mean, ``z - g (z^2 - 1) / (6 sqrt(n))``.

        ``details["rel_stderr"]`` is the smallest ``stderr / |exact|`` over the points: the runner turns
        it into the smallest relative error the check would detect (its power).

        Parameters
        ----------
        estimate, stderr, exact : float or array_like
            The Monte Carlo means, their standard errors and the exact values, per point.
        runs : int
            The number of Monte Carlo runs.
        what : str, default "Monte Carlo mean"
            The quantity's name in the message.
        skewness : float or array_like, optional
            The sample skewness of the per-run values (for the skew correction).
        studentized : bool, default True
            False when the standard error is exact rather than estimated.

        Returns
        -------
        Verdict
            A PENDING verdict with its p-value, decided later by the runner.

        Examples
        --------
        One point at z = (1.02 - 1) / 0.01 = 2: ``p = 2 (1 - Phi(2)) = 0.0455``.

        >>> from verification import Verdict
        >>> v = Verdict.statistical([1.02], [0.01], [1.0], runs=100)
        >>> v.status, round(v.p_value, 4)
        ('PENDING', 0.0455)
        """
        extra = {} if skewness is None else {"skewness": skewness}
        estimate, stderr, exact, *skew = _arrays(estimate=estimate, stderr=stderr, exact=exact, **extra)
        runs, what = as_int("runs", runs, low=1), as_text("what", what)
        studentized = as_bool("studentized", studentized)
        _nonnegative_entries("stderr", stderr)
        bad_input = _non_finite(what=what, estimate=estimate, stderr=stderr, exact=exact,
                                **({"skewness": skew[0]} if skew else {}))
        if bad_input:  # decided FAIL by the runner whatever the correction: p = 0
            return cls(PENDING, "statistical", bad_input, {"runs": int(runs)}, p_value=0.0)
        # Where every run gives the same value (e.g. k = 0: h(theta_0)), stderr is 0 and the
        # comparison is deterministic: agreement to 1e-9 relative (two rounding routes) counts as z = 0.
        degenerate = stderr <= 0
        agree = np.abs(estimate - exact) <= 1e-9 * np.maximum(np.abs(exact), np.finfo(float).tiny)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(degenerate, np.where(agree, 0.0, np.inf), (estimate - exact) / np.where(degenerate, 1.0, stderr))
        if skew:
            g = skew[0]
            with np.errstate(invalid="ignore"):  # inf * 0 at degenerate points, which keep z
                shift = g * (1.0 + 2.0 * z * z) if studentized else -g * (z * z - 1.0)
                z = np.where(degenerate, z, z + shift / (6.0 * np.sqrt(runs)))
        p_each = 2.0 * stats.norm.sf(np.abs(z))
        p = float(min(1.0, z.size * np.min(p_each))) if z.size else 1.0
        i = int(np.argmax(np.abs(z))) if z.size else 0
        with np.errstate(divide="ignore", invalid="ignore"):
            rel_se = np.where(degenerate, np.inf, stderr / np.abs(exact))
        details = {"runs": int(runs), "points": int(z.size), "max_abs_z": float(np.max(np.abs(z))) if z.size else 0.0,
                   "max_rel_deviation": _worst(np.abs(estimate - exact) / np.maximum(np.abs(exact), np.finfo(float).tiny)),
                   "rel_stderr": float(np.min(rel_se)) if z.size else float("inf")}
        msg = (f"{what} vs exact: max |z| = {details['max_abs_z']:.2f} over {z.size} points "
               f"(worst: {estimate.flat[i]:.6g} ± {stderr.flat[i]:.2g} vs {exact.flat[i]:.6g}), {runs} runs")
        return cls(PENDING, "statistical", msg, details, p_value=p)

    @classmethod
    def at_most(cls, estimate, stderr, bound, runs: int, what: str = "Monte Carlo mean") -> "Verdict":
        """One-sided z-tests that each Monte Carlo ``estimate`` does not exceed ``bound``.

        ``bound`` is a theorem's upper bound on an expectation; Bonferroni over the points; decided by the runner
        (Holm).

        Parameters
        ----------
        estimate, stderr, bound : float or array_like
            The Monte Carlo means, their standard errors and the bounds, per point.
        runs : int
            The number of Monte Carlo runs.
        what : str, default "Monte Carlo mean"
            The quantity's name in the message.

        Returns
        -------
        Verdict
            A PENDING verdict with its p-value.

        Examples
        --------
        z = (0.9 - 1) / 0.05 = -2, so ``p = Phi(2) = 0.9772``:

        >>> from verification import Verdict
        >>> round(Verdict.at_most([0.9], [0.05], [1.0], runs=100).p_value, 4)
        0.9772
        """
        estimate, stderr, bound = _arrays(estimate=estimate, stderr=stderr, bound=bound)
        runs, what = as_int("runs", runs, low=1), as_text("what", what)
        _nonnegative_entries("stderr", stderr)
        bad_input = _non_finite(what=what, estimate=estimate, stderr=stderr, bound=bound)
        if bad_input:
            return cls(PENDING, "statistical", bad_input, {"runs": int(runs)}, p_value=0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(stderr > 0, (estimate - bound) / stderr, np.where(estimate > bound, np.inf, -np.inf))
        p = float(min(1.0, z.size * np.min(stats.norm.sf(z)))) if z.size else 1.0
        i = int(np.argmax(z)) if z.size else 0
        details = {"runs": int(runs), "points": int(z.size), "max_z": float(np.max(z)) if z.size else 0.0,
                   "max_ratio_to_bound": _worst(estimate / bound),
                   "rel_stderr": float(np.min(stderr / np.abs(bound))) if z.size else float("inf")}
        msg = (f"{what}: largest estimate / bound = {details['max_ratio_to_bound']:.3g} "
               f"(worst z = {z.flat[i]:.2f}), {runs} runs")
        return cls(PENDING, "statistical", msg, details, p_value=p)

    @classmethod
    def chi_square(cls, statistic, dof: int, what: str) -> "Verdict":
        """Two-sided test that each ``statistic ~ chi^2(dof)``.

        E.g. a sum of ``dof`` squared z-scores whose standard errors are under test: too small a sum means too
        large standard errors.  Bonferroni over the points; decided by the runner like :meth:`statistical`.

        Parameters
        ----------
        statistic : float or array_like
            The statistics (non-negative).
        dof : int
            The degrees of freedom.
        what : str
            The statistic's name in the message.

        Returns
        -------
        Verdict
            A PENDING verdict with its p-value.

        Examples
        --------
        A statistic at its mean: ``p = 2 min(F(10), 1 - F(10)) = 0.881`` for chi^2(10):

        >>> from verification import Verdict
        >>> round(Verdict.chi_square(10.0, 10, "sum of z^2").p_value, 3)
        0.881
        """
        t = np.atleast_1d(_arrays(statistic=statistic)[0])
        dof, what = as_int("dof", dof, low=1), as_text("what", what)
        _nonnegative_entries("statistic", t)  # a sum of squares
        bad_input = _non_finite(what=what, statistic=t)
        if bad_input:
            return cls(PENDING, "statistical", bad_input, {"dof": dof}, p_value=0.0)
        p_each = 2.0 * np.minimum(stats.chi2.cdf(t, dof), stats.chi2.sf(t, dof))
        p = float(min(1.0, t.size * np.min(p_each)))
        i = int(np.argmin(p_each))
        details = {"dof": int(dof), "points": int(t.size), "statistic": t.tolist(), "ratio_to_dof": (t / dof).tolist()}
        msg = f"{what}: chi^2 = {t[i]:.1f} on {dof} degrees of freedom (ratio {t[i] / dof:.2f}; 1 expected)"
        return cls(PENDING, "statistical", msg, details, p_value=p)

    @classmethod
    def measured(cls, message: str, **details) -> "Verdict":
        """A MEASURED verdict: a quantity the theory does not claim to predict, reported, never failed.

        Parameters
        ----------
        message : str
            The measurement, in words.
        **details
            The numbers behind it.

        Returns
        -------
        Verdict
            Status MEASURED, kind measured.

        Examples
        --------
        >>> from verification import Verdict
        >>> v = Verdict.measured("sampled-data noise: 0.1", noise=0.1)
        >>> v.status, v.details
        ('MEASURED', {'noise': 0.1})
        """
        return cls(MEASURED, "measured", message, details)

    # -- convergence order --------------------------------------------------------------
    @classmethod
    def order(cls, x, y, predicted: float, level: float = 0.99, tol: float = 0.0, what: str = "slope",
              at_least: bool = False) -> "Verdict":
        """Fit ``log y = c + slope log x`` by least squares and compare the slope with ``predicted``.

        PASS if ``predicted`` is within the slope's ``level`` confidence interval widened by ``tol`` (the bias
        allowed for pre-asymptotic terms).  With ``at_least`` (a rate that is an upper bound, e.g. O(sqrt(dt))),
        PASS if the slope is not significantly below ``predicted``.

        Parameters
        ----------
        x, y : array_like
            At least 3 points, x > 0 (e.g. step sizes) and y (e.g. errors).
        predicted : float
            The predicted order.
        level : float, default 0.99
            The confidence level.
        tol : float, default 0.0
            The widening of the interval.
        what : str, default "slope"
            The quantity's name in the message.
        at_least : bool, default False
            One-sided: PASS unless the slope is significantly below ``predicted``.

        Returns
        -------
        Verdict
            An order PASS or FAIL.

        Examples
        --------
        Errors ~ h^2 with a little noise: the fitted order is 2.

        >>> from verification import Verdict
        >>> v = Verdict.order([1.0, 2.0, 4.0, 8.0], [1.0, 4.04, 15.9, 64.3], predicted=2.0)
        >>> v.status, round(v.details["slope"], 2)
        ('PASS', 2.0)
        """
        x, y = real_array("x", x), real_array("y", y)
        if x.shape != y.shape or x.ndim != 1 or x.size < 3:
            raise ValueError(f"x and y must be vectors of one length, at least 3 points (a slope and its confidence "
                             f"interval), got shapes {x.shape} and {y.shape}")
        if not np.all(np.isfinite(x) & (x > 0)):
            i = int(np.argmax(~(np.isfinite(x) & (x > 0))))
            raise ValueError(f"x must be finite and > 0 (it is put on a log scale), entry {i} is {x[i]}")
        if np.all(x == x[0]):
            raise ValueError(f"x must hold at least two different values to fit a slope, got all {x[0]:g}")
        predicted, level = as_float("predicted", predicted), as_float("level", level, low=0, high=1, low_open=True,
                                                                         high_open=True)
        tol, what, at_least = nonnegative("tol", tol), as_text("what", what), as_bool("at_least", at_least)
        if not np.all(np.isfinite(y) & (y > 0)):  # the results under test: the verdict FAILs and says why
            return cls(FAIL, "order", _non_finite(what, y=y) or f"non-positive values of y while fitting {what}")
        lx, ly = np.log(x), np.log(y)
        fit = stats.linregress(lx, ly)
        half = stats.t.ppf(0.5 + level / 2, lx.size - 2) * fit.stderr + tol
        ok = fit.slope + half >= predicted if at_least else abs(fit.slope - predicted) <= half
        details = {"slope": float(fit.slope), "ci_half_width": float(half), "predicted": predicted, "points": int(lx.size)}
        msg = f"fitted {what} {fit.slope:.4f} ± {half:.2g} vs predicted {'>= ' if at_least else ''}{predicted:g}"
        return cls(PASS if ok else FAIL, "order", msg, details)
