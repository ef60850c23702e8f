"""Problem instances of the quadratic family (001_7d31b3ff3a2f0401.txt §14.2.1 and seeded random ones).

Canonical settings: ``B = H`` (stochastic 2nd-order), ``B = lambda_n(H) I`` with ``a = kappa(H)``
(the 1st-order comparison of §14.2.1), ``B = I`` (SGD), the spectrum ``lambda_i = n - i + 1``
and the realizable noise ``Sigma_g = H``.  Random settings: kappa(H) up to 1e6, several n, random
SPD ``B``, full-rank and rank-deficient ``Sigma_g``.  Sizes depend on the profile: ``quick`` is the
CI profile, ``full`` the one behind the findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from theorytools.quadratic import Constant, Harmonic, QuadraticProblem, StepSequence, make_problem, random_problem
from theorytools.quadratic.instances import log_spaced_spectrum, spd_with_spectrum
from theorytools.quadratic.simulation import default_ks

SIZES = {
    "quick": {"n": 8, "kmax_exact": 10**5, "kmax_mc": 200, "runs": 2048, "random_n": (3, 10), "random_kappa": (1e2, 1e4)},
    "full": {"n": 30, "kmax_exact": 10**6, "kmax_mc": 1000, "runs": 16384, "random_n": (3, 10, 30),
             "random_kappa": (1e2, 1e4, 1e6)},
}


@dataclass(frozen=True, eq=False)
class QInstance:
    """A problem, a schedule and the iteration counts at which to compare."""

    name: str
    problem: QuadraticProblem
    schedule: object
    ks: np.ndarray  # for exact comparisons (long horizon)
    ks_mc: np.ndarray  # for Monte Carlo comparisons (short horizon)
    runs: int
    tags: frozenset = frozenset()
    noise: object = "gaussian"  # noise model of the Monte Carlo checks

    @property
    def rtol(self) -> float:
        """Tolerance for comparing two floating-point routes on this problem: each is accurate to
        about ``n * eps * kappa`` (an eigensolve or a dense solve with a matrix of condition kappa);
        64 is a safety factor for accumulation over k.  At least 1e-12."""
        p = self.problem
        kappa = max(np.linalg.cond(p.H), np.linalg.cond(p.B), p.lambda_1 / p.lambda_n)
        return max(1e-12, 64 * p.n * np.finfo(float).eps * kappa)


def _sizes(profile):
    if profile not in SIZES:
        raise ValueError(f"profile must be one of {tuple(SIZES)}, got {profile!r}")
    return SIZES[profile]


def _inst(name, p, schedule, sz, tags=()):
    return QInstance(name, p, schedule, default_ks(sz["kmax_exact"], 60), default_ks(sz["kmax_mc"], 12), sz["runs"],
                     frozenset(tags))


@lru_cache(maxsize=8)
def canonical(profile: str, seed: int) -> tuple:
    """The §14.2.1 settings on a kappa = 100 Hessian, constant and harmonic steps."""
    sz = _sizes(profile)
    n = sz["n"]
    rng = np.random.default_rng([seed, 100])
    H = spd_with_spectrum(log_spaced_spectrum(n, 100.0), rng)
    out = []
    for B_kind in ("H", "lambda_n", "I"):
        p = make_problem(H, B_kind, "random", rng=rng, noise_scale=0.05)
        tags = {f"B={B_kind}"}
        out.append(_inst(f"B={B_kind}, Sigma random, alpha=1/lambda_1", p, Constant(1.0 / p.lambda_1), sz, tags | {"alpha_at_limit"}))
        out.append(_inst(f"B={B_kind}, Sigma random, alpha=0.5/lambda_1", p, Constant(0.5 / p.lambda_1), sz, tags))
    # Harmonic steps need b = lambda_n(B^-1 H) > 1/2: B = H gives b = 1 (any a >= 1); B = lambda_n(H) I
    # gives b = 1 with a = kappa(H) (the paper's choice); B = I needs H rescaled so lambda_n(H) = 0.6.
    pH = make_problem(H, "H", "H", rng=rng)
    out.append(_inst("B=H, Sigma=H (realizable), harmonic a=1", pH, Harmonic(1.0), sz, {"B=H", "realizable"}))
    pL = make_problem(H, "lambda_n", "H", rng=rng)
    out.append(_inst("B=lambda_n I, Sigma=H, harmonic a=kappa", pL, Harmonic(pL.lambda_1), sz, {"B=lambda_n", "realizable"}))
    H6 = H * (0.6 / np.linalg.eigvalsh(H)[0])
    pI = make_problem(H6, "I", "random", rng=rng, noise_scale=0.05, start_scale=3.0)
    out.append(_inst("B=I, lambda_n(H)=0.6, harmonic a=lambda_1-1", pI, Harmonic(max(1.0, pI.lambda_1 - 1.0)), sz, {"B=I", "small_b"}))
    # The start error along the slowest eigen-direction (lambda_n(B^-1 H) = b = 0.6) with little noise:
    # the instance on which the (a+1)/(k+a))^{2b} decay of Theorem 5's harmonic start term is tight.
    w, Vh = np.linalg.eigh(H6)
    pS = QuadraticProblem(H6, np.eye(n), 1e-4 * H6, 3.0 * Vh[:, 0])
    out.append(_inst("B=I, b=0.6, start along slowest direction, harmonic a=lambda_1-1", pS,
                     Harmonic(max(1.0, pS.lambda_1 - 1.0)), sz, {"B=I", "small_b", "slow_start"}))
    # lambda_i = n - i + 1, realizable (the Omega(n^2) example of §14.2.1).
    rngl = np.random.default_rng([seed, 101])
    Hl = spd_with_spectrum(np.arange(n, 0, -1, dtype=float), rngl)
    for B_kind in ("H", "lambda_n"):
        p = make_problem(Hl, B_kind, "H", rng=rngl)
        a = 1.0 if B_kind == "H" else float(n)
        out.append(_inst(f"lambda_i=n-i+1, B={B_kind}, Sigma=H, harmonic a={a:g}", p, Harmonic(a), sz, {f"B={B_kind}", "realizable"}))
    # theta0 = theta*: pure noise.
    p0 = QuadraticProblem(H, H, H, np.zeros(n))
    out.append(_inst("theta0=theta*, B=H, Sigma=H, alpha=0.5", p0, Constant(0.5), sz, {"B=H", "at_optimum"}))
    return tuple(out)


@lru_cache(maxsize=8)
def random_instances(profile: str, seed: int) -> tuple:
    """Seeded random problems over the profile's grid of n and kappa(H)."""
    sz = _sizes(profile)
    out = []
    for i, (n, kappa) in enumerate((n, k) for n in sz["random_n"] for k in sz["random_kappa"]):
        s = 1000 * seed + i
        p = random_problem(n, kappa, "random", "lowrank" if i % 2 else "random", seed=s, noise_scale=0.1)
        out.append(_inst(f"random n={n} kappa={kappa:.0e} seed={s}, alpha=0.7/lambda_1", p, Constant(0.7 / p.lambda_1), sz))
        # Harmonic: rescale B so that b = lambda_n(B^-1 H) = 0.75, and a = lambda_1 - 1 (>= 1).
        q = QuadraticProblem(p.H, p.B * (p.lambda_n / 0.75), p.Sigma_g, p.theta0)
        out.append(_inst(f"random n={n} kappa={kappa:.0e} seed={s}, harmonic b=0.75", q, Harmonic(max(1.0, q.lambda_1 - 1.0)), sz))
    return tuple(out)


def all_instances(profile: str, seed: int) -> list:
    return list(canonical(profile, seed)) + list(random_instances(profile, seed))


def constant_instances(profile: str, seed: int) -> list:
    return [i for i in all_instances(profile, seed) if isinstance(i.schedule, Constant)]


def mc_instances(profile: str, seed: int) -> list:
    """Instances small enough for Monte Carlo: the canonical ones and the smallest random ones."""
    n_small = min(_sizes(profile)["random_n"])
    return list(canonical(profile, seed)) + [i for i in random_instances(profile, seed) if i.problem.n == n_small]


@lru_cache(maxsize=8)
def route_instances(profile: str, seed: int) -> tuple:
    """Instances on which a shortcut could go wrong unseen (checked against the slow routes of
    :mod:`verification.reference.quadratic`): a random B that does not commute with H (B^-1 H is not
    symmetric, so a transpose shows), the step at its limit alpha lambda_1 = 1 and beyond it
    (1 < alpha lambda_1 < 2: negative factors 1 - alpha lam, outside Theorem 5 but inside Theorem 3),
    a user step sequence, harmonic steps outside the Gamma-ratio route (lambda_1 > a + 1), a
    rank-deficient Sigma_g, and n = 1."""
    sz = _sizes(profile)
    rng = np.random.default_rng([seed, 200])
    n = 6 if profile == "quick" else 12
    H = spd_with_spectrum(log_spaced_spectrum(n, 1e2), rng)
    B = spd_with_spectrum(np.exp(rng.uniform(-1.0, 1.0, n)), rng)
    G = rng.standard_normal((n, n))
    p = QuadraticProblem(H, B, 0.05 * G @ G.T / n, rng.standard_normal(n), 0.1 * rng.standard_normal(n))
    L = p.lambda_1
    tags = frozenset({"B=random", "route"})
    out = [
        _inst("route: random B, alpha=0.9/lambda_1", p, Constant(0.9 / L), sz, tags),
        _inst("route: random B, alpha=1/lambda_1 (limit)", p, Constant(1.0 / L), sz, tags | {"alpha_at_limit"}),
        _inst("route: random B, alpha=1.6/lambda_1 (alpha lambda_1 > 1)", p, Constant(1.6 / L), sz, tags | {"beyond_limit"}),
    ]
    K = 60
    steps = StepSequence(rng.uniform(0.2, 1.3, K) / L)
    out.append(QInstance("route: random B, user step sequence (60 steps, some alpha lambda_1 > 1)", p, steps,
                         default_ks(K, 20), default_ks(K, 8), sz["runs"], tags | {"sequence"}))
    q = QuadraticProblem(H, B * (p.lambda_n / 0.75), p.Sigma_g, p.theta0, p.theta_star)
    out.append(_inst("route: random B, harmonic b=0.75, a=lambda_1-1", q, Harmonic(max(1.0, q.lambda_1 - 1.0)), sz, tags))
    # lambda_1 > a + 1: the harmonic factors leave the Gamma-ratio route for the step-by-step one.
    out.append(QInstance("route: random B, harmonic a=20 (lambda_1 > a+1: step-by-step route)", q, Harmonic(20.0),
                         default_ks(2000, 30), default_ks(sz["kmax_mc"], 12), sz["runs"], tags | {"outside_gamma"}))
    F = rng.standard_normal((n, 2))
    r = QuadraticProblem(H, B, F @ F.T, p.theta0, p.theta_star)
    out.append(_inst("route: random B, rank-2 Sigma_g, alpha=0.7/lambda_1", r, Constant(0.7 / r.lambda_1), sz, tags | {"rank_deficient"}))
    one = QuadraticProblem([[2.0]], [[0.5]], [[0.3]], [1.5])
    out.append(_inst("route: n=1, alpha=0.3/lambda_1", one, Constant(0.3 / one.lambda_1), sz, {"n=1"}))
    return tuple(out)
