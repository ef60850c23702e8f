"""Deep linear networks (003_34787a2226c5cf0a.txt): the Fisher against its definition, claims (a) and (b) across
architectures (property-based), the dynamics against Eqs 18-19, online NGD's pieces, bad inputs, and planted
wrong formulas that the verification checks must report FAIL."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import theorytools.deeplinear as D
import theorytools.deeplinear.dynamics as DY
from theorytools.deeplinear import DeepLinearNet, natural_gradient_flow
from theorytools.deeplinear import instances as DI
from theorytools.deeplinear import online as O
from verification.checks import deeplinear as CD
from verification.reference import deeplinear as RD
from verification.runner import run_checks
from verification.verdict import FAIL

widths_st = st.lists(st.integers(1, 4), min_size=2, max_size=5).map(tuple)


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300))


# -- the acceptance names -------------------------------------------------------------------------------------

def test_acceptance_api_shapes_and_conventions():
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((3, 2)), rng.standard_normal((4, 3))]
    net = DeepLinearNet(Ws, np.eye(2), np.eye(4), rng.standard_normal((4, 2)))
    assert net.fisher().shape == (18, 18) and net.gradient().shape == (18,) and net.natural_gradient().shape == (18,)
    # column-major vec of each W_i, W_1 first
    assert np.array_equal(net.flatten(Ws), np.concatenate([Ws[0].ravel(order="F"), Ws[1].ravel(order="F")]))
    assert [U.shape for U in net.eq10_update()] == [(3, 2), (4, 3)] == [U.shape for U in net.blockdiag_update()]
    u = net.natural_gradient()
    assert np.allclose(net.total_map_velocity(u), net.total_map_velocity(net.unflatten(u)), rtol=1e-14, atol=1e-14)
    t = np.linspace(0, 1, 5)
    assert natural_gradient_flow(net, t, method="exact").shape == (5, 4, 2)
    assert natural_gradient_flow(net, t, method="eq10").shape == (5, 4, 2)


# -- the Fisher and claims (a), (b): property-based over architectures ---------------------------------------------

@settings(max_examples=40, deadline=None)
@given(widths=widths_st, seed=st.integers(0, 2**31 - 1))
def test_fisher_equals_its_definition_and_has_the_generic_rank(widths, seed):
    net = DI.random_net(widths, seed % 1000)
    F = net.fisher()
    assert _rel(F, RD.fisher_by_definition(net)) < 1e-10
    assert _rel(net.jacobian(), RD.jacobian_by_differences(net)) < 1e-12
    assert _rel(net.gradient(), RD.gradient_by_differences(net)) < 1e-6
    rank = np.linalg.matrix_rank(F, tol=net.P * np.finfo(float).eps * np.linalg.norm(F, 2))
    assert rank == net.generic_fisher_rank <= widths[0] * widths[-1]
    FN = F @ RD.gauge_directions(net)  # empty for one layer
    assert FN.size == 0 or np.max(np.abs(FN)) < 1e-11 * np.max(np.abs(F)) * max(1, np.max(np.abs(net.W)))


@settings(max_examples=40, deadline=None)
@given(widths=widths_st, seed=st.integers(0, 2**31 - 1))
def test_claim_a_every_generalized_inverse_gives_the_same_total_map_velocity(widths, seed):
    net = DI.random_net(widths, seed % 1000)
    rng = np.random.default_rng(seed)
    F, g = net.fisher(), net.gradient()
    tol = CD._rtol(F)
    dW = net.total_map_velocity(net.natural_gradient())
    G = D.ginverse.perturbed(F, rng.standard_normal(F.shape), rng.standard_normal(F.shape))
    assert D.ginverse.residual(F, G) < tol
    assert np.max(np.abs(net.total_map_velocity(-G @ g) - dW)) <= tol * np.max(np.abs(dW)) + 1e-300


@settings(max_examples=40, deadline=None)
@given(widths=widths_st, seed=st.integers(0, 2**31 - 1))
def test_claim_b_holds_exactly_when_every_hidden_width_is_at_least_max_n0_nL(widths, seed):
    net = DI.random_net(widths, seed % 1000)
    F, g = net.fisher(), net.gradient()
    d = net.flatten(net.eq10_update())
    resid = np.linalg.norm(F @ d + g) / np.linalg.norm(g)
    if DI.claim_b_expected(widths):
        assert resid < CD._rtol(F)
    else:
        assert resid > 1e-3
    # always: Eq. 10's total-map velocity is Eq. 19, and the block-diagonal update is L x Eq. 10
    assert _rel(net.total_map_velocity(d), net.eq19_velocity()) < 100 * CD._rtol(F)
    assert _rel(net.flatten(net.blockdiag_update()), net.L * d) < 1e-12
    assert _rel(d, net.flatten(RD.eq10_written_out(net))) < 1e-8


def test_covariances_of_eqs_14_15_are_the_fisher_diagonal_blocks_and_the_score_moments():
    net = DI.random_net((3, 4, 2), 0)
    for i in (1, 2):
        assert _rel(net.fisher_block(i, i), np.kron(net.Lambda(i), net.Lambda_tilde(i))) < 1e-14
    # Monte Carlo of <x_{i-1} x_{i-1}^T> and <e_i e_i^T> under p_theta: 4 standard errors of each entry
    rng = np.random.default_rng(0)
    runs = 200_000
    S = RD.score_samples(net, rng, runs)
    F_mc = S.T @ S / runs
    se = np.sqrt(np.maximum((S * S).T @ (S * S) / runs - F_mc**2, 0) / runs)
    assert np.all(np.abs(F_mc - net.fisher()) <= 5 * se + 1e-12)


def test_singular_layer_breaks_claim_b_even_in_a_square_net():
    """The condition is on ranks, not widths (the notebook's remark): a rank-1 layer in a 2-2-2 net."""
    rng = np.random.default_rng(1)
    net = DeepLinearNet([np.array([[1.0, 2.0], [2.0, 4.0]]), rng.standard_normal((2, 2))], np.eye(2), np.eye(2),
                        rng.standard_normal((2, 2)))
    F, g = net.fisher(), net.gradient()
    assert np.linalg.norm(F @ net.flatten(net.eq10_update()) + g) > 1e-3 * np.linalg.norm(g)


def test_eq23_is_a_generalized_inverse_and_reproduces_eq10():
    net = DI.random_net((3, 3, 3, 3), 4)
    F, Fg = net.fisher(), D.ginverse.eq23(net)
    assert D.ginverse.residual(F, Fg) < 1e-10 and np.linalg.matrix_rank(F) < F.shape[0]
    assert _rel(-Fg @ net.gradient(), net.flatten(net.eq10_update())) < 1e-9
    with pytest.raises(D.HypothesisError, match="square"):
        D.ginverse.eq23(DI.random_net((2, 3, 2), 0))


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 6), n=st.integers(1, 6), rank=st.integers(0, 6), seed=st.integers(0, 2**31 - 1))
def test_psd_pinv_is_the_pseudo_inverse_of_X_XT(m, n, rank, seed):
    rng = np.random.default_rng(seed)
    r = min(rank, m, n)
    X = rng.standard_normal((m, r)) @ rng.standard_normal((r, n)) if r else np.zeros((m, n))
    P = D.psd_pinv(X)
    C = X @ X.T
    assert np.allclose(C @ P @ C, C, atol=1e-10 * max(1, np.abs(C).max()))
    assert np.allclose(P @ C @ P, P, atol=1e-8 * max(1, np.abs(P).max()))
    assert np.allclose(P, P.T)


@pytest.mark.parametrize("kappa", [1e2, 1e5, 1e8])
def test_eq10_and_natural_gradient_with_ill_conditioned_input_covariance(kappa):
    net0 = DI.random_net((3, 4, 3), 2)
    rng = np.random.default_rng(5)
    Sx = DI.spd(3, rng, np.geomspace(1.0, 1.0 / kappa, 3))
    net = DeepLinearNet(net0.weights, Sx, net0.Sigma_out, net0.Cyx)
    d = net.flatten(net.eq10_update())
    # both routes lose about kappa * eps; compare at that level
    assert _rel(d, net.flatten(RD.eq10_written_out(net))) < 1e-13 * kappa + 1e-10
    dW = net.total_map_velocity(net.natural_gradient())
    assert _rel(dW, net.eq18_velocity()) < 1e-13 * kappa + 1e-10
    # F^+ keeps the generic rank although the equilibrated Fisher's spectrum spans 7e-9 at kappa = 1e8
    F = net.fisher()
    assert round(float(np.trace(F @ D.ginverse.moore_penrose(F)))) == net.generic_fisher_rank


def test_scalar_net_n_equals_one():
    net = DeepLinearNet([np.array([[2.0]]), np.array([[0.5]]), np.array([[-1.5]])], [[3.0]], [[0.5]], [[1.2]])
    assert np.linalg.matrix_rank(net.fisher()) == 1 == net.generic_fisher_rank
    dW = net.total_map_velocity(net.natural_gradient())
    assert np.isclose(dW[0, 0], 1.2 / 3.0 - 2.0 * 0.5 * -1.5, rtol=1e-13)
    assert np.isclose(net.total_map_velocity(net.eq10_update())[0, 0], dW[0, 0], rtol=1e-13)


# -- dynamics ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["square", "wider hidden", "expanding", "contracting"])
def test_natural_gradient_flow_follows_eq18_and_decays_as_exp_minus_2t(kind):
    net = DI.random_net(DI.ARCHITECTURES[kind], 3)
    t = np.linspace(0.0, 5.0, 11)
    W = natural_gradient_flow(net, t, method="exact")
    assert np.max(np.abs(W - D.eq18_path(net, t))) < 1e-7 * np.max(np.abs(net.W - net.W_star))
    E = np.array([net.excess_loss(w) for w in W])
    assert np.allclose(E, E[0] * np.exp(-2 * t), rtol=1e-6)
    rate, _ = D.fitted_rate(t, E)
    assert abs(rate - 2.0) < 1e-6
    W10 = natural_gradient_flow(net, t, method="eq10")
    if DI.claim_b_expected(net.widths):
        assert np.max(np.abs(W10 - W)) < 1e-7 * np.max(np.abs(net.W - net.W_star))
    else:  # Eq. 19: slower than e^-t in the directions the projections cut
        assert net.excess_loss(W10[-1]) > 1.5 * E[-1]


def test_bottleneck_flow_reaches_the_best_reachable_loss_at_the_derived_rate():
    net = DI.random_net(DI.ARCHITECTURES["bottleneck"], 1)
    rate, limit = D.predicted_decay(net)
    assert 0 < rate < 2 and np.isclose(limit, net.excess_loss(net.best_reachable_map()), rtol=1e-12)
    t = np.linspace(0.0, 20.0 / rate, 41)
    E = np.array([net.excess_loss(w) for w in natural_gradient_flow(net, t)])
    fit, _ = D.fitted_rate(t[30:], E[30:], limit)
    assert abs(fit / rate - 1) < 0.02
    # the exact velocity is the tangent-space projection (second route), not Eq. 18 or Eq. 19
    dW = net.total_map_velocity(net.natural_gradient())
    assert _rel(dW, RD.tangent_projection_velocity(net)) < 1e-10
    assert _rel(dW, net.eq18_velocity()) > 0.1 and _rel(dW, net.eq19_velocity()) > 0.1


def _crossing_net(widths, seed):
    """A square net whose W* has the other determinant sign: the Eq. 18 path must cross det W = 0."""
    rng = np.random.default_rng([seed, 16])
    n = widths[0]
    layers = DI.random_layers(widths, rng)
    Wt = rng.standard_normal((n, n))
    if np.linalg.det(Wt) * np.linalg.det(np.linalg.multi_dot(layers[::-1])) > 0:
        Wt[0] *= -1.0
    Sx, So = DI.spd(n, rng), DI.spd(n, rng)
    return DeepLinearNet(layers, Sx, So, Wt @ Sx)


@pytest.mark.parametrize("widths", [(2, 2, 2), (2, 2, 2, 2)])
def test_exact_flow_continues_through_det_W_zero_on_eq18(widths):
    """Issue 16 §1: the exact natural gradient is not singular where det W = 0 with one singular layer (the Fisher keeps
    rank n^2); it used to stop there with SingularCrossingError."""
    net = _crossing_net(widths, 0)
    n, L = widths[0], len(widths) - 1
    tstar = D.eq18_crossing_time(net)
    assert tstar is not None and np.isclose(tstar, RD.first_sign_change_of_det(net), rtol=1e-10)
    t = np.unique(np.r_[np.linspace(0.0, tstar + 3.0, 13), tstar + np.array([-1e-6, 0.0, 1e-6])])
    Ws, nets = natural_gradient_flow(net, t, return_nets=True)
    size = np.max(np.abs(net.W - net.W_star))
    assert np.max(np.abs(Ws - D.eq18_path(net, t))) < 1e-8 * size
    # the reviewer's route: theta' = -pinv(F) grad with numpy's pinv of a dense Fisher, integrated straight through
    Wmp, thetas, mp_speeds = RD.moore_penrose_flow(net, t)
    assert np.max(np.abs(Wmp - RD.eq18_solved(net, t))) < 1e-8 * size
    speeds = np.array([np.linalg.norm(DY.velocity(m, "exact")) for m in nets])
    assert speeds.max() < 10 * speeds[0] and mp_speeds.max() < 10 * mp_speeds[0]
    assert np.linalg.det(Ws[0]) * np.linalg.det(Ws[-1]) < 0
    # at t*: W singular, the Fisher of full rank, exactly one layer singular and it is the one whose det changes sign
    at = nets[int(np.searchsorted(t, tstar))]
    s = np.linalg.svd(at.W, compute_uv=False)
    assert s[-1] / s[0] < 1e-7
    assert RD.fisher_rank_dense(at) == DY.tangent_dimension(at) == n * n
    margins = np.array([(lambda v: v[-1] / v[0])(np.linalg.svd(W, compute_uv=False)) for W in at.weights])
    flipped = [i + 1 for i in range(L) if np.linalg.det(net.weights[i]) * np.linalg.det(nets[-1].weights[i]) < 0]
    assert flipped == [int(np.argmin(margins)) + 1] and np.sort(margins)[0] < 1e-7 and np.sort(margins)[1] > 1e-3
    flipped_mp = [i + 1 for i in range(L) if np.linalg.det(net.weights[i]) * np.linalg.det(net.unflatten(thetas[-1])[i]) < 0]
    assert len(flipped_mp) == 1
    assert DY.tangent_margin(at, net) > 1e-3  # the guard sees nothing singular there


def test_exact_flow_from_a_start_with_one_singular_layer_follows_eq18():
    rng = np.random.default_rng(3)
    layers = DI.random_layers((2, 2, 2), rng)
    layers[1][1] = 0.5 * layers[1][0]  # W_2 singular, det W_0 = 0
    net = DeepLinearNet(layers, DI.spd(2, rng), DI.spd(2, rng), rng.standard_normal((2, 2)))
    assert DY.tangent_dimension(net) == RD.fisher_rank_dense(net) == 4
    t = np.linspace(0.0, 3.0, 7)
    np.testing.assert_allclose(natural_gradient_flow(net, t), D.eq18_path(net, t), rtol=0,
                               atol=1e-8 * np.max(np.abs(net.W - net.W_star)))
    with pytest.raises(D.SingularCrossingError, match="eq10 flow: the start is on the singular set"):
        natural_gradient_flow(net, t, method="eq10")


@settings(max_examples=30, deadline=None)
@given(widths=st.lists(st.integers(1, 3), min_size=3, max_size=5).map(tuple), seed=st.integers(0, 10**6),
       cuts=st.lists(st.integers(0, 2), min_size=4, max_size=4))
def test_tangent_dimension_staircase_formula_is_the_rank_of_the_dense_fisher(widths, seed, cuts):
    """rank F = sum_i rank(A_i) rank(B_i) - sum_{i<L} rank(A_i) rank(B_{i+1}), with layers of reduced rank."""
    rng = np.random.default_rng(seed)
    layers = []
    for i, W in enumerate(DI.random_layers(widths, rng)):
        k = max(min(W.shape) - cuts[i % len(cuts)], 0)
        U, s, Vt = np.linalg.svd(W)
        layers.append((U[:, :k] * s[:k]) @ Vt[:k])
    net = DeepLinearNet(layers, DI.spd(widths[0], rng), DI.spd(widths[-1], rng),
                        rng.standard_normal((widths[-1], widths[0])))
    assert DY.tangent_dimension(net) == RD.fisher_rank_dense(net) <= net.generic_fisher_rank


def test_square_nets_lose_fisher_rank_only_with_two_singular_layers():
    rng = np.random.default_rng(1)
    for L in (2, 3, 4):
        for singular in [(), (1,), (L,), (1, L), (1, 2)]:
            layers = DI.random_layers((3,) * (L + 1), rng)
            for i in singular:
                layers[i - 1][:, 0] = 0.0 if i == 1 else layers[i - 1][:, 1] - layers[i - 1][:, 2]
            net = DeepLinearNet(layers, np.eye(3), np.eye(3), rng.standard_normal((3, 3)))
            dim = DY.tangent_dimension(net)
            assert dim == RD.fisher_rank_dense(net) and (dim == 9) == (len(singular) < 2), (L, singular, dim)


def test_genuinely_singular_starts_are_refused_naming_the_layers():
    rng = np.random.default_rng(5)
    two = DI.random_layers((2, 2, 2), rng)
    two[0][:, 1] = 2.0 * two[0][:, 0]
    two[1][1] = -two[1][0]
    net = DeepLinearNet(two, DI.spd(2, rng), DI.spd(2, rng), rng.standard_normal((2, 2)))
    assert DY.tangent_dimension(net) == RD.fisher_rank_dense(net) == 3
    with pytest.raises(D.SingularCrossingError, match=r"exact flow: the start is singular.*rank 3 of generically 4"
                                                      r".*layers responsible: \[1, 2\]") as exc:
        natural_gradient_flow(net, [0.0, 1.0])
    assert exc.value.t == 0.0 and exc.value.layers == (1, 2) and exc.value.layer == 1
    _, _, two3, saddle = CD._singular_cases("quick", 0)[:4]
    for case, layers in ((two3, (1, 3)), (saddle, (1, 2))):
        with pytest.raises(D.SingularCrossingError, match="the start is singular") as exc:
            natural_gradient_flow(case.net, [0.0, 1.0])
        assert exc.value.t == 0.0 and exc.value.layers == layers
        with pytest.raises(D.SingularCrossingError, match="the start is on the singular set"):
            natural_gradient_flow(case.net, [0.0, 1.0], method="eq10")


def test_a_path_driven_into_a_singular_point_stops_there_with_the_time_and_layers():
    """Diagonal layers (Sigma = St = I, W* diagonal): every diagonal entry is a scalar net whose equilibrated flow keeps
    w_1 : w_2 : ... fixed, so all layers' entries reach 0 together when the entry of W changes sign -- a point where the
    Fisher loses rank.  A start perturbed off the diagonal passes (the collapse is not generic)."""
    scalar = DeepLinearNet([np.array([[1.0]]), np.array([[2.0]])], np.eye(1), np.eye(1), np.array([[-1.0]]))
    for method in ("exact", "eq10"):  # in a 1-1-1 net they coincide; Eq. 10's guard sees W -> 0 too
        with pytest.raises(D.SingularCrossingError, match="reached the singular set at t = 1.0986") as exc:
            natural_gradient_flow(scalar, [0.0, 3.0], method=method)
        assert abs(exc.value.t - np.log(3.0)) < 1e-5 and exc.value.layers == (1, 2)
    _, (near,) = natural_gradient_flow(scalar, [np.log(3.0) - 1e-3], return_nets=True)
    w = -1.0 + 3.0 * np.exp(-(np.log(3.0) - 1e-3))
    np.testing.assert_allclose([near.weights[0][0, 0], near.weights[1][0, 0]], np.array([1.0, 2.0]) * np.sqrt(w / 2.0),
                               rtol=1e-8)
    diag = DeepLinearNet([np.diag([1.0, 2.0]), np.diag([1.5, 0.5])], np.eye(2), np.eye(2), np.diag([-1.0, 1.0]))
    tstar = np.log(2.5)  # entry (1, 1): 1.5 -> -1 crosses 0 at e^-t = 1 / 2.5
    assert np.isclose(D.eq18_crossing_time(diag), tstar, rtol=1e-12)
    with pytest.raises(D.SingularCrossingError, match="A_i for i = \\[1\\] and B_i for i = \\[2\\] lost rank") as exc:
        natural_gradient_flow(diag, [0.0, 3.0])
    assert abs(exc.value.t - tstar) < 1e-6 and exc.value.layers == (1, 2)
    perturbed = diag.with_weights([np.diag([1.0, 2.0]) + 1e-2 * np.array([[0.0, 1.0], [0.3, 0.0]]), np.diag([1.5, 0.5])])
    t = np.linspace(0.0, 3.0, 7)
    np.testing.assert_allclose(natural_gradient_flow(perturbed, t), D.eq18_path(perturbed, t), rtol=0, atol=1e-8)


def test_eq10_still_stops_at_det_W_zero_where_its_speed_diverges():
    net = _crossing_net((2, 2, 2), 0)
    tstar = D.eq18_crossing_time(net)
    with pytest.raises(D.SingularCrossingError, match=r"eq10 flow reached the singular set at t =.*singular layers: "
                                                      r"\[\d, \d\]") as exc:
        natural_gradient_flow(net, np.linspace(0.0, tstar + 1.0, 5), method="eq10")
    assert abs(exc.value.t - tstar) < 1e-4 and sorted(exc.value.layers) == [1, 2]
    deltas = np.logspace(-2, -5, 7)
    _, nets = natural_gradient_flow(net, tstar - deltas, method="eq10", rtol=1e-8, singular_margin=1e-12,
                                    return_nets=True)
    speeds = [np.linalg.norm(m.flatten(m.eq10_update())) for m in nets]
    p = -np.polyfit(np.log(deltas), np.log(speeds), 1)[0]
    assert abs(p - 0.5) < 0.01  # (L - 1) / L
    # and det W_1 / det W_2 is conserved on the way
    r = [np.linalg.det(m.weights[0]) / np.linalg.det(m.weights[1]) for m in [net] + nets]
    np.testing.assert_allclose(r, r[0], rtol=1e-7)


def test_tangent_margin_does_not_depend_on_units():
    net = _crossing_net((2, 2, 2), 1)
    S, H = np.array([1e-4, 3.0]), np.array([1e5, 0.2])  # features and hidden units in other units
    net2 = DeepLinearNet([H[:, None] * net.weights[0] / S, net.weights[1] / H], S[:, None] * net.Sigma_x * S,
                         net.Sigma_out, net.Cyx * S)
    for t in (0.0, D.eq18_crossing_time(net), 2.0):
        _, (a,) = natural_gradient_flow(net, [t], return_nets=True)
        _, (b,) = natural_gradient_flow(net2, [t], return_nets=True)
        assert DY.tangent_margin(b, net2) == pytest.approx(DY.tangent_margin(a, net), rel=1e-7)
        np.testing.assert_allclose(b.W * S, a.W, rtol=0, atol=1e-8 * np.max(np.abs(net.W - net.W_star)))


def test_random_square_problems_usually_need_a_singular_crossing():
    """For random W_0 and W* (n = 3) Eq. 18's straight path is singular somewhere in most draws, and always when
    det W_0 and det W* differ in sign; the instances redraw the teacher."""
    crossings = same_sign_crossings = 0
    for s in range(300):
        rng = np.random.default_rng(s)
        net = DeepLinearNet(DI.random_layers((3, 3, 3), rng), np.eye(3), np.eye(3), rng.standard_normal((3, 3)))
        t = D.eq18_crossing_time(net)
        crossings += t is not None
        if np.linalg.det(net.W) * np.linalg.det(net.W_star) < 0:
            assert t is not None
        else:
            same_sign_crossings += t is not None
    assert crossings > 150 and same_sign_crossings > 0
    assert all(D.eq18_crossing_time(DI.random_net((3, 3, 3, 3), s)) is None for s in range(20))


# -- online NGD -----------------------------------------------------------------------------------------------------------

def test_sherman_morrison_matches_the_inverse_of_the_running_covariance_and_rank_one_updates():
    rng = np.random.default_rng(0)
    n, eta, c0 = 5, 0.1, 2.0
    sm = O.ShermanMorrisonInverse(n, c0, eta)
    C, inv1 = c0 * np.eye(n), np.eye(n) / c0
    for _ in range(6):
        H = rng.standard_normal((3, n))
        C = (1 - eta) * C + eta * H.T @ H / 3
        inv1 = inv1 / (1 - eta)  # rank-one Sherman-Morrison updates, one sample at a time
        for h in H:
            u = h * np.sqrt(eta / 3)
            Cu = inv1 @ u
            inv1 = inv1 - np.outer(Cu, Cu) / (1 + u @ Cu)
        sm.update(H)
    assert np.allclose(sm.inv, np.linalg.inv(C), rtol=1e-10, atol=1e-12)
    assert np.allclose(sm.inv, inv1, rtol=1e-10, atol=1e-12)


def test_mlp_backward_gives_the_gradient_of_the_squared_error():
    rng = np.random.default_rng(3)
    net = O.MLP(DI.random_layers((3, 4, 2), rng), "tanh")
    X, Y = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))

    def loss(n):
        return 0.5 * np.sum((Y - n.predict(X)) ** 2) / 7

    hs, ds = net.forward(X)
    es = net.backward(ds, Y - hs[-1])
    for i in range(net.L):
        G = -(es[i].T @ hs[i]) / 7  # dL/dW_i = -<e_i h_{i-1}^T> (eq. 7)
        num = np.zeros_like(G)
        for idx in np.ndindex(G.shape):
            for sgn in (1, -1):
                W = [w.copy() for w in net.weights]
                W[i][idx] += sgn * 1e-6
                num[idx] += sgn * loss(O.MLP(W, "tanh")) / 2e-6
        assert np.allclose(G, num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("inverse", ["pinv", "sherman_morrison"])
def test_online_ngd_reaches_the_noise_floor_on_a_small_linear_problem(inverse):
    data, start = D.figure1.linear_data((4, 6, 6, 4), 2000, 500, 0)
    # Sherman-Morrison's running estimates lag the weights: alpha = 1 diverges with them (measured), alpha = 0.5 does not
    sm = inverse == "sherman_morrison"
    hist = O.train_ngd(O.MLP(start), data, 1e-6, alpha=0.5 if sm else 1.0, M=50 if sm else 200, examples=20_000,
                       eval_every=2000, lam0=1e-2, inverse=inverse, eta=0.1)
    assert hist.test_error[-1] < 3e-6 < hist.test_error[0]
    if sm:  # at alpha = 1 the estimates lag too much: the loss of positive definiteness is reported, not propagated
        with pytest.raises(D.NonFiniteError, match="lost positive definiteness"):
            O.train_ngd(O.MLP(start), data, 1e-6, alpha=1.0, M=50, examples=20_000, inverse=inverse, eta=0.1)


def test_figure1_architectures_are_the_papers():
    assert DI.figure1_widths("A") == (20,) * 17
    B = DI.figure1_widths("B")
    assert len(B) == 17 and B[:9] == tuple(range(20, 101, 10)) and B == B[::-1]
    C = DI.figure1_widths("C")
    assert len(C) == 13 and C[:7] == (200, 80, 34, 20, 10, 5, 2) and C == C[::-1]
    rng = np.random.default_rng(0)
    assert np.allclose(np.linalg.eigvalsh(DI.input_covariance(10, rng))[::-1], np.exp(-5 * np.arange(10) / 10))


# -- bad input -------------------------------------------------------------------------------------------------------------

def test_bad_inputs_name_the_layer_and_the_property():
    I2, W = np.eye(2), [np.ones((2, 2)), np.ones((2, 2))]
    with pytest.raises(ValueError, match="layer 2: W_2 has 3 columns but layer 1 has 2 outputs"):
        DeepLinearNet([np.ones((2, 2)), np.ones((2, 3))], I2, I2, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="layer 1: W_1 must be finite"):
        DeepLinearNet([np.array([[np.nan, 0], [0, 1]]), np.ones((2, 2))], I2, I2, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="layer 2: W_2 must be real"):
        DeepLinearNet([np.eye(2), np.eye(2) * 1j], I2, I2, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="Sigma_x is not positive definite"):
        DeepLinearNet(W, np.diag([1.0, 0.0]), I2, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="Sigma_out is not positive definite"):
        DeepLinearNet(W, I2, np.diag([1.0, -1.0]), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="Sigma_x is not symmetric"):
        DeepLinearNet(W, [[1.0, 0.5], [0.0, 1.0]], I2, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="Cyx"):
        DeepLinearNet(W, I2, I2, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="residual covariance"):
        DeepLinearNet(W, I2, I2, 2 * I2, Cyy=I2)
    with pytest.raises(ValueError, match="non-empty list"):
        DeepLinearNet([], I2, I2, np.zeros((2, 2)))
    net = DeepLinearNet(W, I2, I2, I2)
    with pytest.raises(ValueError, match="method must be one of"):
        natural_gradient_flow(net, [0.0, 1.0], method="newton")
    with pytest.raises(ValueError, match="non-decreasing"):
        natural_gradient_flow(net, [1.0, 0.0])
    with pytest.raises(ValueError, match="i must be <= 2"):
        net.Lambda(3)
    with pytest.raises(ValueError, match="min_loss needs Cyy"):
        net.loss()
    with pytest.raises(ValueError, match="inverse must be"):
        O.train_ngd(O.MLP(W), (np.ones((4, 2)),) * 4, 1.0, M=2, inverse="cg")
    with pytest.raises(ValueError, match="activation"):
        O.MLP(W, "relu")


# -- planted wrong formulas: every check family reports FAIL ----------------------------------------------------------

def _failed(only):
    return {r.check for r in run_checks("quick", only=only, seed=0) if r.verdict.status == FAIL}


def _kron_swapped(self, i, j):
    a, b = i - 1, j - 1
    return np.kron(self.A[a].T @ np.linalg.solve(self.Sigma_out, self.A[b]), self.B[a] @ self.Sigma_x @ self.B[b].T)


PLANTED = {
    "fisher_closed_form": (DeepLinearNet, "fisher_block", lambda real: _kron_swapped),
    "fisher_by_sampling": (DeepLinearNet, "fisher", lambda real: lambda self: 1.1 * real(self)),
    "claim_a_generalized_inverses": (D.ginverse, "perturbed", lambda real: lambda F, U, V: real(F, U, V) + 1e-6 * V),
    "claim_b_eq10": (DeepLinearNet, "eq10_update", lambda real: lambda self: [U * self.L / (self.L + 1) for U in real(self)]),
    "eq10_counterexample": (DeepLinearNet, "natural_gradient", lambda real: lambda self: self.flatten(self.eq10_update())),
    "total_map_velocity": (DeepLinearNet, "projections", lambda real: lambda self: [(Pa, Pb.T) for Pa, Pb in real(self)]),
    # the exact flow integrates the equilibrated generalized inverse's velocity (same total-map velocity as -F^+ grad)
    "decay_law": (DeepLinearNet, "_equilibrated_natural_gradient", lambda real: lambda self: 0.95 * real(self)),
    "singular_crossing": (DY, "rank_margin", lambda real: lambda W, r: abs(real(W, r))),
    # issue 16's wrong finding: the exact flow guarded by the total map's rank instead of the Fisher's
    "singular_total_map_crossed_by_exact_flow": (DY._TangentMonitor, "__call__",
                                                 lambda real: lambda self, n: abs(DY.rank_margin(n.whiten(), n.rank_bound))),
    "singular_eq10_speed_divergence": (DeepLinearNet, "_pinv_Lambdas",
                                       lambda real: lambda self: [(Lt @ Lt, La) for Lt, La in real(self)]),
    "blockdiag_constant": (DeepLinearNet, "blockdiag_update", lambda real: lambda self: [1.001 * U for U in real(self)]),
    "online_ngd_damping": (O, "predicted_change", lambda real: lambda a, d, g: 1.01 * real(a, d, g)),
    "sherman_morrison_inverse": (O.ShermanMorrisonInverse, "update", lambda real: lambda self, H: 1.001 * real(self, H)),
    "figure1_online_ngd": (O, "_damped_inverse", lambda real: lambda C, sq: np.eye(C.shape[0]) * np.trace(real(C, sq)) / C.shape[0]),
    # issue 17: the pipeline around the formulas
    "online_mlp_and_sgd_step": (O.MLP, "_forward", lambda real: lambda self, X: (
        lambda hs, ds: (hs[:-1] + [np.tanh(hs[-1])], ds))(*real(self, X))),
    "online_ngd_step": (O, "_damped_inverse", lambda real: lambda C, sq: real(C, sq * 1.01)),
    "figure1_data": (D.figure1, "linear_data", lambda real: lambda w, a, b, s: (
        lambda data, start: (tuple(1.2 * M if i % 2 == 0 else M for i, M in enumerate(data)), start))(*real(w, a, b, s))),
}


@pytest.mark.filterwarnings("ignore::theorytools.errors.DivergenceWarning")  # a planted NGD formula may diverge
@pytest.mark.parametrize("name", sorted(PLANTED))
def test_every_deeplinear_check_family_fails_on_a_planted_formula(monkeypatch, name):
    target, attr, make = PLANTED[name]
    monkeypatch.setattr(target, attr, make(getattr(target, attr)))
    CD._figure1_run.cache_clear()
    try:
        assert f"deeplinear.{name}" in _failed(f"deeplinear.{name}")
    finally:
        CD._figure1_run.cache_clear()


def _small_data(rows=40, n0=3, nL=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, n0))
    Y = X @ rng.standard_normal((n0, nL))
    return X, Y, X[:10], Y[:10]


def _mlp(widths=(3, 4, 2), seed=1):
    return O.MLP(DI.random_layers(widths, np.random.default_rng(seed)))


@pytest.mark.parametrize("M", [1000, 41, 0, -5])
def test_a_minibatch_larger_than_the_data_or_not_positive_is_refused_instead_of_spinning(M):
    data = _small_data()  # 40 rows: Figure 1's NGD default M = 1000 used to loop forever here
    with pytest.raises(ValueError, match="M must be"):
        O.train_ngd(_mlp(), data, 1.0, M=M)
    with pytest.raises(ValueError, match="M must be"):
        O.train_sgd(_mlp(), data, 0.01, M=M)
    with pytest.raises(ValueError, match="M must be between 1 and the number of training rows"):
        next(O._batches(40, M, np.random.default_rng(0)))


def test_data_that_does_not_match_the_net_is_refused_not_broadcast():
    X, Y, Xt, Yt = _small_data(nL=3)
    # the last layer forgotten: a 3-4-1 net's outputs broadcast against 3-column targets without complaint
    missing = _mlp((3, 4, 1))
    with pytest.raises(ValueError, match=r"data: Y must have 1 columns \(net has n_L = 1 outputs\)"):
        O.train_sgd(missing, (X, Y, Xt, Yt), 0.01, M=8, examples=40)
    with pytest.raises(ValueError, match=r"data: X must have 4 columns"):  # another net's data
        O.train_ngd(_mlp((4, 4, 3)), (X, Y, Xt, Yt), 1.0, M=8, examples=40)
    with pytest.raises(ValueError, match="data: X and data: Y must have the same number of rows"):
        O.train_sgd(_mlp((3, 4, 3)), (X, Y[:-1], Xt, Yt), 0.01, M=8)
    with pytest.raises(ValueError, match="Y must have 1 columns"):
        O.mse(missing, Xt, Yt)
    # a missing layer in a DeepLinearNet: n_L changes and clashes with Sigma_out, the message names weights
    net = DI.random_net((2, 3, 4), 0)
    with pytest.raises(ValueError, match="Sigma_out must be 3 x 3 to match weights"):
        DeepLinearNet(net.weights[:1], net.Sigma_x, net.Sigma_out, net.Cyx)
    with pytest.raises(ValueError, match="u must hold L = 2 layer arrays"):
        net.total_map_velocity(net.weights[:1])


@pytest.mark.parametrize("call, name", [
    (lambda: O.train_ngd(_mlp(), _small_data(), 1.0, M=8, lam0=-1.0), "lam0"),
    (lambda: O.train_ngd(_mlp(), _small_data(), 1.0, M=8, lam0=1j), "lam0"),
    (lambda: O.train_ngd(_mlp(), _small_data(), 1.0, M=8, lam_min=-1e-3), "lam_min"),
    (lambda: O.train_ngd(_mlp(), _small_data(), 1.0, alpha=0.0, M=8), "alpha"),
    (lambda: O.train_ngd(_mlp(), _small_data(), -1.0, M=8), "s2"),
    (lambda: O.train_ngd(_mlp(), _small_data(), 1.0, M=8, K=1.5), "K"),
    (lambda: O.train_ngd(_mlp(), _small_data(), 1.0, M=8, eta=1.0), "eta"),
    (lambda: O.train_sgd(_mlp(), _small_data(), 0.01 + 1j, M=8), "lr"),
    (lambda: O.train_sgd(_mlp(), _small_data(), 0.01, M=8, examples=2.5), "examples"),
    (lambda: O.train_sgd(_mlp(), _small_data(), 0.01, M=8, seed=-1), "seed"),
    (lambda: O.eq21_damping(-1.0, 0.5), "lam"),
    (lambda: O.eq21_damping(1.0, float("nan")), "rho"),
    (lambda: O.grid_search_sgd(_mlp, _small_data(), [0.01, -0.02], M=8), "lrs"),
    (lambda: natural_gradient_flow(DI.random_net((2, 3, 2), 0), [0.0, 1.0], singular_margin=0.0), "singular_margin"),
    (lambda: DI.random_net((2, 3.5, 2)), "widths"),
    (lambda: DI.spd(3, np.random.default_rng(0), [1.0, -1.0, 2.0]), "eigenvalues"),
])
def test_negative_complex_and_fractional_parameters_are_refused_by_name(call, name):
    with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
        call()


def test_a_loss_growing_by_orders_of_magnitude_warns_with_the_step():
    from theorytools.errors import DivergenceWarning

    with pytest.warns(DivergenceWarning, match=r"grew from .* by step \d+ \(\d+ examples\)"):
        with pytest.raises(D.NonFiniteError, match=r"at step \d+"):
            O.train_sgd(_mlp(), _small_data(), 1.0, M=8, examples=4000, eval_every=8)


def test_size_guards_refuse_the_dense_routes_and_name_the_cheaper_one():
    from theorytools.errors import SizeError
    from theorytools.linalg import limit_memory

    net = DI.random_net((30, 30, 30), 0)  # P = 1800: the P x P Fisher needs 52 MB
    with limit_memory(4 * 10**6):
        for call, cheaper in ((net.fisher, "natural_gradient"), (net.jacobian, "total_map_velocity"),
                              (net.natural_gradient, "eq10_update"), (lambda: net.fisher_block(1, 2), "Kronecker factors"),
                              (lambda: D.ginverse.eq23(net), "eq10_update"),
                              (lambda: O.ShermanMorrisonInverse(10**4, 1.0, 0.1), "smaller n"),
                              (lambda: D.eq18_path(net, np.linspace(0, 1, 10**4)), "fewer times")):
            with pytest.raises(SizeError, match=cheaper):
                call()
        assert len(net.eq10_update()) == 2  # the Kronecker-factored route stays available


def test_noise_free_second_moments_are_accepted_and_impossible_ones_refused():
    rng = np.random.default_rng(0)
    Sx = DI.spd(3, rng, [1e4, 1.0, 1e-4])
    Cyx = rng.standard_normal((2, 3)) @ Sx
    Cyy = Cyx @ np.linalg.solve(Sx, Cyx.T)  # y = W* x exactly: the residual covariance is 0 (rounding made it -2e-13)
    W = DI.random_layers((3, 4, 2), rng)
    assert DeepLinearNet(W, Sx, np.eye(2), Cyx, Cyy).min_loss == pytest.approx(0.0, abs=1e-9 * np.trace(Cyy))
    with pytest.raises(ValueError, match="residual covariance"):
        DeepLinearNet(W, Sx, np.eye(2), Cyx, 0.9 * Cyy)


def test_eq23_refuses_a_single_singular_layer():
    net = DI.random_net((3, 3, 3, 3), 4)
    Ws = [W.copy() for W in net.weights]
    Ws[1][:, 0] = Ws[1][:, 1]  # layer 2 singular, layers 1 and 3 and Sigma fine (a (1, 1) block test passed it before)
    with pytest.raises(D.HypothesisError, match="invertible layers"):
        D.ginverse.eq23(net.with_weights(Ws))


@pytest.mark.parametrize("s, rate, tol", [((1.0, 1.0), 2.0, 1e-4), ((1.0, 1.0, 0.5), 1.0, 0.05)])
def test_predicted_decay_at_a_tie_follows_the_next_gap_as_the_integrated_flow_does(s, rate, tol):
    """A tie s_r = s_{r+1} (r = 1 here) does not stop the decay: the rate follows the next gap, 2 (1 - s_3/s_1) or 2
    when there is none (the old 2 (1 - s_{r+1}/s_r) said 0).  The fitted rate over t in [6, 12] carries the transient
    of the faster modes: e^-2t relative to e^-t at t = 6 is 2e-3, a slope bias of a few percent at most (tol 0.05)."""
    n, rng = len(s), np.random.default_rng(0)
    net = DeepLinearNet([rng.standard_normal((1, n)), rng.standard_normal((n, 1))], np.eye(n), np.eye(n), np.diag(s))
    predicted, limit = D.predicted_decay(net)
    assert predicted == rate and limit == pytest.approx(0.5 * sum(x * x for x in s[1:]), rel=1e-14)
    t = np.linspace(6.0, 12.0, 13)
    Ws = D.natural_gradient_flow(net, np.concatenate([[0.0], t]), method="exact")[1:]
    excess = np.array([0.5 * np.sum((W - np.diag(s)) ** 2) for W in Ws])
    fitted, _ = D.fitted_rate(t, excess, limit)
    assert abs(fitted - rate) < tol


def test_predicted_decay_and_fitted_rate_at_degenerate_inputs():
    net = DI.random_net((3, 1, 3), 0)
    zero = DeepLinearNet(net.weights, net.Sigma_x, net.Sigma_out, np.zeros((3, 3)))  # W* = 0: s_r = s_{r+1} = 0
    assert D.predicted_decay(zero) == (2.0, 0.0)
    with pytest.raises(ValueError, match="excess must stay above its limit"):
        D.fitted_rate([0.0, 1.0], [1.0, 0.5], limit=0.5)
    with pytest.raises(ValueError, match="two distinct times"):
        D.fitted_rate([1.0, 1.0], [1.0, 0.5])


def _history(errors, step=500):
    h = O.History()
    for k, e in enumerate(errors):
        h.record(k * step, 0.1 * k, e)
    return h


def test_grid_search_extends_below_the_grid_until_a_rate_is_stable_and_its_choice_is_deterministic(monkeypatch):
    tried = []

    def fake(net, data, lr, M, examples, eval_every, seed, progress):  # this "machine" diverges above lr = 0.003
        tried.append(lr)
        if lr > 0.003:
            raise D.NonFiniteError("diverged")
        return _history([1.0, 0.5 if lr < 0.002 else 0.25])

    monkeypatch.setattr(O, "train_sgd", fake)
    best, hists = O.grid_search_sgd(_mlp, _small_data(), (0.005, 0.01, 0.02, 0.04), M=8, examples=40)
    assert tried == [0.005, 0.01, 0.02, 0.04, 0.0025] and best == 0.0025 and hists[0.005] is None
    assert O.grid_search_sgd(_mlp, _small_data(), (0.005, 0.01, 0.02, 0.04), M=8, examples=40)[0] == best
    # ties go to the rate tried first; a grid that diverges everywhere, down to 2^-MAX_HALVINGS of its smallest rate,
    # is a result (None), not an error
    monkeypatch.setattr(O, "train_sgd", lambda net, data, lr, *a: _history([1.0, 0.5]))
    assert O.grid_search_sgd(_mlp, _small_data(), (0.02, 0.01), M=8, examples=40)[0] == 0.02
    monkeypatch.setattr(O, "train_sgd", lambda *a: (_ for _ in ()).throw(D.NonFiniteError("diverged")))
    best, hists = O.grid_search_sgd(_mlp, _small_data(), (0.01, 0.02), M=8, examples=40)
    assert best is None and len(hists) == 2 + O.MAX_HALVINGS and min(hists) == 0.01 / 2**O.MAX_HALVINGS


def test_figure1_check_reports_a_diverged_baseline_without_failing(monkeypatch):
    ngd = _history([1e-2, 1e-4, 2e-6, 1.1e-6])
    grid = {0.005 / 2**k: float("inf") for k in range(5)}
    fake = D.figure1.Figure1Result("A", DI.figure1_widths("A"), D.figure1.NOISE_VAR, ngd, None, float("nan"), grid)
    monkeypatch.setattr(CD, "_figure1_run", lambda panel, size, seed: fake)
    res = run_checks("quick", only="deeplinear.figure1_online_ngd,deeplinear.figure1_wall_clock", seed=0)
    assert {r.verdict.status for r in res if "online_ngd" in r.check} == {"PASS"}
    assert all("diverged at every learning rate" in r.verdict.message for r in res if "1D" not in r.instance)


def test_long_horizons_and_repeated_times_need_no_more_work(monkeypatch):
    """An explicit solver is held to steps of ~6 by stability: t = 1e5 took 2e5 velocity evaluations before the flow
    learned to stop once the total map no longer moves at the solver's resolution."""
    calls = []
    real = DY.velocity
    monkeypatch.setattr(DY, "velocity", lambda net, method: calls.append(1) or real(net, method))
    net = DI.random_net((2, 3, 2), 0)
    t = [0.0, 1.0, 1.0, 1e12]
    W = natural_gradient_flow(net, t)
    assert len(calls) < 5000
    np.testing.assert_allclose(W, D.eq18_path(net, t), rtol=0, atol=1e-8 * np.max(np.abs(net.W - net.W_star)))
    assert natural_gradient_flow(net, [0.0, 0.0]).shape == (2, 2, 2)  # a zero-length horizon: the start, twice


def test_random_layers_have_the_stated_fan_in_variance():
    """random_layers draws W_i with i.i.d. N(0, gain^2 / n_{i-1}) entries: over 400 draws of (2, 7, 3) layers the pooled
    sample variance of each layer's entries (5600 and 8400 values) is within 5 standard errors (sqrt(2/n) relative) of
    gain^2 / n_{i-1}; a fan-out scaling (1/7, 1/3) or a missing gain is 3 to 30 standard errors away."""
    rng = np.random.default_rng(5)
    widths, gain = (2, 7, 3), 1.7
    draws = [DI.random_layers(widths, rng, gain) for _ in range(400)]
    for i in range(2):
        entries = np.concatenate([d[i].ravel() for d in draws])
        want = gain**2 / widths[i]
        assert abs(np.mean(entries**2) / want - 1) < 5 * np.sqrt(2 / entries.size)
        assert abs(np.mean(entries)) < 5 * np.sqrt(want / entries.size)
