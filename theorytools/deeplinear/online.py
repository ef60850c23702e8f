"""Online natural gradient (003_34787a2226c5cf0a.txt §5, eqs 20-21 and footnote 1) and SGD, for deep linear
and tanh networks, and the experiments of Figure 1.

Samples are rows: a minibatch ``X`` is ``(M, n_0)``, layer activations ``h_i`` are ``(M, n_i)``.  The output model
is ``y ~ N(x_L, s2 I)`` (isotropic, as in Figure 1: ``Sigma-tilde = 1e-6 I``), so the back-propagated error at the
output is ``(y - x_L) / s2`` (eq. 8).  One online NGD step (Eq. 20)::

    Lambda_i  = <h_{i-1} h_{i-1}^T>            over the M inputs (forward pass)
    Lambda~_i = <e~_i e~_i^T>                  over K model samples y~ ~ N(x_L, s2 I) per input (K backward passes)
    dW_i = (alpha / L) (Lambda~_i + sqrt(lam) I)^-1 <e_i h_{i-1}^T> (Lambda_i + sqrt(lam) I)^-1     (true targets y)

and ``lam`` is adapted by eq. 21 from ``rho`` = (actual change of the minibatch loss) / (the change predicted
by the quadratic model of footnote 1, ``(-alpha + alpha^2/2) sum_i tr(D_i^T <e_i h_{i-1}^T>)`` with
``dW_i = alpha D_i``).  ``inverse="sherman_morrison"`` replaces the damped inverses by running estimates of the
inverse covariances updated with the Sherman-Morrison formula (M rank-one updates per step, applied at once in
their Woodbury form), with the fixed damping of their start (§7: "more work is needed to incorporate adaptive
damping into SM estimation").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from theorytools.errors import NonFiniteError

ACTIVATIONS = ("linear", "tanh")


@dataclass
class MLP:
    """``x_i = phi(W_i x_{i-1})`` for hidden layers, ``x_L = W_L x_{L-1}`` (eq. 1 without biases; biases would be an extra
    column, as the paper says)."""

    weights: list
    activation: str = "linear"

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        self.weights = [np.array(W, dtype=float) for W in self.weights]
        for i in range(1, len(self.weights)):
            if self.weights[i].shape[1] != self.weights[i - 1].shape[0]:
                raise ValueError(f"layer {i + 1}: W_{i + 1} has {self.weights[i].shape[1]} columns but layer {i} has "
                                 f"{self.weights[i - 1].shape[0]} outputs")

    @property
    def L(self) -> int:
        return len(self.weights)

    def forward(self, X) -> tuple:
        """``(inputs, derivs)``: ``inputs[i]`` = the input ``h_{i}`` of layer ``i + 1`` (``inputs[L]`` = output) and
        ``derivs[i]`` = ``phi'`` at layer ``i + 1``'s pre-activation (None for linear layers)."""
        hs, ds = [X], []
        for i, W in enumerate(self.weights):
            a = hs[-1] @ W.T
            if self.activation == "tanh" and i < self.L - 1:
                h = np.tanh(a)
                ds.append(1.0 - h * h)
            else:
                h = a
                ds.append(None)
            hs.append(h)
        return hs, ds

    def backward(self, derivs, e_out) -> list:
        """Errors ``e_i`` for ``i = 1..L`` (eq. 8): ``e_L = e_out``, ``e_i = phi_i' o (e_{i+1} W_{i+1})``."""
        es = [e_out]
        for i in range(self.L - 1, 0, -1):
            e = es[0] @ self.weights[i]
            if derivs[i - 1] is not None:
                e = e * derivs[i - 1]
            es.insert(0, e)
        return es

    def predict(self, X) -> np.ndarray:
        return self.forward(X)[0][-1]


def mse(net: MLP, X, Y) -> float:
    """Mean squared error per output component, ``<|y - x_L|^2> / n_L`` (Figure 1's test error)."""
    R = Y - net.predict(X)
    return float(np.mean(R * R))


class ShermanMorrisonInverse:
    """Running estimate of ``C^-1`` for ``C_k = (1 - eta) C_{k-1} + (eta / M) H^T H`` (``H`` an ``M x n`` minibatch),
    started at ``C_0 = c0 I``.  The M rank-one Sherman-Morrison updates of one step are applied at once in their
    Woodbury form: ``(a C + U U^T)^-1 = (C^-1 - C^-1 U (a I + U^T C^-1 U)^-1 U^T C^-1) / a``."""

    def __init__(self, n: int, c0: float, eta: float):
        if not (c0 > 0 and 0 < eta < 1):
            raise ValueError(f"need c0 > 0 and 0 < eta < 1, got c0={c0!r}, eta={eta!r}")
        self.inv = np.eye(n) / c0
        self.eta = eta

    def update(self, H) -> np.ndarray:
        """Fold in the minibatch ``H``; return ``C_k^-1 H^T`` (see :func:`sherman_morrison_updates`)."""
        return sherman_morrison_updates([self], [H])[0]


def sherman_morrison_updates(estimates, Hs) -> list:
    """Update each :class:`ShermanMorrisonInverse` with its minibatch and return the ``C_k^-1 H^T``, at O(n^2 M) each:
    with ``U = sqrt(eta / M) H^T`` and ``S = a I + U^T C^-1 U``, ``C_k^-1 = (C^-1 - C^-1 U S^-1 U^T C^-1) / a`` and
    ``C_k^-1 U = C^-1 U S^-1``.  The M x M systems of all estimates are factored in one stacked call (one LAPACK
    dispatch instead of 2L: at width 100 and M = 20 the dispatch overhead was comparable to the arithmetic)."""
    c2s = [e.eta / H.shape[0] for e, H in zip(estimates, Hs)]  # U = sqrt(c2) H^T
    CHs = [e.inv @ H.T for e, H in zip(estimates, Hs)]
    Ss = [(1.0 - e.eta) * np.eye(H.shape[0]) + c2 * (H @ CH) for e, H, c2, CH in zip(estimates, Hs, c2s, CHs)]
    # S = G G^T: the downdate T T^T with T = C^-1 U G^-T is computed as A @ A.T, which numpy evaluates with a
    # symmetric rank-k update (exactly symmetric, half the flops), so C^-1 stays symmetric without re-symmetrizing
    try:
        if len({S.shape for S in Ss}) == 1:
            Ginvs = np.linalg.inv(np.linalg.cholesky(np.stack(Ss)))
        else:
            Ginvs = [np.linalg.inv(np.linalg.cholesky(S)) for S in Ss]
    except np.linalg.LinAlgError:
        bad = [i for i, S in enumerate(Ss) if np.linalg.eigvalsh(S)[0] <= 0]
        raise NonFiniteError(f"Sherman-Morrison: the running inverse estimate(s) {bad} (of {len(Ss)}: inputs of layers 1..L, "
                             "then errors) lost positive definiteness to rounding in the downdates; use a larger eta or "
                             "a smaller alpha, or inverse='pinv'") from None
    out = []
    for e, CH, Ginv, c2 in zip(estimates, CHs, Ginvs, c2s):
        T = np.sqrt(c2) * (CH @ Ginv.T)
        e.inv -= T @ T.T
        e.inv /= 1.0 - e.eta
        out.append(CH @ (Ginv.T @ Ginv))  # C_k^-1 H^T = C^-1 H^T S^-1
    return out


@dataclass
class History:
    """Test error against examples seen and wall-clock seconds (training only, evaluation excluded)."""

    examples: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    test_error: list = field(default_factory=list)
    damping: list = field(default_factory=list)

    def record(self, examples, seconds, err, lam=np.nan):
        self.examples.append(int(examples))
        self.seconds.append(float(seconds))
        self.test_error.append(float(err))
        self.damping.append(float(lam))

    def as_arrays(self) -> dict:
        return {k: np.asarray(v) for k, v in self.__dict__.items()}


def predicted_change(alpha: float, dirs, grads) -> float:
    """Footnote 1: the change of the loss predicted by the quadratic model whose Newton step is ``D`` (``dW_i = alpha D_i``),
    ``(-alpha + alpha^2 / 2) sum_i tr(D_i^T <e_i h_{i-1}^T>)`` (``grads`` are ``<e_i h_{i-1}^T> = -dL/dW_i``).  When ``D``
    solves ``F D = -grad`` this is ``alpha g^T D + alpha^2/2 D^T F D`` exactly; for Eq. 10 that needs claim (b)."""
    return (-alpha + 0.5 * alpha**2) * sum(float(np.sum(D * G)) for D, G in zip(dirs, grads))


def eq21_damping(lam: float, rho: float, lam_min: float = 0.0) -> float:
    """Eq. 21: ``3/2 lam`` if ``rho < 1/4``, ``2/3 lam`` if ``rho > 3/4`` (never below ``lam_min``), else ``lam``."""
    if rho < 0.25:
        return 1.5 * lam
    if rho > 0.75:
        return max(lam / 1.5, lam_min)
    return lam


def _damped_inverse(C, sqrt_lam):
    """``(C + sqrt(lam) I)^-1`` from the eigendecomposition of the PSD ``C`` (eigenvalues below ``n eps lambda_max``
    set to 0: a covariance of rank < n, e.g. behind a bottleneck, stays exactly PSD); the Moore-Penrose inverse
    when ``lam = 0``."""
    w, V = np.linalg.eigh(C)
    w = np.where(w > C.shape[0] * np.finfo(float).eps * max(w[-1], 0.0), w, 0.0)
    if sqrt_lam == 0.0:
        inv = np.divide(1.0, w, out=np.zeros_like(w), where=w > 0)
    else:
        inv = 1.0 / (w + sqrt_lam)
    return (V * inv) @ V.T


def _batches(N: int, M: int, rng):
    """Endless minibatch indices: reshuffled passes over N examples."""
    while True:
        perm = rng.permutation(N)
        for s in range(0, N - M + 1, M):
            yield perm[s:s + M]


def _run(step, net, data, M, examples, eval_every, rng, progress, desc, state=None):
    X, Y, Xt, Yt = data
    hist = History()
    hist.record(0, 0.0, mse(net, Xt, Yt), getattr(state, "lam", np.nan))
    seen, clock, next_eval = 0, 0.0, eval_every
    batches = _batches(X.shape[0], M, rng)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=examples, desc=desc, unit="ex", leave=False)
    while seen < examples:
        idx = next(batches)
        t0 = time.perf_counter()
        step(X[idx], Y[idx])
        clock += time.perf_counter() - t0
        seen += M
        if bar:
            bar.update(M)
        if seen >= next_eval or seen >= examples:
            err = mse(net, Xt, Yt)
            if not np.isfinite(err):
                raise NonFiniteError(f"{desc}: test error became {err} after {seen} examples")
            hist.record(seen, clock, err, getattr(state, "lam", np.nan))
            next_eval += eval_every
    if bar:
        bar.close()
    return hist


def train_sgd(net: MLP, data, lr: float, M: int = 20, examples: int = 10_000, eval_every: int = 1000,
              seed: int = 0, progress: bool = False) -> History:
    """SGD on ``1/2 |y - x_L|^2`` (eq. 6 times s2: the usual squared error, so ``lr`` has its usual scale):
    ``W_i += lr <e_i h_{i-1}^T>`` with ``e_L = y - x_L``.  Modifies ``net`` in place."""
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")

    def step(Xb, Yb):
        hs, ds = net.forward(Xb)
        es = net.backward(ds, Yb - hs[-1])
        for i, W in enumerate(net.weights):
            W += lr * (es[i].T @ hs[i]) / Xb.shape[0]

    return _run(step, net, data, M, examples, eval_every, np.random.default_rng(seed), progress, f"SGD lr={lr:g}")


@dataclass
class _Damping:
    lam: float


def train_ngd(net: MLP, data, s2: float, alpha: float = 1.0, M: int = 1000, K: int = 1, lam0: float = 1.0,
              adaptive: bool = True, lam_min: float = 1e-10, inverse: str = "pinv", eta: float = 0.05, examples: int = 10_000,
              eval_every: int = 1000, seed: int = 0, progress: bool = False) -> History:
    """Online NGD (Eq. 20) with the adaptive damping of eq. 21 (``adaptive``, from ``lam0``, never below ``lam_min``:
    once the loss reaches its noise floor rho is noise, and eq. 21 alone would shrink lam without limit until the
    damped inverses amplify rounding and the run diverges), K model samples per input, and ``inverse`` = ``"pinv"`` (damped inverses of the minibatch covariances; the Moore-Penrose inverse if
    ``lam0 = 0`` and not adaptive) or ``"sherman_morrison"`` (running inverse estimates, fixed damping: the start
    ``C_0`` is the first minibatch's mean eigenvalue times I, forgotten at rate ``eta``).  The running estimates lag
    the weights: with them, alpha = 1 diverged on a 4-6-6-4 net (M = 50, eta = 0.1 or 0.3) where alpha = 0.5 reached
    the noise floor (tests/test_deeplinear.py).  Modifies ``net`` in place."""
    if inverse not in ("pinv", "sherman_morrison"):
        raise ValueError(f"inverse must be 'pinv' or 'sherman_morrison', got {inverse!r}")
    if not (s2 > 0 and alpha > 0 and lam0 >= 0 and K >= 1):
        raise ValueError(f"need s2 > 0, alpha > 0, lam0 >= 0, K >= 1; got s2={s2!r}, alpha={alpha!r}, lam0={lam0!r}, K={K!r}")
    rng = np.random.default_rng([seed, 1])
    state = _Damping(lam0)
    sm: list = []
    L = net.L

    def loss(Xb, Yb):
        R = Yb - net.predict(Xb)
        return 0.5 * float(np.sum(R * R)) / (s2 * Xb.shape[0])

    def step(Xb, Yb):
        Mb = Xb.shape[0]
        hs, ds = net.forward(Xb)
        # K model samples y~ = x_L + sqrt(s2) xi: output errors xi / sqrt(s2), back-propagated with the true errors
        # (y - x_L) / s2 in one pass (same forward pass, one product per layer)
        xi = rng.standard_normal((K,) + hs[-1].shape) / np.sqrt(s2)
        both = net.backward([None if d is None else np.tile(d, (K + 1, 1)) for d in ds],
                            np.vstack([(Yb - hs[-1]) / s2, xi.reshape(K * Mb, -1)]))
        es, es_model = [e[:Mb] for e in both], [e[Mb:] for e in both]
        if inverse == "sherman_morrison":
            # <e_i h^T> has rank <= M: apply the inverses to the factors, (Lt^-1 E^T)(La^-1 H^T)^T / M, O(n^2 M)
            if not sm:
                sm.extend(ShermanMorrisonInverse(H.shape[1], float(np.mean(H * H)), eta) for H in hs[:-1] + es_model)
            inv_h = sherman_morrison_updates(sm, hs[:-1] + es_model)[:L]  # Lambda_i^-1 H^T
            for i, W in enumerate(net.weights):
                W += (alpha / (L * Mb)) * (sm[L + i].inv @ es[i].T) @ inv_h[i].T
            return
        grads = [e.T @ h / Mb for e, h in zip(es, hs[:-1])]  # <e_i h_{i-1}^T> = -dL/dW_i
        sq = np.sqrt(state.lam)
        inv_in = [_damped_inverse(h.T @ h / Mb, sq) for h in hs[:-1]]
        inv_err = [_damped_inverse(e.T @ e / (K * Mb), sq) for e in es_model]
        dirs = [Ie @ G @ Ii / L for Ie, G, Ii in zip(inv_err, grads, inv_in)]
        R = Yb - hs[-1]
        before = 0.5 * float(np.sum(R * R)) / (s2 * Mb)
        for W, Dd in zip(net.weights, dirs):
            W += alpha * Dd
        if adaptive:
            predicted = predicted_change(alpha, dirs, grads)
            rho = (loss(Xb, Yb) - before) / predicted if predicted != 0 else 1.0
            state.lam = eq21_damping(state.lam, rho, lam_min)

    return _run(step, net, data, M, examples, eval_every, np.random.default_rng(seed), progress,
                f"NGD ({inverse})", state)


def grid_search_sgd(make_net, data, lrs, M: int = 20, examples: int = 10_000, seed: int = 0, progress: bool = False):
    """SGD for each learning rate in ``lrs`` from the same start (``make_net()``); returns ``(best_lr, histories)``,
    best = lowest final test error (a diverged run counts as infinite)."""
    hists = {}
    for lr in lrs:
        try:
            hists[lr] = train_sgd(make_net(), data, lr, M, examples, max(examples // 20, M), seed, progress)
        except (NonFiniteError, FloatingPointError):
            hists[lr] = None
    finals = {lr: (h.test_error[-1] if h is not None else np.inf) for lr, h in hists.items()}
    if all(h is None for h in hists.values()):
        raise NonFiniteError(f"SGD diverged for every learning rate of the grid {tuple(lrs)}: add smaller ones")
    return min(finals, key=finals.get), hists
