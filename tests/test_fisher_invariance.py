"""Scale invariance of the Fisher topic (issue 15): rescaling input features, targets (with the output layer) or
parameters by factors from 1e-8 to 1e8 gives the same undamped natural-gradient directions after mapping back, to
rounding, and the same rank decisions; the Gaussian Fisher, its coordinates, the KL and the §12 natural-gradient steps
stay right at extreme scales; the categorical Fisher and its pseudo-inverse stay exact at extreme logits.

Why each law holds (001_7d31b3ff3a2f0401.txt §12, Theorem 1: the Fisher transforms as ``J^T F J``):

* input feature i scaled by c_i with the first-layer row i of weights scaled by 1/c_i: the network computes the same
  function, every per-example gradient becomes ``S g`` (S = c_i on that row's entries), F becomes ``S F S`` for the
  exact and the empirical Fisher alike, so ``d' = S^-1 d`` and the step in the original weights, ``S d'``, is d;
* squared loss, targets and the whole output layer scaled by c: the exact Fisher (F_R = I) becomes ``c^2 S F S`` and
  the gradient ``c^2 S g`` (S = 1 on hidden layers, 1/c on the output layer): the step maps back to d exactly.  The
  empirical Fisher of the squared loss is quadratic in the residuals, ``c^4 S F S``: its step maps back to
  ``d / c^2`` -- the empirical Fisher is not a metric of the model, so its step depends on the units of the targets;
* a singular F (softmax: z + t 1 is the same distribution) has no unique solution: the pseudo-inverse step is the
  minimum-norm one in each coordinate system, and what is invariant is its effect ``J d`` on the outputs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import theorytools.fisher as FI
from theorytools.errors import HypothesisError, NonFiniteError

IV = FI.invariance
EPS = np.finfo(float).eps
LOG_FACTOR = st.floats(-8.0, 8.0)


def _net(loss="squared", m=20, seed=0, distinct=None):
    """A 3-2-2 tanh net (P = 14) with m examples; ``distinct`` rows repeated to make F singular by construction."""
    rng = np.random.default_rng(seed)
    net = FI.MLP((3, 2, 2), loss)
    X = rng.standard_normal((distinct or m, 3))
    Y = rng.standard_normal((distinct or m, 2)) if loss == "squared" else rng.integers(0, 2, distinct or m)
    if distinct:
        X, Y = np.tile(X, (m // distinct, 1)), np.tile(Y, (m // distinct,) + (1,) * (Y.ndim - 1))
    return net, net.init(rng), X, Y


def _rescale_features(Ws, X, c):
    """Inputs scaled by c (per feature), first-layer weight rows by 1/c: the same network function."""
    W0 = Ws[0].copy()
    W0[:-1] /= c[:, None]
    return [W0, *Ws[1:]], X * c


def _rel(a, b):
    return max(float(np.max(np.abs(x - y)) / np.max(np.abs(y))) for x, y in zip(a, b))


@settings(max_examples=15, deadline=None)
@given(logc=st.lists(LOG_FACTOR, min_size=3, max_size=3), fisher=st.sampled_from(FI.mlp.FISHERS),
       method=st.sampled_from(["exact", "block_explicit"]), seed=st.integers(0, 2**16))
def test_undamped_ngd_direction_maps_back_under_feature_rescaling(logc, fisher, method, seed):
    net, Ws, X, Y = _net(seed=seed)
    c = 10.0 ** np.array(logc)
    D = FI.ngd.direction(net, Ws, X, Y, method, beta=0.0, fisher=fisher)
    Ws2, X2 = _rescale_features(Ws, X, c)
    D2 = FI.ngd.direction(net, Ws2, X2, Y, method, beta=0.0, fisher=fisher)
    back = [D2[0] * np.r_[c, 1.0][:, None], D2[1]]  # S d' in the original weights
    # the equilibrated systems agree entry by entry to rounding: the directions to cond(D F D) eps
    assert _rel(back, D) < 1e-8


@settings(max_examples=15, deadline=None)
@given(logc=LOG_FACTOR, seed=st.integers(0, 2**16))
def test_target_rescaling_leaves_the_exact_fisher_step_and_scales_the_empirical_one(logc, seed):
    net, Ws, X, Y = _net(seed=seed)
    c = 10.0**logc
    Ws2 = [Ws[0], Ws[1] * c]  # outputs scaled by c with the targets
    D = FI.ngd.direction(net, Ws, X, Y, "exact", beta=0.0, fisher="exact")
    D2 = FI.ngd.direction(net, Ws2, X, Y * c, "exact", beta=0.0, fisher="exact")
    assert _rel([D2[0], D2[1] / c], D) < 1e-8
    E = FI.ngd.direction(net, Ws, X, Y, "exact", beta=0.0, fisher="empirical")
    E2 = FI.ngd.direction(net, Ws2, X, Y * c, "exact", beta=0.0, fisher="empirical")
    assert _rel([E2[0] * c**2, E2[1] * c], E) < 1e-8


@settings(max_examples=15, deadline=None)
@given(logc=st.lists(LOG_FACTOR, min_size=3, max_size=3), fisher=st.sampled_from(FI.mlp.FISHERS),
       seed=st.integers(0, 2**16))
def test_singular_fisher_is_singular_in_every_unit_and_its_pinv_step_moves_the_outputs_alike(logc, fisher, seed):
    """Softmax outputs: F is singular by construction (a constant added to both logits changes nothing).  The exact
    route refuses at every scale; the pseudo-inverse step changes the outputs J d by the same amount.

    The last claim is checked with the features' units spanning at most 1e8 (factors 10^(logc / 2)): the Euclidean
    minimum-norm step is not a units-free quantity, and when the units span 1e16 its null space is ill-conditioned
    (rounding at 1e-16 in the large coordinates moves the null vectors of the small ones by O(1)); the outputs then
    move differently by up to 1e-3 (2 of 120 random draws).  The rank decision is checked at every scale."""
    net, Ws, X, Y = _net("cross_entropy", seed=seed)
    with pytest.raises(HypothesisError, match="singular"):
        FI.ngd.direction(net, *_rescale_features(Ws, X, 10.0 ** np.array(logc)), Y, "exact", beta=0.0, fisher=fisher)
    moves = []
    for W, Xs in ((Ws, X), _rescale_features(Ws, X, 10.0 ** (np.array(logc) / 2))):
        with pytest.raises(HypothesisError, match="singular"):
            FI.ngd.direction(net, W, Xs, Y, "exact", beta=0.0, fisher=fisher)
        grads, factors = net.curvature_factors(W, Xs, Y, fisher)
        J, g = FI.ngd.stacked_jacobian(factors), net.flatten(grads)
        d = FI.damped_jacobian_solve(J, g, 0.0, "pinv")
        F = J.T @ J / J.shape[0]
        assert np.all(np.abs(F @ d - g) <= 1e-9 * (np.abs(F) @ np.abs(d) + np.abs(g)))  # g lies in range(F)
        moves.append(J @ d)
    assert np.max(np.abs(moves[1] - moves[0])) <= 1e-6 * np.max(np.abs(moves[0]))


@settings(max_examples=10, deadline=None)
@given(logc=st.lists(LOG_FACTOR, min_size=3, max_size=3), seed=st.integers(0, 2**16))
def test_repeated_examples_are_singular_in_every_unit(logc, seed):
    """20 examples but only 5 distinct ones: rank(F) <= 5 K < P = 14, decided on the equilibrated F (a cut relative to
    F's largest eigenvalue, or numpy's matrix_rank of J, moves with the units)."""
    net, Ws, X, Y = _net(m=20, seed=seed, distinct=5)
    for W, Xs in ((Ws, X), _rescale_features(Ws, X, 10.0 ** np.array(logc))):
        with pytest.raises(HypothesisError, match="singular"):
            FI.ngd.direction(net, W, Xs, Y, "exact", beta=0.0, fisher="empirical")


@settings(max_examples=15, deadline=None)
@given(logc=st.lists(LOG_FACTOR, min_size=2, max_size=2), seed=st.integers(0, 2**16))
def test_section13_min_norm_step_moves_the_logits_alike_in_every_feature_unit(logc, seed):
    """§13's softmax regression: -F^+ grad h solves F d = -grad h (F singular: W + 1 v^T is the same model), and its
    effect on the logits, up to the constant per example that F cannot see, is the same in every unit of the features."""
    rng = np.random.default_rng(seed)
    x = np.hstack([rng.standard_normal((8, 2)), np.ones((8, 1))])
    y, th = rng.integers(0, 3, 8), rng.standard_normal(9)
    c = np.r_[10.0 ** np.array(logc), 1.0]
    moves = []
    for xs, t in ((x, th), (x * c, (th.reshape(3, 3) / c).ravel())):
        P = FI.quadratic_model.SoftmaxRegression(xs, y, 3)
        d = FI.quadratic_model.min_norm_natural_gradient(P, t)
        F, g = P.fisher(t), P.grad(t)
        assert np.all(np.abs(F @ d + g) <= 1e-9 * (np.abs(F) @ np.abs(d) + np.abs(g)))
        dz = xs @ d.reshape(3, 3).T
        moves.append(dz - dz.mean(axis=1, keepdims=True))
    assert np.max(np.abs(moves[1] - moves[0])) <= 1e-6 * np.max(np.abs(moves[0]))


# -- the 1-D Gaussian at extreme scales -----------------------------------------------------------------------------------
def _to_mu_sigma_jacobian(mu, sigma, param):
    """d z_param / d(mu, sigma) in closed form."""
    s = sigma
    return {"mu_sigma": np.eye(2), "mu_log_sigma": np.diag([1.0, 1.0 / s]), "mu_log_var": np.diag([1.0, 2.0 / s]),
            "natural": np.array([[1.0 / s / s, -2.0 * mu / s / s / s], [0.0, 1.0 / s / s / s]])}[param]


@settings(max_examples=40, deadline=None)
@given(mu=st.floats(-1e6, 1e6).filter(lambda m: m == 0 or abs(m) > 1e-200), log_sigma=st.floats(-30.0, 30.0),
       param=st.sampled_from(FI.PARAMS))
def test_gaussian_fisher_and_coordinates_transform_exactly_at_extreme_scales(mu, log_sigma, param):
    """A^T F_param A = F_(mu, sigma) = diag(1/sigma^2, 2/sigma^2) (Theorem 1), entry by entry to the rounding of the
    product (``64 eps |A|^T |F| |A|``: the natural coordinates at mu = 1e6, sigma = e^-30 cancel terms 1e38 times the
    result, which no formula avoids), and the coordinates map back to (mu, sigma).  (A mu below 1e-200 makes the
    natural Fisher's 2 mu sigma^2 subnormal, where rounding is absolute: not drawn.)"""
    sigma = float(np.exp(log_sigma))
    F, A = FI.gaussian_fisher(mu, sigma, param), _to_mu_sigma_jacobian(mu, sigma, param)
    ref = np.diag([1.0 / sigma**2, 2.0 / sigma**2])
    bound = 64 * EPS * (np.abs(A).T @ np.abs(F) @ np.abs(A) + np.abs(ref))
    assert np.all(np.abs(A.T @ F @ A - ref) <= bound)
    back = FI.gaussian_mean_sd(FI.gaussian_coordinates(mu, sigma, param), param)
    assert abs(back[0] - mu) <= 1e-12 * max(abs(mu), sigma) and abs(back[1] - sigma) <= 1e-12 * sigma


@settings(max_examples=40, deadline=None)
@given(m1=st.floats(-1e6, 1e6), m2=st.floats(-1e6, 1e6), l1=st.floats(-700.0, 700.0), dl=st.floats(-5.0, 5.0))
def test_gaussian_kl_stays_finite_and_exact_for_any_representable_sigma(m1, m2, l1, dl):
    """KL(N(m1, e^{2 l1}) || N(m2, e^{2 l2})) in (mu, ln sigma) coordinates: sigma^2 overflows from ln sigma = 355, the KL
    (in ratios) does not; a KL beyond float64 (means 1e5 apart with sigma_2 = e^-698) is a NonFiniteError."""
    l2 = l1 + dl
    log_mean_term = 2.0 * (np.log(abs(m1 - m2)) - l2) if m1 != m2 else -np.inf
    if max(-2.0 * dl, log_mean_term) < 700.0:
        ref = dl + (np.exp(-2.0 * dl) + np.exp(log_mean_term)) / 2.0 - 0.5
        assert np.isclose(FI.gaussian_kl([m1, l1], [m2, l2], "mu_log_sigma"), ref, rtol=1e-9, atol=1e-12)
    elif log_mean_term > 710.0:
        with pytest.raises(NonFiniteError, match="KL"):
            FI.gaussian_kl([m1, l1], [m2, l2], "mu_log_sigma")
    assert FI.gaussian_kl([m1, l1], [m1, l1], "mu_log_sigma") == 0.0


@settings(max_examples=40, deadline=None)
@given(mu=st.floats(-1e6, 1e6), log_sigma=st.floats(-30.0, 30.0), logb=LOG_FACTOR, kind=st.sampled_from(["fisher", "empirical_fisher"]),
       u=st.floats(-3.0, 3.0), v=st.floats(-2.0, 2.0), m_d=st.floats(-1e6, 1e6), w=st.floats(-8.0, 8.0))
def test_section12_natural_gradient_step_maps_back_under_rescaling(mu, log_sigma, logb, kind, u, v, m_d, w):
    """Theorem 1 with zeta(gamma) = (gamma_1, b gamma_2), b from 1e-8 to 1e8, at (mu, ln sigma) in [-1e6, 1e6] x
    [-30, 30]: the step computed in gamma with J^T B J, mapped by J, is the step in theta, to rounding.  The Fisher
    with any data; the empirical Fisher with data near the model (far from it F-bar is rank one to rounding: all scores
    nearly equal)."""
    b, sigma = 10.0**logb, float(np.exp(log_sigma))
    if kind == "fisher":
        P = IV.GaussianFitProblem(m_d=m_d, s_d=sigma * 10.0**w, a=0.0, b=b, c=0.0)
    else:
        P = IV.GaussianFitProblem(m_d=mu + sigma * 10.0**v * u, s_d=sigma * 10.0**v, a=0.0, b=b, c=0.0)
    th, gam = np.array([mu, log_sigma]), np.array([mu, log_sigma / b])
    d_theta = IV.ng_step_theta(P, th, 1.0, kind) - th
    d_gamma = IV.ng_step_gamma(P, gam, 1.0, P.pulled_back(kind, gam)) - gam
    # rounding: of the subtractions new - old, and of the step's terms (|m_d| + |mu|; 1 + (s_d^2 + r^2) / sigma^2)
    r = P.m_d - mu
    terms = np.array([abs(P.m_d) + abs(mu), 1.0 + (P.s_d / sigma) ** 2 + (r / sigma) ** 2])
    rounding = 4 * EPS * np.abs(th) + 64 * EPS * terms
    assert np.all(np.abs(P.zeta_jacobian(gam) @ d_gamma - d_theta) <= 1e-8 * np.abs(d_theta) + rounding)
    if kind == "fisher":  # F^-1 grad h in closed form: (-(m_d - mu), (1 - (s_d^2 + r^2) / sigma^2) / 2)
        closed = np.array([-r, (1.0 - ((P.s_d / sigma) ** 2 + (r / sigma) ** 2)) / 2.0])
        assert np.all(np.abs(-d_theta - closed) <= 1e-12 * np.abs(closed) + rounding)


# -- softmax at extreme logits ------------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(z=st.lists(st.floats(-700.0, 700.0), min_size=2, max_size=6))
@example(z=[514.0, 1.8])  # once failed the Penrose check with a gap-blind tolerance
def test_categorical_fisher_and_pinv_at_extreme_logits(z):
    """F_R 1 = 0 and a positive diagonal wherever p_k > 0, even when one class takes p ~ 1 (1 - p_k is the others' sum,
    not 1 - 1 = 0); F_R^+ is the Moore-Penrose inverse (closed form, no rank cut), or a NonFiniteError when 1/p_k is
    beyond float64."""
    F, p = FI.categorical_fisher(z), FI.softmax(z)
    assert np.all(np.abs(F @ np.ones(len(z))) <= 8 * EPS * np.abs(F) @ np.ones(len(z)))
    if np.count_nonzero(p) > 1:
        assert np.all(np.diag(F)[p > 0] > 0)
    try:
        Fp = FI.categorical_fisher_pinv(z)
    except NonFiniteError:
        assert np.any((p > 0) & (p < 1 / np.finfo(float).max))
        return
    # the Penrose conditions, each to the rounding of its products; F_R^+ has entries 1/p_k up to 1e308, so they are
    # checked on Fh = F_R^+ / a (a = its largest entry): F Fh F = F / a, Fh F Fh = Fh / a, Fh F symmetric
    # (plus 1e-300 for products that underflow into the subnormals, where rounding is absolute).  F itself carries the
    # relative error eps |z_k - max z| of exp at a large gap (the logits are rounded: z = [514, 1.8] gives p_2 to 1e-13),
    # which F_R^+ from logits does not (it restores that rounding), so the tolerance grows with the logits' spread.
    tol, a = 64 * len(z) * EPS * (1.0 + np.ptp(z)), max(np.max(np.abs(Fp)), 1.0)  # F_R^+ = 0 when one class takes p = 1
    Fh = Fp / a
    assert np.all(np.abs(F @ Fh @ F - F / a) <= tol * (np.abs(F) @ np.abs(Fh) @ np.abs(F)) + 1e-300)
    assert np.all(np.abs(Fh @ F @ Fh - Fh / a) <= tol * (np.abs(Fh) @ np.abs(F) @ np.abs(Fh)) + 1e-300)
    PF = Fh @ F
    assert np.all(np.abs(PF - PF.T) <= tol * (np.abs(Fh) @ np.abs(F) + np.abs(F) @ np.abs(Fh)) + 1e-300)


def test_confident_softmax_keeps_its_fisher_and_gradient():
    """Logits 40 apart: p = (4.2e-18, 1 - 4.2e-18).  1 - p_2 rounds to 0; the Fisher's diagonal, the MLP's Fisher factor
    and the loss gradient keep 4.2e-18 (the others' sum), so F_R 1 = 0 and the gradient sums to 0."""
    z = np.array([0.0, 40.0])
    q = np.exp(-40.0) / (1 + np.exp(-40.0))
    assert np.allclose(np.diag(FI.categorical_fisher(z)), [q * (1 - q), q * (1 - q)], rtol=1e-12)
    net = FI.MLP((1, 2), "cross_entropy")
    S = net.fisher_factor(z[:, None])[:, :, 0]
    assert np.allclose(S @ S.T, FI.categorical_fisher(z), rtol=1e-12, atol=0)
    E = net.output_gradients(z[:, None], [1])
    assert np.allclose(E[:, 0], [q, -q], rtol=1e-12, atol=0)
    assert np.allclose(FI.ggn.loss_gradient("categorical", 1, z), [q, -q], rtol=1e-12, atol=0)
