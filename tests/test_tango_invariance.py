"""Invariance under changes of units (issue 15; 000_3b01ec78f4f92394.txt, the text after Definition 1: the natural
gradient's "invariance to any change of variable in the parameter"), for every model of ``theorytools.tango``.

* The natural-gradient flow (eq. 12) and direction ``J^-1 E g``: rescaling parameters, features or targets by factors
  1e-8..1e8 gives the same result after mapping back, to rounding.  Softmax: J is singular by construction (adding one
  vector to every row of W changes no probability); under a diagonal rescaling the library's choice of null-space
  component (least ``|u|_diag J``) is itself invariant, so W is compared as it is; under a general linear change of
  variable only what the data identify is compared: W minus its mean row (the logits up to a common shift).
* TANGO (Definition 1) is not invariant by itself: with ``theta' = S theta`` it is TANGO on theta' with the
  preconditioner ``C' = S C S`` (the text after eq. 7), so the same samples and pseudo-samples (common random numbers)
  give ``theta'_k = S theta_k`` when C transforms so: ``C' = S^2`` for plain TANGO (``gamma c^2`` for a scalar
  factor c, or a gamma rule, which scales like 1/|g~|^2 by itself), and the exact diagonal-Fisher preconditioner
  (``C^-1 = diag J``), which transforms so by itself.  Linear regression's s2 scales J by 1/s2: gamma scales with s2.
* The closed form of the Gaussian flow and the solver agree everywhere in (mu, ln sigma) in [-1e6, 1e6] x [-30, 30].
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import theorytools.tango as T
from theorytools.tango import instances as TI

pytestmark = pytest.mark.filterwarnings("ignore::theorytools.tango.algorithms.StabilityWarning")

#: Agreement "to rounding": the two computations take the same steps in different units; observed <= 2e-14 relative
#: to each coordinate's scale over the path (flows) and <= 1e-13 (25 TANGO steps).
RTOL = 1e-10
FACTOR = st.floats(-8.0, 8.0).map(lambda e: 10.0**e)


def _factors(n):
    return st.lists(FACTOR, min_size=n, max_size=n).map(np.array)


def _inst(name, N=30):
    return {"gaussian": TI.gaussian(3.0, 2.0), "linear": TI.linear_regression(3, N, 0.5, seed=2),
            "logistic": TI.logistic_regression(3, N, seed=2), "softmax": TI.softmax_regression(3, 2, N, seed=2)}[name]


def _close(got, want, rtol=RTOL):
    """Equal to ``rtol`` in the units of each coordinate (its largest magnitude along the path)."""
    want = np.atleast_2d(want)
    scale = np.max(np.abs(want), axis=0)
    np.testing.assert_array_less(np.max(np.abs(np.atleast_2d(got) - want), axis=0), rtol * scale + 1e-300)


def _centered(theta, K=3):
    """W minus its mean row, flattened: what the data identify in softmax regression."""
    W = np.asarray(theta).reshape(np.shape(theta)[:-1] + (K, -1))
    return (W - W.mean(axis=-2, keepdims=True)).reshape(np.shape(theta))


def _per_feature(inst, c):
    """Parameter scaling of the feature rescaling x' = x / c: theta' = S theta, S = c (per feature, every class)."""
    return np.tile(c, inst.theta0.size // c.size)


# -- the natural-gradient flow and direction -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["gaussian", "linear", "logistic", "softmax"])
@settings(max_examples=2, deadline=None)
@given(data=st.data())
def test_flow_and_direction_are_invariant_under_parameter_rescaling(name, data):
    """theta' = S theta with any diagonal S: F' = S^-1 F, J' = S^-1 J S^-1 (preconditioned_flow, natural_direction)."""
    inst = _inst(name)
    m, x, y = inst.model, inst.x, inst.y
    d = inst.theta0.size
    s = data.draw(_factors(d))
    theta0 = inst.theta0 + np.random.default_rng(data.draw(st.integers(0, 99))).uniform(-0.5, 0.5, d)
    F, A = (lambda th: m.expected_gradient(th, x, y)), (lambda th: m.fisher(th, x))
    t = np.array([0.0, 0.3, 1.5])
    base = T.preconditioned_flow(F, A, theta0, t)
    scaled = T.preconditioned_flow(lambda th: F(th / s) / s, lambda th: A(th / s) / np.outer(s, s), s * theta0, t) / s
    _close(scaled, base)
    u = T.natural_direction(A(theta0), F(theta0))
    _close(T.natural_direction(A(theta0) / np.outer(s, s), F(theta0) / s) / s, u)


@pytest.mark.parametrize("name", ["linear", "logistic", "softmax"])
@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_flow_is_invariant_under_feature_rescaling(name, data):
    """x' = x / c (per column): theta' = c theta for every class; the model's own natural_gradient_flow."""
    inst = _inst(name)
    c = data.draw(_factors(inst.x.shape[1]))
    S = _per_feature(inst, c)
    theta0 = inst.theta0 + 0.2
    t = np.array([0.0, 0.5, 2.0])
    base = T.natural_gradient_flow(inst.model, theta0, t, inst.x, inst.y)
    _close(T.natural_gradient_flow(inst.model, S * theta0, t, inst.x / c, inst.y) / S, base)


@settings(max_examples=4, deadline=None)
@given(a=FACTOR, b=FACTOR)
@example(a=1e-8, b=1e8)
def test_linear_regression_flow_is_invariant_under_target_rescaling_and_s2(a, b):
    """y' = a y with s2' = a^2 s2 gives theta' = a theta; s2 alone scales J and E g alike (the flow ignores it)."""
    inst = _inst("linear")
    t = np.array([0.0, 0.5, 2.0])
    theta0 = np.array([0.3, -0.2, 0.1])
    base = T.natural_gradient_flow(inst.model, theta0, t, inst.x, inst.y)
    targets = T.natural_gradient_flow(T.LinearRegressionModel(a * a * inst.model.s2), a * theta0, t, inst.x, a * inst.y)
    _close(targets / a, base)
    _close(T.natural_gradient_flow(T.LinearRegressionModel(b * inst.model.s2), theta0, t, inst.x, inst.y), base)


@settings(max_examples=4, deadline=None)
@given(c=FACTOR, shift=st.floats(-5.0, 5.0))
@example(c=1e-8, shift=1.0)
@example(c=1e8, shift=-5.0)
def test_gaussian_flow_is_invariant_under_data_rescaling(c, shift):
    """Data in other units and origin, y' = c (y + shift): N(c (m + shift), c^2 s^2), mu' = c (mu + shift),
    ln sigma' = ln sigma + ln c."""
    m = T.GaussianModel(3.0, 2.0)
    t = np.array([0.0, 0.5, 2.0])
    base = T.natural_gradient_flow(m, [0.5, 0.3], t)
    got = T.natural_gradient_flow(T.GaussianModel(c * (3.0 + shift), c * 2.0), [c * (0.5 + shift), 0.3 + np.log(c)], t)
    _close(np.stack([got[:, 0] / c - shift, got[:, 1] - np.log(c)], axis=1), base, rtol=1e-9)


@settings(max_examples=2, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_softmax_flow_under_a_general_change_of_variable_keeps_what_is_identified(seed):
    """theta = R phi, R a random invertible matrix: only W minus its mean row is identified (J is singular by
    construction), so that is what agrees; the direction solves J u = E g in both coordinates."""
    inst = _inst("softmax")
    m, x, y = inst.model, inst.x, inst.y
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((6, 6)) + 3.0 * np.eye(6)
    F, A = (lambda th: m.expected_gradient(th, x, y)), (lambda th: m.fisher(th, x))
    theta0 = rng.uniform(-1.0, 1.0, 6)
    t = np.array([0.0, 0.5, 1.5])
    base = T.preconditioned_flow(F, A, theta0, t)
    phi = T.preconditioned_flow(lambda p: R.T @ F(R @ p), lambda p: R.T @ A(R @ p) @ R, np.linalg.solve(R, theta0), t)
    _close(_centered(phi @ R.T), _centered(base), rtol=1e-8)
    u = T.natural_direction(A(theta0), F(theta0))
    np.testing.assert_allclose(A(theta0) @ u, F(theta0), atol=1e-12 * np.max(np.abs(F(theta0))))


# -- the closed form of the Gaussian flow against the solver -------------------------------------------------------

CORNERS = [(1e6, -30.0), (-1e6, 30.0), (0.0, 15.0), (10.0, 0.0)]


def _closed_form_agrees(mu0, ls0):
    m = T.GaussianModel(10.0, 1.0)
    t = np.array([0.0, 0.25, 1.0, 4.0])
    ode = T.natural_gradient_flow(m, [mu0, ls0], t)
    closed = m.natural_gradient_flow_closed_form([mu0, ls0], t)
    assert np.all(np.isfinite(closed))
    # in the units of the path: mu moves between mu0 and m; ln sigma between ls0 and ln s
    assert np.max(np.abs(ode[:, 0] - closed[:, 0])) <= 1e-10 * max(abs(mu0), abs(m.data_mean), m.data_std)
    assert np.max(np.abs(ode[:, 1] - closed[:, 1])) <= 1e-10 * max(1.0, abs(ls0))


@pytest.mark.parametrize("mu0,ls0", CORNERS)
def test_gaussian_closed_form_agrees_with_the_solver_at_the_corners(mu0, ls0):
    _closed_form_agrees(mu0, ls0)


@settings(max_examples=4, deadline=None)
@given(mu0=st.floats(-1e6, 1e6), ls0=st.floats(-30.0, 30.0))
def test_gaussian_closed_form_agrees_with_the_solver_everywhere(mu0, ls0):
    _closed_form_agrees(mu0, ls0)


# -- TANGO iterates, with common random numbers --------------------------------------------------------------------

def _listed(inst, K, seed=0):
    rng = np.random.default_rng(seed)
    if inst.model.unsupervised:
        return None, inst.model.sample_data(rng, K), inst.model.sample_data(rng, K)
    idx = rng.integers(0, len(inst.y), K)
    return inst.x[idx], inst.y[idx], inst.y[rng.integers(0, len(inst.y), K)]


@pytest.mark.parametrize("name", ["linear", "logistic", "softmax"])
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_tango_iterates_are_invariant_under_feature_rescaling_with_the_transformed_preconditioner(name, data):
    """x' = x / c: TANGO with C' = S C S (plain TANGO: C' = S^2) and with the exact diagonal Fisher (no change)."""
    inst = _inst(name)
    c = data.draw(_factors(inst.x.shape[1]))
    S = _per_feature(inst, c)
    x, y, yt = _listed(inst, 25)
    theta0 = inst.theta0 + 0.1
    kw = dict(gamma=0.02, dt=0.05, y=y, ytilde=yt, on_unstable="ignore")
    plain = T.tango_iterates(inst.model, theta0, x=x, **kw)
    _close(T.tango_iterates(inst.model, S * theta0, x=x / c, C=np.diag(S * S), **kw) / S, plain)
    exact = T.tango_iterates(inst.model, theta0, x=x, C=T.ExactDiagonalFisher(inst.model, inst.x), **kw)
    _close(T.tango_iterates(inst.model, S * theta0, x=x / c, C=T.ExactDiagonalFisher(inst.model, inst.x / c), **kw) / S,
           exact)


@pytest.mark.parametrize("name", ["linear", "logistic", "softmax"])
@settings(max_examples=4, deadline=None)
@given(c=FACTOR)
def test_tango_with_a_gamma_rule_is_invariant_under_a_scalar_rescaling(name, c):
    """theta' = c theta (features / c): a gamma rule scales like 1/|g~|^2 = c^2 / |g|^2 by itself, so plain TANGO
    needs no change; a fixed gamma needs gamma c^2."""
    inst = _inst(name)
    x, y, yt = _listed(inst, 25)
    theta0 = inst.theta0 + 0.1
    kw = dict(dt=0.05, y=y, ytilde=yt, on_unstable="ignore")
    rule = T.tango_iterates(inst.model, theta0, "max_norm", x=x, **kw)
    _close(T.tango_iterates(inst.model, c * theta0, "max_norm", x=x / c, **kw) / c, rule)
    fixed = T.tango_iterates(inst.model, theta0, 0.02, x=x, **kw)
    _close(T.tango_iterates(inst.model, c * theta0, 0.02 * c * c, x=x / c, **kw) / c, fixed)


@settings(max_examples=4, deadline=None)
@given(c=FACTOR, shift=st.floats(-5.0, 5.0))
@example(c=1e-8, shift=1.0)
@example(c=1e8, shift=-5.0)
def test_gaussian_tango_is_invariant_under_data_rescaling_with_the_exact_diagonal_fisher(c, shift):
    """Data and pseudo-samples in other units and origin, y' = c (y + shift): mu' = c (mu + shift), ln sigma' =
    ln sigma + ln c, a diagonal change of variable diag(c, 1) after a shift; the exact diagonal Fisher follows it, and
    so does C' = diag(c^2, 1)."""
    m = T.GaussianModel(3.0, 2.0)
    _, y, yt = _listed(TI.gaussian(3.0, 2.0), 25)
    m2 = T.GaussianModel(c * (3.0 + shift), c * 2.0)
    theta0, theta0c = np.array([0.5, 0.3]), np.array([c * (0.5 + shift), 0.3 + np.log(c)])
    y2, yt2 = c * (y + shift), c * (yt + shift)
    kw = dict(gamma=0.02, dt=0.05, x=None, on_unstable="ignore")

    def back(th):
        return np.stack([th[:, 0] / c - shift, th[:, 1] - np.log(c)], axis=1)

    exact = T.tango_iterates(m, theta0, y=y, ytilde=yt, C=T.ExactDiagonalFisher(m), **kw)
    _close(back(T.tango_iterates(m2, theta0c, y=y2, ytilde=yt2, C=T.ExactDiagonalFisher(m2), **kw)), exact, rtol=1e-9)
    plain = T.tango_iterates(m, theta0, y=y, ytilde=yt, **kw)
    _close(back(T.tango_iterates(m2, theta0c, y=y2, ytilde=yt2, C=np.diag([c * c, 1.0]), **kw)), plain, rtol=1e-9)


@settings(max_examples=3, deadline=None)
@given(a=FACTOR, b=FACTOR)
def test_simulated_tango_on_linear_regression_is_invariant_under_targets_and_s2(a, b):
    """Common random numbers through the seed: y' = a y, s2' = a^2 s2, gamma' = a^2 gamma gives theta' = a theta;
    s2' = b s2 with gamma' = b gamma gives the same theta (g scales by 1/b, the pseudo-sample gradient by 1/sqrt(b))."""
    inst = _inst("linear")
    kw = dict(dt=0.05, steps=30, runs=8, seed=4, k=[0, 10, 30], progress=False, x=inst.x)
    theta0 = np.array([0.3, -0.2, 0.1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = T.simulate_tango(inst.model, theta0, 0.02, y=inst.y, **kw).theta_mean
        targets = T.simulate_tango(T.LinearRegressionModel(a * a * inst.model.s2), a * theta0, 0.02 * a * a, y=a * inst.y,
                                   **kw).theta_mean
        s2 = T.simulate_tango(T.LinearRegressionModel(b * inst.model.s2), theta0, 0.02 * b, y=inst.y, **kw).theta_mean
    _close(targets / a, base)
    _close(s2, base)
