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

PASS, FAIL, SKIPPED, MEASURED, PENDING = "PASS", "FAIL", "SKIPPED", "MEASURED", "PENDING"


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
    """Outcome of a check.  ``details`` holds the numbers behind it; ``series`` holds curves for figures."""

    status: str
    kind: str
    message: str
    details: dict = field(default_factory=dict)
    series: dict = field(default_factory=dict)
    p_value: float | None = None

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def decided(self, reject: bool, adjusted_p: float) -> "Verdict":
        """A statistical verdict after the run-wide multiple-testing correction."""
        status = FAIL if reject else PASS
        return replace(self, status=status, details={**self.details, "holm_adjusted_p": adjusted_p})

    def with_series(self, **series) -> "Verdict":
        return replace(self, series={**self.series, **series})

    # -- deterministic ----------------------------------------------------------------
    @classmethod
    def within(cls, value, lower, upper, rtol: float, what: str = "value") -> "Verdict":
        """``lower <= value <= upper`` up to ``rtol * |value|`` (rounding of independent routes)."""
        value, lower, upper = (np.asarray(v, dtype=float) for v in (value, lower, upper))
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
        """``|value - reference| <= atol + rtol |reference|`` elementwise."""
        # a scalar reference (e.g. 0) broadcasts; the failure message indexes both arrays
        value, reference = np.broadcast_arrays(np.asarray(value, dtype=float), np.asarray(reference, dtype=float))
        bad_input = _non_finite(what=what, value=value, reference=reference)
        if bad_input:
            return cls(FAIL, "deterministic", bad_input)
        err = np.abs(value - reference)
        allowed = atol + rtol * np.abs(reference)
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
        """Several deterministic comparisons of one check as one verdict: the first that failed, else a PASS
        naming what agreed, how many comparisons, and the largest absolute error among them."""
        verdicts = list(verdicts)
        for v in verdicts:
            if v.failed:
                return v
        worst = max((v.details.get("max_abs_error", 0.0) for v in verdicts), default=0.0)
        return cls(PASS, "deterministic", f"{summary}: all {len(verdicts)} comparisons agree (largest error {worst:.2e}, "
                   "scaled where the comparison is)", {"comparisons": len(verdicts), "max_abs_error": worst})

    @classmethod
    def skipped(cls, reason: str, kind: str = "deterministic") -> "Verdict":
        return cls(SKIPPED, kind, reason)

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
        then exceeds |z| = 4.2 (the smallest Holm threshold of the quick profile) 2.4 times as often
        as the normal tail says, nearly all in the lower tail.

        With ``studentized=False`` the standard error is exact (not estimated from the runs), and the
        skew correction is the Cornish-Fisher one for a standardized mean, ``z - g (z^2 - 1) / (6 sqrt(n))``.

        ``details["rel_stderr"]`` is the smallest ``stderr / |exact|`` over the points: the runner turns
        it into the smallest relative error the check would detect (its power).
        """
        estimate, stderr, exact = (np.asarray(v, dtype=float) for v in (estimate, stderr, exact))
        bad_input = _non_finite(what=what, estimate=estimate, stderr=stderr, exact=exact)
        if bad_input:  # decided FAIL by the runner whatever the correction: p = 0
            return cls(PENDING, "statistical", bad_input, {"runs": int(runs)}, p_value=0.0)
        # Where every run gives the same value (e.g. k = 0: h(theta_0)), stderr is 0 and the
        # comparison is deterministic: agreement to 1e-9 relative (two rounding routes) counts as z = 0.
        degenerate = stderr <= 0
        agree = np.abs(estimate - exact) <= 1e-9 * np.maximum(np.abs(exact), np.finfo(float).tiny)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(degenerate, np.where(agree, 0.0, np.inf), (estimate - exact) / np.where(degenerate, 1.0, stderr))
        if skewness is not None:
            g = np.asarray(skewness, dtype=float)
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
        """One-sided z-tests that each Monte Carlo ``estimate`` does not exceed ``bound`` (a theorem's upper
        bound on an expectation), Bonferroni over the points; decided by the runner (Holm)."""
        estimate, stderr, bound = (np.asarray(v, dtype=float) for v in (estimate, stderr, bound))
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
        """Two-sided test that each ``statistic ~ chi^2(dof)`` (e.g. a sum of ``dof`` squared z-scores whose
        standard errors are under test: too small a sum means too large standard errors), Bonferroni over
        the points; decided by the runner like :meth:`statistical`."""
        t = np.atleast_1d(np.asarray(statistic, dtype=float))
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
        return cls(MEASURED, "measured", message, details)

    # -- convergence order --------------------------------------------------------------
    @classmethod
    def order(cls, x, y, predicted: float, level: float = 0.99, tol: float = 0.0, what: str = "slope",
              at_least: bool = False) -> "Verdict":
        """Fit ``log y = c + slope log x`` by least squares; PASS if ``predicted`` is within the slope's
        ``level`` confidence interval widened by ``tol`` (the bias allowed for pre-asymptotic terms).
        With ``at_least`` (a rate that is an upper bound, e.g. O(sqrt(dt))), PASS if the slope is not
        significantly below ``predicted``."""
        lx, ly = np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float))
        if not (np.all(np.isfinite(lx)) and np.all(np.isfinite(ly))):
            return cls(FAIL, "order", _non_finite(what, x=lx, y=ly) or f"non-positive values while fitting {what}")
        fit = stats.linregress(lx, ly)
        half = stats.t.ppf(0.5 + level / 2, max(lx.size - 2, 1)) * fit.stderr + tol
        ok = fit.slope + half >= predicted if at_least else abs(fit.slope - predicted) <= half
        details = {"slope": float(fit.slope), "ci_half_width": float(half), "predicted": predicted, "points": int(lx.size)}
        msg = f"fitted {what} {fit.slope:.4f} ± {half:.2g} vs predicted {'>= ' if at_least else ''}{predicted:g}"
        return cls(PASS if ok else FAIL, "order", msg, details)
