"""Units do not matter (issue 15): rescaling the features (``x -> S x``), the targets (``y -> T y``, with
``Sigma_out -> T Sigma_out T``), a layer against the next (``W_i -> c W_i, W_{i+1} -> W_{i+1} / c``, the net's own
symmetry) or a hidden unit (``W_i -> G W_i, W_{i+1} -> W_{i+1} G^-1``) by factors from 1e-8 to 1e8 leaves the
natural gradient's total-map velocity, Eq. 10's, the total-map path of ``natural_gradient_flow`` and every rank
decision (pseudo-inverses, the singular-set guard, eq. 23's invertibility test) the same after mapping back, to
rounding (003_34787a2226c5cf0a.txt eqs 4, 10, 17-19, 23)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import theorytools.deeplinear as D
from theorytools.deeplinear import DeepLinearNet, natural_gradient_flow
from theorytools.deeplinear import instances as DI
from theorytools.deeplinear import online as O

WIDTHS = [(2, 3, 2), (3, 2, 3), (4, 2, 4), (3, 3, 3, 3), (2, 5, 1), (3, 4, 2), (2, 3, 4, 5), (4, 3, 2, 3, 4)]
log10_factor = st.floats(-8.0, 8.0)


def _factors(draw, n):
    return 10.0 ** np.array(draw(st.lists(log10_factor, min_size=n, max_size=n)))


@st.composite
def rescaled_nets(draw, kinds=("features", "targets", "layers", "hidden")):
    """``(net, net2, back)``: a net, the same problem in other units, and the map ``W2 -> W`` of total maps."""
    widths = draw(st.sampled_from(WIDTHS))
    net = DI.random_net(widths, draw(st.integers(0, 50)))
    kind = draw(st.sampled_from(kinds)) if len(kinds) > 1 else kinds[0]
    S, T = np.ones(widths[0]), np.ones(widths[-1])
    Ws = [W.copy() for W in net.weights]
    if kind in ("features", "all"):
        S = _factors(draw, widths[0])
    if kind in ("targets", "all"):
        T = _factors(draw, widths[-1])
    if kind in ("layers", "all") and net.L > 1:
        i, c = draw(st.integers(0, net.L - 2)), 10.0 ** draw(log10_factor)
        Ws[i], Ws[i + 1] = c * Ws[i], Ws[i + 1] / c
    if kind in ("hidden", "all") and net.L > 1:
        i = draw(st.integers(0, net.L - 2))
        G = _factors(draw, widths[i + 1])
        Ws[i], Ws[i + 1] = G[:, None] * Ws[i], Ws[i + 1] / G[None, :]
    Ws[0], Ws[-1] = Ws[0] / S[None, :], T[:, None] * Ws[-1]
    net2 = DeepLinearNet(Ws, S[:, None] * net.Sigma_x * S[None, :], T[:, None] * net.Sigma_out * T[None, :],
                         T[:, None] * net.Cyx * S[None, :])
    return net, net2, lambda W2: W2 / T[:, None] * S[None, :]


def _rank(C, P) -> int:
    """The rank kept by the pseudo-inverse ``P`` of ``C``: ``trace(C P)``, an integer up to rounding."""
    tr = float(np.trace(C @ P))
    assert abs(tr - round(tr)) < 0.05, tr
    return round(tr)


def _gap(net, A, B) -> float:
    """``max |Z_A - Z_B| / max |Z_B|`` in the whitened coordinates of ``net`` (where every entry has the same unit)."""
    ZA, ZB = net.whiten(A), net.whiten(B)
    return float(np.max(np.abs(ZA - ZB)) / np.max(np.abs(ZB)))


@settings(max_examples=40, deadline=None)
@given(case=rescaled_nets())
def test_natural_gradient_and_eq10_total_map_velocities_do_not_depend_on_units(case):
    net, net2, back = case
    dW = net.total_map_velocity(net.natural_gradient())
    assert _gap(net, back(net2.total_map_velocity(net2.natural_gradient())), dW) < 1e-10
    # the equilibrated generalized inverse the flow integrates: the same total-map velocity, in every unit system
    assert _gap(net, back(net2.total_map_velocity(net2._equilibrated_natural_gradient())), dW) < 1e-10
    dW10 = net.total_map_velocity(net.eq10_update())
    assert _gap(net, back(net2.total_map_velocity(net2.eq10_update())), dW10) < 1e-9


@settings(max_examples=8, deadline=None)
@given(case=rescaled_nets(kinds=("all",)))
def test_natural_gradient_flow_total_map_path_does_not_depend_on_units(case):
    net, net2, back = case
    t = [0.0, 0.5, 1.5]
    W, W2 = natural_gradient_flow(net, t), natural_gradient_flow(net2, t)
    assert max(_gap(net, back(b), a) for a, b in zip(W, W2)) < 1e-8


@settings(max_examples=20, deadline=None)
@given(case=rescaled_nets())
def test_rank_decisions_do_not_depend_on_units(case):
    net, net2, back = case
    F, F2 = net.fisher(), net2.fisher()
    # Moore-Penrose: trace(F F^+) is the rank kept (a projector's trace; rounded, as in mixed units the product F F^+
    # carries rounding of order eps times the spread of the scales); at the generic rank in any units
    for FF in (F, F2):
        assert _rank(FF, D.ginverse.moore_penrose(FF)) == net.generic_fisher_rank
    # the covariances behind a bottleneck keep their structural rank in the pseudo-inverses of Eq. 10 (trace C C^+)
    for i in range(1, net.L + 1):
        for pair, pair2 in zip(zip(net._pinv_Lambdas()[i - 1], (net.Lambda_tilde(i), net.Lambda(i))),
                               zip(net2._pinv_Lambdas()[i - 1], (net2.Lambda_tilde(i), net2.Lambda(i)))):
            assert _rank(pair2[1], pair2[0]) == _rank(pair[1], pair[0])
    # the singular-set guard and the crossing time of square nets
    assert D.rank_margin(net2.whiten(), net.rank_bound) == pytest.approx(D.rank_margin(net.whiten(), net.rank_bound),
                                                                          rel=1e-9)
    if net.W.shape[0] == net.W.shape[1] == net.rank_bound:
        t1, t2 = D.eq18_crossing_time(net), D.eq18_crossing_time(net2)
        assert (t1 is None) == (t2 is None) and (t1 is None or t2 == pytest.approx(t1, rel=1e-8))


@pytest.mark.parametrize("log10_scale", [-8, -4, 4, 8])
def test_a_rescaled_feature_neither_freezes_the_flow_nor_looks_singular(log10_scale):
    """A feature in other units made s_r(W)/s_1(W) ~ 1e-8 and the start 'singular'; the guard is on the whitened map."""
    net = DI.random_net((3, 4, 2), 0)
    S = np.array([10.0**log10_scale, 1.0, 1.0])
    net2 = DeepLinearNet([net.weights[0] / S, net.weights[1]], S[:, None] * net.Sigma_x * S, net.Sigma_out, net.Cyx * S)
    t = np.linspace(0.0, 2.0, 5)
    np.testing.assert_allclose(natural_gradient_flow(net2, t) * S, D.eq18_path(net, t), rtol=0, atol=1e-8)


def test_eq23_and_the_damped_inverses_in_other_units():
    net = DI.random_net((3, 3, 3), 2)
    S = np.array([1e8, 1.0, 1e-8])
    net2 = DeepLinearNet([net.weights[0] / S, net.weights[1]], S[:, None] * net.Sigma_x * S, net.Sigma_out, net.Cyx * S)
    F2, Fg2 = net2.fisher(), D.ginverse.eq23(net2)  # Sigma_x has condition 1e32 here: eq. 23 stays defined
    np.testing.assert_allclose(net2.total_map_velocity(-Fg2 @ net2.gradient()) * S,
                               net.total_map_velocity(net.eq10_update()), rtol=1e-9, atol=1e-12)
    assert _rank(F2, Fg2) == net.generic_fisher_rank
    # online NGD's Moore-Penrose inverse (lam = 0) of a covariance of rank 2 in mixed units keeps rank 2
    rng = np.random.default_rng(0)
    H = rng.standard_normal((50, 2)) @ rng.standard_normal((2, 3)) * S
    C = H.T @ H / 50
    assert _rank(C, O._damped_inverse(C, 0.0)) == 2
