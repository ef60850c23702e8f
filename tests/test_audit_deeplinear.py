"""The proof audit of Bernacchia et al. (verification/checks/audit_deeplinear.py) and the evidence behind the deep
linear errata (verification/checks/deeplinear.py): every audited step reproduces, a planted wrong formula FAILs naming
the step's line, and the "smallest counterexample" and "rate" claims of the errata hold where they say."""

import numpy as np
import pytest

import theorytools.deeplinear as D
from theorytools.deeplinear import instances as DI
from verification import registry
from verification.audit import PROOFS
from verification.checks import audit_deeplinear as AD  # noqa: F401  (registers the audit)
from verification.checks import deeplinear as CD
from verification.errata import passage_at
from verification.runner import run_checks
from verification.verdict import FAIL, PASS

AUDITS = ["deeplinear.proof_gradient", "deeplinear.proof_fisher", "deeplinear.proof_eq16_eq18", "deeplinear.proof_eq19",
          "deeplinear.proof_eq23", "deeplinear.proof_eq20"]
ERRATA = ["deeplinear.claim_b_eq10", "deeplinear.eq10_counterexample", "deeplinear.decay_law"]


def _run(names):
    """check name -> its results (one per quick instance)."""
    out = {}
    for r in run_checks("quick", ",".join(names), seed=0):
        out.setdefault(r.check, []).append(r)
    return out


def test_every_audited_step_reproduces_on_the_quick_instances():
    results = _run(AUDITS)
    assert set(results) == set(AUDITS)
    for name, rs in results.items():
        for r in rs:
            assert r.verdict.status == PASS, f"{name}: {r.verdict.message}"
    for name in ("deeplinear.proof_fisher", "deeplinear.proof_eq19"):
        assert all("1 of them false as printed" in r.verdict.message for r in results[name])


def test_the_audit_lists_the_hypotheses_the_proofs_use_beyond_the_statements():
    p = PROOFS["Bernacchia et al., Eqs 16-18 (the total map under Eq. 10 with square invertible layers)"]
    assert p.extra_hypotheses == ("the layers stay invertible along the whole path (Eq. 16 at every t)",)
    assert p.checked == 5 and len(p.steps) == 6
    for p in (q for q in PROOFS.values() if q.statement.startswith("Bernacchia et al.")):
        assert p.check in registry.CHECKS


def _fails_at(name, line):
    rs = run_checks("quick", name, seed=0)
    failed = [r for r in rs if r.verdict.status == FAIL]
    assert failed, [r.verdict.message for r in rs]
    assert all(f"line {line}" in r.verdict.message for r in failed), [r.verdict.message for r in failed]


def test_a_planted_eq10_without_its_1_over_L_fails_at_eq16(monkeypatch):
    monkeypatch.setattr(D.DeepLinearNet, "eq10_update", lambda self: self.blockdiag_update())
    _fails_at("deeplinear.proof_eq16_eq18", 357)


def test_a_planted_error_covariance_without_St_inverse_fails_at_eq14(monkeypatch):
    def wrong(self, i):
        A = self.A[i - 1]
        return A.T @ A
    monkeypatch.setattr(D.DeepLinearNet, "Lambda_tilde", wrong)
    _fails_at("deeplinear.proof_fisher", 316)


def test_a_planted_eq23_without_its_1_over_L2_fails_at_eq23(monkeypatch):
    right = D.ginverse.eq23
    monkeypatch.setattr(D.ginverse, "eq23", lambda net: right(net) * net.L ** 2)
    _fails_at("deeplinear.proof_eq23", 688)


def test_an_audit_that_finds_a_false_step_true_fails_naming_it(monkeypatch):
    # plant "Eq. 10 is the natural gradient": then Eq. 19 equals it everywhere and the audit's finding does not reproduce
    monkeypatch.setattr(D.DeepLinearNet, "natural_gradient", lambda self: self.flatten(self.eq10_update()))
    _fails_at("deeplinear.proof_eq19", 408)


# -- the errata's evidence ---------------------------------------------------------------------------------------

def test_the_deeplinear_errata_are_classed_quoted_and_certified():
    registry.load_all()
    classes = {}
    for name in ERRATA + ["deeplinear.proof_fisher"]:
        e = registry.CHECKS[name].erratum
        assert passage_at(e.seed, e.line, e.passage), name
        assert e.certified()["ok"], (name, e.certified())
        classes[name] = e.category
    assert classes == {"deeplinear.claim_b_eq10": "missing hypothesis", "deeplinear.eq10_counterexample": "false",
                       "deeplinear.decay_law": "imprecise", "deeplinear.proof_fisher": "imprecise"}
    results = _run(ERRATA)
    assert set(results) == set(ERRATA)
    bad = [r.verdict.message for rs in results.values() for r in rs if r.verdict.status != PASS]
    assert not bad, bad


def _solves(net) -> bool:
    F, g = net.fisher(), net.gradient()
    d = net.flatten(net.eq10_update())
    return bool(np.linalg.norm(F @ d + g) <= 1e-9 * np.linalg.norm(g))


def test_the_smallest_counterexamples_to_claim_b_are_exhaustive_over_the_width_tuples():
    """Generic layers: among all width tuples with P <= 3 exactly 1-1-2 and 2-1-1 fail; with P <= 2 none does.  A zero
    layer (non-generic) makes the 1-1-1 net (P = 2) fail; P = 1 is L = 1, where Eq. 10 is F^-1 grad."""
    tuples = CD._small_width_tuples(3)
    failing = [w for w in tuples for s in range(3) if not _solves(DI.random_net(w, s))]
    assert sorted(set(failing)) == [(1, 1, 2), (2, 1, 1)]
    assert all(DI.claim_b_expected(w) == (w not in failing) for w in tuples)
    zero = CD._counterexample_case("quick", 0)[0].net
    assert zero.P == 2 and not _solves(zero)


@pytest.mark.parametrize("widths", [(2, 4, 3), (3, 3, 3), (2, 3, 1, 2), (4, 2, 2, 4)])
def test_claim_b_follows_the_rank_condition_not_the_widths_alone(widths):
    """Where the widths allow it, a layer of low rank (A_i or B_i losing rank) breaks Eq. 10; the rank condition decides."""
    net = DI.random_net(widths, 1)
    layers = [W.copy() for W in net.weights]
    layers[0][0] = 0.0  # W_1 loses a row: B_2 = W_1 of rank n_1 - 1
    low = net.with_weights(layers)
    A_full = all(np.linalg.matrix_rank(A) == widths[-1] for A in low.A)
    B_full = all(np.linalg.matrix_rank(B) == widths[0] for B in low.B)
    assert _solves(low) == (A_full and B_full)
    assert _solves(net) == DI.claim_b_expected(widths)


@pytest.mark.parametrize("widths, ratio", [((2, 1, 2), 0.3), ((2, 1, 2), 0.95), ((4, 2, 3), 0.5), ((3, 1, 4), 0.8)])
def test_the_bottleneck_rate_is_the_slowest_mode_of_the_linearized_flow(widths, ratio):
    """2 (1 - s_{r+1}/s_r) = 2 x the smallest eigenvalue of F^+ H at the best rank-r map (H: the loss Hessian)."""
    rng = np.random.default_rng([7, *widths])
    n0, nL = widths[0], widths[-1]
    k, r = min(n0, nL), min(widths)
    s = np.sort(rng.uniform(1.0, 2.0, k))[::-1]
    s[r:] = np.minimum(s[r:], ratio * s[r - 1])
    s[r] = ratio * s[r - 1]
    U = np.linalg.qr(rng.standard_normal((nL, nL)))[0]
    V = np.linalg.qr(rng.standard_normal((n0, n0)))[0]
    S = np.zeros((nL, n0))
    S[:k, :k] = np.diag(s)
    net = D.DeepLinearNet([np.eye(b, a) for a, b in zip(widths, widths[1:])], np.eye(n0), np.eye(nL), U @ S @ V.T)
    net = net.with_weights(CD._factor(net.best_reachable_map(), widths))
    theta, h = net.flatten(net.weights), 1e-5
    H = np.column_stack([(net.with_weights(net.unflatten(theta + h * e)).gradient()
                          - net.with_weights(net.unflatten(theta - h * e)).gradient()) / (2 * h) for e in np.eye(net.P)])
    F = net.fisher()
    lam = np.sort(np.linalg.eigvals(np.linalg.pinv(F, rcond=1e-10) @ (H + H.T) / 2).real)
    lam = lam[net.P - net.generic_fisher_rank:]  # less the null directions of F (the symmetry)
    rate, _ = D.predicted_decay(net)
    assert lam[0] > 0 and abs(2 * lam[0] - rate) < 1e-6 and abs(rate - 2 * (1 - ratio)) < 1e-12
