"""Consequences and related results of Theorems 5 and 6 (001_7d31b3ff3a2f0401.txt §14.1-§14.3.2, Appendix C).

Closed forms and bounds a reader compares with the exact risks of :mod:`theorytools.quadratic.risk`:

* §14.1, eqn. 18: Amari's Fisher-efficiency rate ``n/(2k)`` (:func:`amari_limit`).
* §14.2.1: Theorem 5's harmonic bound for ``B = H`` (:func:`harmonic_BH_bound`, with the exact
  closed form :func:`harmonic_BH_exact`) and for ``B = lambda_n(H) I``, ``a = kappa(H)``
  (:func:`harmonic_lambda_n_bound`); the noise constants ``n/2`` and
  ``1/4 sum_i r_i/(1 - 1/(2 r_i))`` and their relations; the example ``lambda_i = n - i + 1``.
* Appendix C: the two chains of Lemma-18 bounds on the noise constants.
* §14.2.2: Bordes et al. (2009) asymptotic constants bracketing the exact limit of ``k E[h]``.
* §14.3.1: Theorem 6 for ``B = H`` and ``B = I`` (eqn. 21), also at the maximal step.
* §14.3.2: the Polyak-Juditsky asymptote, the Flammarion-Bach bound and the Defossez-Bach
  approximation.

Findings recorded here (details in each docstring; the tests demonstrate them):

1. §14.2.1, ``B = lambda_n(H) I``: the claim ``Psi_1(U) <= U`` is false when ``kappa(H) > 2``
   (``Psi_1(U) = (I - H/lambda_n) U (I - H/lambda_n)`` and ``|1 - r_i|`` reaches ``kappa - 1``),
   (it is not even a Loewner inequality for ``kappa <= 2`` unless U commutes with H; the trace form
   the derivation needs holds iff ``kappa <= 2``), and with it the displayed bound: for
   ``kappa = 100``, ``theta_0 = theta*`` and the realizable ``Sigma_g = H`` the exact risk is 1.93x
   (n = 2), 1.6x (n = 4), 1.2x (n = 10) above it at k = 1 (1.97x with Sigma_g on the top
   eigenvector), and still above at k = 1000.  Theorem 5's own u(k) is not violated in these
   examples.  A correct explicit form replaces
   ``nu(kappa) k/(k+kappa)^3`` by ``(kappa - 1)^2 (psi(k+kappa) - psi(kappa))/(k+kappa)^2``
   (``version="corrected"``): the hidden constant of the "O(1/(k+kappa)^2)" term is ~kappa^2.
2. Theorem 5's harmonic upper bound inherits the error of Proposition 23 (part 2) for
   ``lambda_n(B^-1 H) < 3/2``: in 1-D with ``a = 30``, ``b = 1.3``, ``theta_0 = theta*`` the
   exact second-order term exceeds the printed one by 17% at ``k = 3e6`` and 33% at ``k = 1e7``
   (the total by ~6e-9 relative).  :func:`theorem5_harmonic_upper_corrected` uses the exact
   sum ``S_k(a, b)`` that the proof actually bounds and is valid for every ``b > 1/2``.
3. §14.3.1 says averaged SGD with ``Sigma_g = H`` reaches ``n/(k+1) + o(1/k)``; Theorem 6 and the
   exact risk give ``n/(2(k+1))``.
4. §14.3.2 prints the Polyak-Juditsky covariance as ``H^{-1/2} Sigma_g H^{-1/2} / (k+1)``; the
   exact limit is ``H^{-1} Sigma_g H^{-1} / (k+1)`` (only that one gives the displayed risk).
5. The Defossez-Bach approximation is, for constant ``Sigma_g``, exactly twice the exact
   asymptote in both terms (consistent with an objective without the factor 1/2).
6. §14.2.1's "n/2 <= 2 * 1/4 sum r_i/(1 - 1/(2 r_i))" (B = H no worse than twice B = lambda_n I)
   holds without the 2: ``r/(1 - 1/(2r)) >= 2`` for ``r >= 1``; more generally, for any
   ``Sigma_g``, ``1/2 tr(H^-1 Sigma_g) <= 1/(4 lambda_n) tr((I - lambda_n/2 H^-1)^-1 Sigma_g)``
   (per eigendirection of H the ratio of the weights is ``(2r - 1)/r^2 <= 1``), equality iff ``H = cI``.

Examples
--------
Amari's rate ``n/(2k)``, and the two noise constants of §14.2.1's example ``lambda_i(H) = n - i + 1`` at
``n = 2``: ``n/2 = 1`` for ``B = H`` against ``1/4 (2 + 2/(1 - 1/4)) = 7/6`` for ``B = lambda_n(H) I``:

>>> from theorytools.quadratic import consequences
>>> print(float(consequences.amari_limit(3, 10)))
0.15
>>> [round(c, 6) for c in consequences.linear_spectrum_noise_constants(2)]
[1.0, 1.166667]
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma

from theorytools.errors import HypothesisError
from theorytools.linalg import (
    as_array,
    as_bool,
    as_choice,
    as_int,
    as_steps,
    as_symmetric,
    check_allocation,
    check_definite,
    check_finite,
    check_semidefinite,
    positive,
    spd_solve,
    squeeze_k,
    trace_solve,
)
from theorytools.quadratic.hypotheses import Hypothesis, require
from theorytools.quadratic.lemmas import proposition23_sum
from theorytools.quadratic.problem import QuadraticProblem, as_problem
from theorytools.quadratic.schedules import Constant, Harmonic
from theorytools.quadratic.theorem5 import harmonic_traces, nu

#: ``B`` is accepted as "equal to" a target ``T`` when ``|D (B - T) D|_max <= B_RTOL`` with ``D = diag(T)^-1/2``:
#: a preconditioner built as ``lambda_n(H) I`` or ``H.copy()`` matches to rounding.  The comparison is made in
#: ``T``'s own units (entry ij relative to ``sqrt(T_ii T_jj)``), so a change of units ``theta -> S theta`` does not
#: change the verdict; relative to ``|T|_max`` a 100% difference in a coordinate of small units would pass.
B_RTOL = 1e-10

KINDS = ("H", "lambda_n", "I")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def _ks(k):
    return np.atleast_1d(as_steps(k)).astype(float)


def _B_target(p, kind: str) -> np.ndarray:
    kind = as_choice("kind", kind, KINDS)
    if kind == "H":
        return p.H
    if kind == "lambda_n":
        return float(_h_eigs(p.H)[0]) * np.eye(p.n)
    return np.eye(p.n)


def _B_hypothesis(p, kind: str) -> Hypothesis:
    target = _B_target(p, kind)
    d = 1.0 / np.sqrt(np.diag(target))  # target is positive definite
    dev = float(np.max(np.abs(d[:, None] * (p.B - target) * d[None, :])))
    label = {"H": "B = H", "lambda_n": "B = lambda_n(H) I", "I": "B = I"}[kind]
    return Hypothesis("B", f"{label} (max deviation, entry ij relative to sqrt(T_ii T_jj))", dev, B_RTOL, False, True)


def _raise_if(check: bool, where: str, hyps) -> None:
    bad = [h for h in hyps if not h.holds]
    if as_bool("check", check) and bad:
        raise HypothesisError(
            f"{where}: hypotheses violated: " + "; ".join(str(h) for h in bad)
            + " (pass check=False to evaluate the formula anyway)"
        )


def with_preconditioner(p, kind: str) -> QuadraticProblem:
    """The same ``(H, Sigma_g, theta0, theta*)`` with ``B = H``, ``lambda_n(H) I`` or ``I``.

    The preconditioners compared in 001_7d31b3ff3a2f0401.txt §14.2.1 and §14.3.1.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    kind : str
        ``"H"``, ``"lambda_n"`` or ``"I"``.

    Returns
    -------
    QuadraticProblem
        The problem with the new ``B``.

    Examples
    --------
    ``H = diag(2, 1)``: ``B = lambda_n(H) I = I``, so ``lam(B^-1 H) = (1, 2)``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, consequences
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.diag([2.0, 1.0]), np.diag([2.0, 1.0]), [1.0, 1.0])  # B = Sigma_g = H
    >>> np.round(consequences.with_preconditioner(p, "lambda_n").lam, 6).tolist()
    [1.0, 2.0]
    """
    p = as_problem(p)
    return QuadraticProblem(p.H, _B_target(p, kind), p.Sigma_g, p.theta0, p.theta_star)


def _h_sigma(H, Sigma_g) -> tuple[np.ndarray, np.ndarray]:
    """``H`` symmetric positive definite and ``Sigma_g`` symmetric of the same size."""
    H = as_symmetric("H", H)
    check_definite("H", H)
    return H, as_symmetric("Sigma_g", Sigma_g, H.shape[0])


def _h_eigs(H) -> np.ndarray:
    lam = np.linalg.eigvalsh(H)
    if lam[0] <= 0:  # H passed Cholesky but its smallest eigenvalue is below the eigensolver's rounding
        raise ValueError(f"H is too ill-conditioned for lambda_n(H) in double precision: smallest eigenvalue "
                         f"{lam[0]:.3e}")
    return lam



# ---------------------------------------------------------------------------------------------
# §14.1: Amari
# ---------------------------------------------------------------------------------------------
def amari_limit(n: int, k):
    """``n / (2k)``: Amari's Fisher-efficient rate of ``E[h(theta_k)] - h(theta*)``.

    001_7d31b3ff3a2f0401.txt §14.1, eqn. 18 (``1/(2k) tr(H F^{-1}) = n/(2k)`` with ``H = F``).  In the
    quadratic model with ``B = H = Sigma_g`` and ``alpha_k = 1/(k+1)`` (``Harmonic(0)``) it is
    exact for every ``k >= 1`` (see :func:`harmonic_BH_exact`).

    Parameters
    ----------
    n : int
        The dimension, >= 1.
    k : int or array_like of int
        Iteration count(s), >= 1.

    Returns
    -------
    float or ndarray
        ``n / (2k)``.

    Examples
    --------
    Equal to the exact risk of ``B = H = Sigma_g``, ``alpha_k = 1/(k+1)`` (:func:`harmonic_BH_exact`, ``a = 0``):

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, consequences
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.diag([2.0, 1.0]), np.diag([2.0, 1.0]), [1.0, 1.0])  # B = Sigma_g = H
    >>> np.round(consequences.amari_limit(2, [1, 10]), 6).tolist()
    [1.0, 0.1]
    >>> np.round(consequences.harmonic_BH_exact(p, 0.0, [1, 10]), 6).tolist()
    [1.0, 0.1]
    """
    n = as_int("n", n, low=1)
    ks = _ks(k)
    if np.any(ks == 0):
        raise ValueError("k must be >= 1 for n/(2k)")
    return squeeze_k(k, n / (2.0 * ks))


# ---------------------------------------------------------------------------------------------
# §14.2.1: consequences of Theorem 5
# ---------------------------------------------------------------------------------------------
def harmonic_BH_bound(p, a: float, k, check: bool = True):
    """``tr(H^-1 Sigma_g)/(2(k+a)) + h(theta_0) ((1+a)/(k+a))^2`` -- Theorem 5 with ``B = H``.

    001_7d31b3ff3a2f0401.txt §14.2.1, first display (``b = 1`` and ``Psi_1 = 0`` when ``B = H``).
    Needs ``B = H`` and Theorem 5's harmonic hypotheses (``a >= 1``).

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    a : float
        Offset of the harmonic steps ``alpha_k = 1/(k + a + 1)``.
    k : int or array_like of int
        Iteration count(s).
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypotheses (default True).

    Returns
    -------
    float or ndarray
        The bound at each k.

    Examples
    --------
    ``tr(H^-1 Sigma_g) = n = 2``, ``h(theta_0) = 3/2``, ``a = 1``: ``2/4 + 3/2 = 2`` at ``k = 1``, ``1/3 + 2/3`` at ``k = 2``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, consequences
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.diag([2.0, 1.0]), np.diag([2.0, 1.0]), [1.0, 1.0])  # B = Sigma_g = H
    >>> np.round(consequences.harmonic_BH_bound(p, 1.0, [1, 2]), 6).tolist()
    [2.0, 1.0]
    """
    p = as_problem(p)
    a = Harmonic(a).a
    _raise_if(check, "harmonic_BH_bound", [_B_hypothesis(p, "H")])
    if check:
        require(p, Harmonic(a), "theorem5")
    ks = _ks(k)
    t = trace_solve(p.H, p.Sigma_g)
    out = t / (2.0 * (ks + a)) + p.h0 * ((1.0 + a) / (ks + a)) ** 2
    return squeeze_k(k, check_finite("harmonic_BH_bound", out))


def harmonic_BH_exact(p, a: float, k, check: bool = True):
    """Exact ``E[h(theta_k)] - h* = k tr(H^-1 Sigma_g) / (2 (k+a)^2) + h(theta_0) (a/(k+a))^2`` for ``B = H``.

    Derived from 001_7d31b3ff3a2f0401.txt §14.2 (eqns. 20, 23 and Theorem 3's variance recursion):
    with ``B^-1 H = I`` and ``alpha_j = 1/(j+a+1)``, ``prod_{j=t+1}^{k-1} (1 - alpha_j) = (t+a+1)/(k+a)``, so
    ``V_k = k/(k+a)^2 H^-1 Sigma_g H^-1`` and ``E[theta_k] - theta* = a/(k+a) (theta_0 - theta*)``.
    With ``a = 0`` and ``Sigma_g = H`` it is Amari's ``n/(2k)`` exactly (eqn. 18).  Valid for any ``a > -1``.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    a : float
        Offset of the harmonic steps ``alpha_k = 1/(k + a + 1)``, > -1.
    k : int or array_like of int
        Iteration count(s).
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` unless ``B = H`` (default True).

    Returns
    -------
    float or ndarray
        The exact expected excess objective at each k.

    Examples
    --------
    ``2/8 + 3/2 (1/2)^2 = 5/8`` at ``k = 1``, as the general route :func:`~theorytools.quadratic.excess_risk` gives:

    >>> import numpy as np
    >>> from theorytools.quadratic import Harmonic, QuadraticProblem, consequences, excess_risk
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.diag([2.0, 1.0]), np.diag([2.0, 1.0]), [1.0, 1.0])  # B = Sigma_g = H
    >>> np.round(consequences.harmonic_BH_exact(p, 1.0, [1, 2]), 6).tolist()
    [0.625, 0.388889]
    >>> np.round(excess_risk(p, Harmonic(1.0), [1, 2]), 6).tolist()
    [0.625, 0.388889]
    """
    p = as_problem(p)
    a = Harmonic(a).a
    _raise_if(check, "harmonic_BH_exact", [_B_hypothesis(p, "H")])
    ks = _ks(k)
    t = trace_solve(p.H, p.Sigma_g)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = ks * t / (2.0 * (ks + a) ** 2) + p.h0 * (a / (ks + a)) ** 2
    out = np.where(ks == 0, p.h0, out)  # k = 0 (0/0 when a = 0): theta_0 itself
    return squeeze_k(k, check_finite("harmonic_BH_exact", out))


def first_order_noise_trace(H, Sigma_g) -> float:
    """``T = tr((I - lambda_n(H)/2 H^-1)^-1 Sigma_g) / lambda_n(H)``.

    Equal to ``tr((B^-1 - H^-1/2)^-1 U)`` for ``B = lambda_n(H) I`` (001_7d31b3ff3a2f0401.txt §14.2.1, second
    display).

    Parameters
    ----------
    H : array_like, shape (n, n)
        The Hessian, symmetric positive definite.
    Sigma_g : array_like, shape (n, n)
        The gradient-noise covariance.

    Returns
    -------
    float
        ``T``.

    Examples
    --------
    ``H = Sigma_g = diag(2, 1)``: ``(2/(3/4) + 1/(1/2)) / 1 = 14/3``, also ``t_U`` of
    :func:`~theorytools.quadratic.harmonic_traces` for ``B = lambda_n(H) I``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, consequences, harmonic_traces
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.diag([2.0, 1.0]), np.diag([2.0, 1.0]), [1.0, 1.0])  # B = Sigma_g = H
    >>> T = consequences.first_order_noise_trace(p.H, p.Sigma_g)
    >>> print(f"{T:.6f}", bool(np.isclose(T, harmonic_traces(consequences.with_preconditioner(p, "lambda_n"))[0])))
    4.666667 True
    """
    H, Sigma_g = _h_sigma(H, Sigma_g)
    ln = _h_eigs(H)[0]
    M = np.eye(H.shape[0]) - 0.5 * ln * np.linalg.inv(H)
    return trace_solve(M, Sigma_g) / ln


HARMONIC_LAMBDA_N_VERSIONS = ("printed", "corrected")


def harmonic_lambda_n_bound(p, k, version: str = "printed", check: bool = True):
    """Theorem 5 for ``B = lambda_n(H) I`` and ``alpha_k = 1/(k+kappa+1)`` (``a = kappa(H)``, ``b = 1``).

    001_7d31b3ff3a2f0401.txt §14.2.1, second display, with ``T`` from :func:`first_order_noise_trace`:

    * ``"printed"`` -- the O(1/(k+kappa)^2) term made explicit the way the text says ("Lemma 20 while
      exploiting Psi_1(U) <= U"), i.e. ``tr((B^-1 - H^-1/2)^-1 Psi_1(U)) <= T``::

          (1/(4(k+kappa)) + nu(kappa) k / (4 (k+kappa)^3)) T + h(theta_0) ((1+kappa)/(k+kappa))^2

      **Not a valid bound**: ``tr(M Psi_1(U)) <= tr(M U)`` fails for ``kappa > 2`` (the eigenvalues of
      ``I - H/lambda_n`` reach ``1 - kappa``), and Proposition 23 (part 2) fails at ``b = 1``.
      For ``kappa = 100``, ``Sigma_g = H``, ``theta_0 = theta*`` the exact risk is 1.2-1.9x this at k = 1.
    * ``"corrected"`` -- Lemma 15's route with the exact ``S_k(kappa, 1) = (psi(k+kappa) - psi(kappa))/(k+kappa)^2``
      (the products telescope at ``b = 1``) and Lemma 20 with ``(I - H/lambda_n)^2 <= (kappa-1)^2 I``::

          T/(4(k+kappa)) + (kappa-1)^2 T (psi(k+kappa) - psi(kappa)) / (4 (k+kappa)^2)
            + h(theta_0) ((1+kappa)/(k+kappa))^2

      A valid upper bound (tested); its second term is ``O(kappa^2 log(k) / k^2)``.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    k : int or array_like of int
        Iteration count(s).
    version : str, optional
        ``"printed"`` (default) or ``"corrected"``.
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` unless ``B = lambda_n(H) I`` (default True).

    Returns
    -------
    float or ndarray
        The bound at each k.

    Examples
    --------
    ``kappa = 2``: both versions are above the exact risk (:func:`~theorytools.quadratic.excess_risk` with
    ``a = kappa``) here:

    >>> import numpy as np
    >>> from theorytools.quadratic import Harmonic, QuadraticProblem, consequences, excess_risk
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.diag([2.0, 1.0]), [1.0, 1.0])  # B = lambda_n(H) I
    >>> [np.round(consequences.harmonic_lambda_n_bound(p, [1, 10], v), 6).tolist() for v in ("printed", "corrected")]
    [[2.042524, 0.214978], [1.953704, 0.207337]]
    >>> np.round(excess_risk(p, Harmonic(2.0), [1, 10]), 6).tolist()
    [0.611111, 0.106807]
    """
    p = as_problem(p)
    version = as_choice("version", version, HARMONIC_LAMBDA_N_VERSIONS)
    _raise_if(check, "harmonic_lambda_n_bound", [_B_hypothesis(p, "lambda_n")])
    lam = _h_eigs(p.H)
    kappa = float(lam[-1] / lam[0])
    ks = _ks(k)
    T = first_order_noise_trace(p.H, p.Sigma_g)
    start = p.h0 * ((1.0 + kappa) / (ks + kappa)) ** 2
    if version == "printed":
        out = (1.0 / (4.0 * (ks + kappa)) + nu(kappa) * ks / (4.0 * (ks + kappa) ** 3)) * T + start
    else:
        S1 = (digamma(ks + kappa) - digamma(kappa)) / (ks + kappa) ** 2
        out = T / (4.0 * (ks + kappa)) + (kappa - 1.0) ** 2 * T * S1 / 4.0 + start
    return squeeze_k(k, check_finite("harmonic_lambda_n_bound", out))


def theorem5_harmonic_upper_corrected(p, a: float, k, check: bool = True):
    """Theorem 5's harmonic upper bound with Proposition 23 (part 2) replaced by the exact sum it bounds.

    001_7d31b3ff3a2f0401.txt §14.2 Theorem 5, proof in Appendix B (Lemmas 13-16)::

        u(k) = t_U/(4(k+a)) + t_Psi S_k(a, b)/4 + h(theta_0) ((1+a)/(k+a))^{2b}

    with ``S_k(a, b)`` = :func:`theorytools.quadratic.lemmas.proposition23_sum` and ``b = lambda_n(B^-1 H)``.
    Every step of the proof except Proposition 23's second inequality is kept, so this holds under
    Theorem 5's hypotheses for every ``b > 1/2``; where ``3/2 <= b`` it is below the printed ``u(k)``
    (``S_k <= nu(a) k/(k+a)^3``).  O(k) per k (k <= 1e8).

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    a : float
        Offset of the harmonic steps ``alpha_k = 1/(k + a + 1)``.
    k : int or array_like of int
        Iteration count(s).
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypotheses (default True).

    Returns
    -------
    float or ndarray
        The corrected ``u(k)`` at each k.

    Examples
    --------
    Between the exact risk and the printed ``u(k)`` of :func:`~theorytools.quadratic.theorem5_bounds` here:

    >>> import numpy as np
    >>> from theorytools.quadratic import Harmonic, QuadraticProblem, consequences, excess_risk, theorem5_bounds
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])  # B = Sigma_g = I
    >>> ks = [10, 100]
    >>> exact, printed = excess_risk(p, Harmonic(1.0), ks), theorem5_bounds(p, Harmonic(1.0), ks)[1]
    >>> u = consequences.theorem5_harmonic_upper_corrected(p, 1.0, ks)
    >>> bool(np.all(exact <= u) and np.all(u <= printed))
    True
    """
    p = as_problem(p)
    a = Harmonic(a).a
    if as_bool("check", check):
        require(p, Harmonic(a), "theorem5")
    ks = np.atleast_1d(as_steps(k))
    b = p.lambda_n
    tU, tPsi = harmonic_traces(p)
    S = np.array([proposition23_sum(int(kk), a, b) if tPsi != 0.0 else 0.0 for kk in ks])
    kf = ks.astype(float)
    out = tU / (4.0 * (kf + a)) + 0.25 * tPsi * S + p.h0 * ((1.0 + a) / (kf + a)) ** (2.0 * b)
    return squeeze_k(k, check_finite("theorem5_harmonic_upper_corrected", out))


def second_order_noise_constant(H, Sigma_g) -> float:
    """``1/2 tr(H^-1 Sigma_g)``: the constant of the 1/k noise term for ``B = H``.

    §14.2.1; ``n/2`` when ``Sigma_g = H``.  001_7d31b3ff3a2f0401.txt §14.2.1.

    Parameters
    ----------
    H : array_like, shape (n, n)
        The Hessian, symmetric positive definite.
    Sigma_g : array_like, shape (n, n)
        The gradient-noise covariance.

    Returns
    -------
    float
        ``1/2 tr(H^-1 Sigma_g)``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.quadratic import consequences
    >>> round(float(consequences.second_order_noise_constant(np.diag([2.0, 1.0]), np.diag([2.0, 1.0]))), 6)  # n/2
    1.0
    """
    return 0.5 * trace_solve(*_h_sigma(H, Sigma_g))


def first_order_noise_constant(H, Sigma_g) -> float:
    """``1/(4 lambda_n(H)) tr((I - lambda_n(H)/2 H^-1)^-1 Sigma_g)``: the 1/k noise constant for ``B = lambda_n(H) I``.

    001_7d31b3ff3a2f0401.txt §14.2.1.

    Parameters
    ----------
    H : array_like, shape (n, n)
        The Hessian, symmetric positive definite.
    Sigma_g : array_like, shape (n, n)
        The gradient-noise covariance.

    Returns
    -------
    float
        ``T / 4`` with ``T`` of :func:`first_order_noise_trace`.

    Examples
    --------
    ``1/4 (2/(3/4) + 1/(1/2)) = 7/6``:

    >>> import numpy as np
    >>> from theorytools.quadratic import consequences
    >>> round(float(consequences.first_order_noise_constant(np.diag([2.0, 1.0]), np.diag([2.0, 1.0]))), 6)
    1.166667
    """
    return 0.25 * first_order_noise_trace(H, Sigma_g)


def realizable_noise_constants(h_eigs) -> tuple[float, float]:
    """``(n/2, 1/4 sum_i r_i / (1 - 1/(2 r_i)))`` with ``r_i = lambda_i(H)/lambda_n(H)``.

    The two noise constants of §14.2.1 in the realizable case ``Sigma_g = H`` (B = H resp. B = lambda_n(H) I).

    001_7d31b3ff3a2f0401.txt §14.2.1 (eigenvalues of a rational function of H).

    Parameters
    ----------
    h_eigs : array_like of float
        The eigenvalues of H, positive.

    Returns
    -------
    tuple of float
        ``(n/2, 1/4 sum_i r_i / (1 - 1/(2 r_i)))``.

    Examples
    --------
    ``r = (1, 2)``: ``1/4 (2 + 2/(3/4)) = 7/6``:

    >>> from theorytools.quadratic import consequences
    >>> [round(c, 6) for c in consequences.realizable_noise_constants([2.0, 1.0])]
    [1.0, 1.166667]
    """
    lam = np.sort(as_array("h_eigs", h_eigs, ndim=1))
    if lam[0] <= 0:
        raise ValueError(f"h_eigs must be positive eigenvalues, got {lam[0]:g}")
    with np.errstate(over="ignore"):  # a condition number beyond 1e308: reported by check_finite
        r = lam / lam[0]
        c1 = check_finite("realizable_noise_constants (lambda_i / lambda_n)", 0.25 * float(np.sum(r / (1.0 - 0.5 / r))))
    return 0.5 * lam.size, c1


def realizable_noise_relations(h_eigs) -> tuple[tuple[float, float], tuple[float, float]]:
    """The two relations of §14.2.1 (001_7d31b3ff3a2f0401.txt), each as ``(smaller, larger)``.

    * ``1/4 tr(H)/lambda_n(H) = 1/4 sum r_i  <=  1/4 sum r_i/(1 - 1/(2 r_i))``;
    * ``n/2  <=  2 * 1/4 sum r_i/(1 - 1/(2 r_i))`` (B = H is never worse than twice B = lambda_n I).

    The factor 2 in the second is never needed: ``r/(1 - 1/(2r)) >= 2`` for ``r >= 1``, so
    ``n/2 <= 1/4 sum r_i/(1 - 1/(2 r_i))``, with equality iff all ``r_i = 1`` (``H = c I``).

    Parameters
    ----------
    h_eigs : array_like of float
        The eigenvalues of H, positive.

    Returns
    -------
    tuple of tuple of float
        ``((1/4 sum r_i, c), (n/2, 2 c))`` with ``c = 1/4 sum r_i/(1 - 1/(2 r_i))``.

    Examples
    --------
    >>> from theorytools.quadratic import consequences
    >>> [[round(x, 6) for x in pair] for pair in consequences.realizable_noise_relations([2.0, 1.0])]
    [[0.75, 1.166667], [1.0, 2.333333]]
    """
    half_n, c1 = realizable_noise_constants(h_eigs)
    lam = np.sort(np.asarray(h_eigs, dtype=float))
    r = lam / lam[0]
    return (0.25 * float(np.sum(r)), c1), (half_n, 2.0 * c1)


def linear_spectrum_noise_constants(n: int) -> tuple[float, float]:
    """``(n/2, n(n+2)/8 + (H_{2n} - H_n/2)/8)``: the §14.2.1 example ``lambda_i(H) = n - i + 1``, ``Sigma_g = H``.

    With ``r = 1..n``, ``r/(1 - 1/(2r)) = r + 1/2 + 1/(2(2r-1))``, so the ``B = lambda_n I`` constant is
    ``n(n+1)/8 + n/8 + (1/8) sum_{r<=n} 1/(2r-1)`` -- Omega(n^2) (~ n^2/8) against ``n/2`` for B = H.
    001_7d31b3ff3a2f0401.txt §14.2.1 ("the noise scales as Omega(n^2/k)").  The odd harmonic sum is
    ``sum_{r<=n} 1/(2r-1) = (psi(n + 1/2) - psi(1/2))/2`` (digamma), O(1) for any n.

    Parameters
    ----------
    n : int
        The dimension, >= 1.

    Returns
    -------
    tuple of float
        ``(n/2, n(n+2)/8 + (H_{2n} - H_n/2)/8)``.

    Examples
    --------
    The same numbers as :func:`realizable_noise_constants` on the spectrum ``(2, 1)``:

    >>> from theorytools.quadratic import consequences
    >>> [round(c, 6) for c in consequences.linear_spectrum_noise_constants(2)]
    [1.0, 1.166667]
    """
    n = as_int("n", n, low=1)
    odd = 0.5 * float(digamma(n + 0.5) - digamma(0.5))
    return 0.5 * n, n * (n + 2.0) / 8.0 + odd / 8.0


def appendixC_second_order_chain(H, Sigma_g) -> tuple[float, float, float]:
    """``(tr(Sigma_g)/(2 lambda_1(H)), 1/2 tr(H^-1 Sigma_g), tr(Sigma_g)/(2 lambda_n(H)))`` -- non-decreasing.

    001_7d31b3ff3a2f0401.txt Appendix C, first chain (Lemma 18 with S = H^-1).  Needs Sigma_g PSD.

    Parameters
    ----------
    H : array_like, shape (n, n)
        The Hessian, symmetric positive definite.
    Sigma_g : array_like, shape (n, n)
        The gradient-noise covariance. Positive semidefinite.

    Returns
    -------
    tuple of float
        The three sides.

    Examples
    --------
    ``H = diag(2, 1)``, ``Sigma_g = I``: ``(2/4, (1/2 + 1)/2, 2/2)``:

    >>> import numpy as np
    >>> from theorytools.quadratic import consequences
    >>> [round(float(x), 6) for x in consequences.appendixC_second_order_chain(np.diag([2.0, 1.0]), np.eye(2))]
    [0.5, 0.75, 1.0]
    """
    H, Sigma_g = _h_sigma(H, Sigma_g)
    check_semidefinite("Sigma_g", Sigma_g)  # Lemma 18 needs it
    lam = _h_eigs(H)
    t = float(np.trace(Sigma_g))
    return t / (2.0 * lam[-1]), second_order_noise_constant(H, Sigma_g), t / (2.0 * lam[0])


def appendixC_first_order_chain(H, Sigma_g) -> tuple[float, float, float, float]:
    """``(tr(S)/(4 l_n), tr(S)/(4 l_n (1 - 1/(2 kappa))), 1/(4 l_n) tr((I - l_n/2 H^-1)^-1 S), tr(S)/(2 l_n))``.

    001_7d31b3ff3a2f0401.txt Appendix C, second chain (Lemma 18 with ``S = (I - l_n/2 H^-1)^-1``, whose
    eigenvalues lie in ``[1/(1 - 1/(2 kappa)), 2]``); ``S = Sigma_g``, ``l_n = lambda_n(H)``.  Non-decreasing.

    Parameters
    ----------
    H : array_like, shape (n, n)
        The Hessian, symmetric positive definite.
    Sigma_g : array_like, shape (n, n)
        The gradient-noise covariance. Positive semidefinite.

    Returns
    -------
    tuple of float
        The four sides.

    Examples
    --------
    ``H = diag(2, 1)`` (``kappa = 2``), ``Sigma_g = I``: ``(2/4, 2/3, 1/4 (4/3 + 2), 1)``:

    >>> import numpy as np
    >>> from theorytools.quadratic import consequences
    >>> [round(float(x), 6) for x in consequences.appendixC_first_order_chain(np.diag([2.0, 1.0]), np.eye(2))]
    [0.5, 0.666667, 0.833333, 1.0]
    """
    H, Sigma_g = _h_sigma(H, Sigma_g)
    check_semidefinite("Sigma_g", Sigma_g)  # Lemma 18 needs it
    lam = _h_eigs(H)
    t = float(np.trace(Sigma_g))
    kappa = lam[-1] / lam[0]
    return (t / (4.0 * lam[0]), t / (4.0 * lam[0] * (1.0 - 0.5 / kappa)),
            first_order_noise_constant(H, Sigma_g), t / (2.0 * lam[0]))


# ---------------------------------------------------------------------------------------------
# §14.2.2: Bordes et al. (2009)
# ---------------------------------------------------------------------------------------------
def bordes_constants(p, check: bool = True) -> tuple[float, float, float]:
    """``(tr(HU)/(4(lambda_1 - 1/2)), 1/4 tr((B^-1 - H^-1/2)^-1 U), tr(HU)/(4(lambda_n - 1/2)))`` -- non-decreasing.

    001_7d31b3ff3a2f0401.txt §14.2.2: Bordes et al. (2009) Theorem 1 bounds ``k (E[h(theta_k)] - h*)``
    asymptotically between the outer two (``alpha_k = 1/(k+a+1)``, ``lambda_n(B^-1 H) > 1/2``; the
    ``o(h(theta_0)/k)`` terms are not included).  The middle one is the exact limit of
    ``k (E[h(theta_k)] - h*)`` from Theorem 5 (eqn. 35); the bracket is Lemma 18 with
    ``S = (H^{1/2} B^-1 H^{1/2} - I/2)^-1`` and ``X = H^{1/2} U H^{1/2}``.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` unless ``lambda_n(B^-1 H) > 1/2`` (default True).

    Returns
    -------
    tuple of float
        The lower constant, the exact limit and the upper constant.

    Examples
    --------
    ``tr(H U) = 3``, ``lambda = (1, 2)``, ``t_U = 10/3``: ``(3/6, 10/12, 3/2)``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, consequences
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])  # B = Sigma_g = I
    >>> [round(c, 6) for c in consequences.bordes_constants(p)]
    [0.5, 0.833333, 1.5]
    """
    p = as_problem(p)
    hyp = Hypothesis("b", "lambda_n(B^-1 H) > 1/2", p.lambda_n, 0.5, True, False)
    _raise_if(check, "bordes_constants", [hyp])
    tHU = float(np.sum(p.H * p.U))
    tU, _ = harmonic_traces(p)
    return tHU / (4.0 * (p.lambda_1 - 0.5)), 0.25 * tU, tHU / (4.0 * (p.lambda_n - 0.5))


# ---------------------------------------------------------------------------------------------
# §14.3.1: consequences of Theorem 6
# ---------------------------------------------------------------------------------------------
def _theorem6_alpha(p, alpha, kind: str, check: bool) -> float:
    amax = 1.0 / p.lambda_1  # = 1 (B = H) or 1/lambda_1(H) (B = I), from the same eigensolve as the check
    al = amax if alpha is None else positive("alpha", alpha)
    # Theorem 6 asks alpha lambda_1 < 1; the bound at the maximal alpha is its limit alpha -> 1/lambda_1,
    # and both sides are continuous in alpha, so alpha lambda_1 = 1 is accepted.
    _raise_if(check, "Theorem 6 specialization",
              [_B_hypothesis(p, kind), Hypothesis("step", "alpha lambda_1(B^-1 H) <= 1", al * p.lambda_1, 1.0, False, True)])
    return al


def theorem6_BH_bound(p, k, alpha=None, check: bool = True):
    """``tr(H^-1 Sigma_g)/(2(k+1)) + h(theta_0)/((k+1)^2 alpha^2)`` -- Theorem 6 with ``B = H``.

    001_7d31b3ff3a2f0401.txt §14.3.1, first display; ``alpha=None`` gives the maximal ``alpha = 1``
    (second display, ``tr(H^-1 Sigma_g)/(2(k+1)) + h(theta_0)/(k+1)^2``; the limit of the ``alpha < 1`` bound).

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    k : int or array_like of int
        Iteration count(s).
    alpha : float, optional
        The constant step size (default: the maximal one, ``1 / lambda_1(B^-1 H)``).
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypotheses (default True).

    Returns
    -------
    float or ndarray
        The bound at each k.

    Examples
    --------
    ``alpha = 1``, ``k = 1``: ``2/4 + (3/2)/4 = 7/8``, above the exact 5/8 (:func:`~theorytools.quadratic.averaged_excess_risk`):

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, averaged_excess_risk, consequences
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.diag([2.0, 1.0]), np.diag([2.0, 1.0]), [1.0, 1.0])  # B = Sigma_g = H
    >>> print(round(float(consequences.theorem6_BH_bound(p, 1)), 6), round(float(averaged_excess_risk(p, 1.0, 1)), 6))
    0.875 0.625
    """
    p = as_problem(p)
    al = _theorem6_alpha(p, alpha, "H", check)
    ks = _ks(k)
    out = trace_solve(p.H, p.Sigma_g) / (2.0 * (ks + 1.0)) + p.h0 / ((ks + 1.0) ** 2 * al**2)
    return squeeze_k(k, check_finite("theorem6_BH_bound", out))


def theorem6_BI_bound(p, k, alpha=None, check: bool = True):
    """``tr(H^-1 Sigma_g)/(2(k+1)) + |H^{-1/2}(theta_0 - theta*)|^2/(2(k+1)^2 alpha^2)`` -- eqn. 21 (``B = I``).

    001_7d31b3ff3a2f0401.txt §14.3.1, eqn. 21; ``alpha=None`` gives the maximal ``alpha = 1/lambda_1(H)``
    (next display, ``lambda_1(H)^2 |H^{-1/2}(theta_0 - theta*)|^2 / (2(k+1)^2)``).

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    k : int or array_like of int
        Iteration count(s).
    alpha : float, optional
        The constant step size (default: the maximal one, ``1 / lambda_1(B^-1 H)``).
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypotheses (default True).

    Returns
    -------
    float or ndarray
        The bound at each k.

    Examples
    --------
    ``alpha = 1/2``, ``k = 1``: ``(3/2)/4 + (3/2)/(8/4) = 9/8``, above the exact 5/8:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, averaged_excess_risk, consequences
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])  # B = Sigma_g = I
    >>> print(round(float(consequences.theorem6_BI_bound(p, 1)), 6), round(float(averaged_excess_risk(p, 0.5, 1)), 6))
    1.125 0.625
    """
    p = as_problem(p)
    al = _theorem6_alpha(p, alpha, "I", check)
    ks = _ks(k)
    d = p.theta0 - p.theta_star
    q = float(d @ spd_solve(p.H, d))
    out = trace_solve(p.H, p.Sigma_g) / (2.0 * (ks + 1.0)) + q / (2.0 * (ks + 1.0) ** 2 * al**2)
    return squeeze_k(k, check_finite("theorem6_BI_bound", out))


# ---------------------------------------------------------------------------------------------
# §14.3.2: related results
# ---------------------------------------------------------------------------------------------
def polyak_juditsky_asymptote(p, k):
    """``tr(H^-1 Sigma_g) / (2(k+1))``: the Polyak-Juditsky (1992) leading term of ``E[h(theta_bar_k)] - h*``.

    001_7d31b3ff3a2f0401.txt §14.3.2 (independent of alpha and B; ``(k+1)`` times the exact averaged
    risk tends to ``tr(H^-1 Sigma_g)/2``).

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    k : int or array_like of int
        Iteration count(s).

    Returns
    -------
    float or ndarray
        ``tr(H^-1 Sigma_g) / (2(k+1))`` at each k.

    Examples
    --------
    ``tr(H^-1) = 3/2``: ``3/40`` at ``k = 9``; ``(k+1)`` times the exact averaged risk tends to ``3/4``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, averaged_excess_risk, consequences
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])  # B = Sigma_g = I
    >>> round(float(consequences.polyak_juditsky_asymptote(p, 9)), 6)
    0.075
    >>> round(10**6 * float(averaged_excess_risk(p, 0.5, 10**6 - 1)), 4)
    0.75
    """
    p = as_problem(p)
    ks = _ks(k)
    return squeeze_k(k, trace_solve(p.H, p.Sigma_g) / (2.0 * (ks + 1.0)))


def polyak_juditsky_covariance(p) -> np.ndarray:
    """``H^-1 Sigma_g H^-1``: the limit of ``(k+1) Cov(theta_bar_k)`` (Polyak & Juditsky 1992).

    001_7d31b3ff3a2f0401.txt §14.3.2 prints ``H^{-1/2} Sigma_g H^{-1/2}``; that matrix gives
    ``1/2 tr(H X) = tr(Sigma_g)/2``, not the displayed ``tr(H^-1 Sigma_g)/2``; the exact limit
    (:func:`averaged_covariance`) is ``H^-1 Sigma_g H^-1`` (possibly a conversion artifact).

    Parameters
    ----------
    p : QuadraticProblem
        The problem.

    Returns
    -------
    ndarray, shape (n, n)
        ``H^-1 Sigma_g H^-1``.

    Examples
    --------
    ``diag(1/4, 1)``, the limit of ``(k+1) Cov(theta_bar_k)`` (:func:`averaged_covariance`):

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, consequences
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])  # B = Sigma_g = I
    >>> C = consequences.polyak_juditsky_covariance(p)
    >>> np.round(np.diag(C), 6).tolist()
    [0.25, 1.0]
    >>> bool(np.allclose(1e4 * consequences.averaged_covariance(p, 0.5, 10**4 - 1), C, rtol=1e-3))
    True
    """
    p = as_problem(p)
    X = spd_solve(p.H, p.Sigma_g)
    X = spd_solve(p.H, X.T).T
    return 0.5 * (X + X.T)


#: Largest k for :func:`averaged_covariance` (a direct sum over m <= k per coordinate pair).
AVERAGED_COVARIANCE_KMAX = 10**6


def averaged_covariance(p, alpha: float, k: int) -> np.ndarray:
    """Exact ``Cov(theta_bar_k)`` of the Polyak average ``theta_bar_k = mean(theta_0..theta_k)``, constant step.

    001_7d31b3ff3a2f0401.txt §14.3, Appendix B.3 (eqn. 39 summed).  In eigen-coordinates the average's
    noise is ``-alpha/(k+1) sum_{t<k} phi_{k-t}(rho) eta_t`` with ``phi_m(rho) = sum_{j<m} rho^j``, so
    ``V^-1 Cov V^-T = alpha^2/(k+1)^2 [sum_{m=1}^k phi_m(rho_p) phi_m(rho_q)] o (V^T Sigma_g V)``.
    O(k n^2) (k <= 1e6).

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    alpha : float
        The constant step size, > 0.
    k : int
        The iteration count, ``0 <= k <= 1e6``.

    Returns
    -------
    ndarray, shape (n, n)
        ``Cov(theta_bar_k)``.

    Examples
    --------
    ``theta_bar_1 = (theta_0 + theta_1)/2`` has covariance ``V_1 / 4 = alpha^2 U / 4 = I/16`` at ``alpha = 1/2``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, consequences
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])  # B = Sigma_g = I
    >>> np.round(np.diag(consequences.averaged_covariance(p, 0.5, 1)), 6).tolist()
    [0.0625, 0.0625]
    """
    p = as_problem(p)
    k = as_int("k", k, high=AVERAGED_COVARIANCE_KMAX)
    check_allocation("the table phi_m(rho_i), m <= k", (k, p.n), copies=3, cheaper="a smaller k")
    al = Constant(alpha).alpha
    rho = 1.0 - al * p.lam
    n = p.n
    G = np.zeros((n, n))
    if k > 0:
        m = np.arange(1, k + 1, dtype=float)
        # phi_m(rho) = sum_{j<m} rho^j, by cumulative sums of powers (no division by 1 - rho)
        powers = rho[None, :] ** (m[:, None] - 1.0)
        phi = np.cumsum(powers, axis=0)  # (k, n)
        G = phi.T @ phi
    S = p.eig.V.T @ p.Sigma_g @ p.eig.V
    Y = al**2 / (k + 1.0) ** 2 * G * S
    C = p.eig.V @ Y @ p.eig.V.T
    return 0.5 * (C + C.T)


def flammarion_bach_bound(p, alpha: float, k, check: bool = True):
    """``4 alpha tr(Sigma_g) + |theta_0 - theta*|^2 / ((k+1) alpha)`` -- Flammarion & Bach (2015), Theorem 3.

    001_7d31b3ff3a2f0401.txt §14.3.2, for ``B = I`` and ``alpha lambda_1(H) <= 1``; bounds the Polyak
    average's ``E[h(theta_bar_k)] - h*`` but does not tend to 0.  It dominates Theorem 6
    (``4 alpha tr(Sigma_g) >= alpha/4 tr((I - alpha H/2)^-1 Sigma_g)`` since the inverse is ``<= 2 I``,
    and ``|d|^2/((k+1) alpha) >= |d|^2/(2(k+1) alpha)``): loose by at least 8x in the noise term.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    alpha : float
        The constant step size, ``alpha lambda_1(H) <= 1``.
    k : int or array_like of int
        Iteration count(s).
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` unless ``B = I`` and ``alpha lambda_1(H) <= 1`` (default True).

    Returns
    -------
    float or ndarray
        The bound at each k.

    Examples
    --------
    ``4 (1/2) 2 + 2 / (2 (1/2)) = 6`` at ``k = 1``:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, consequences
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])  # B = Sigma_g = I
    >>> round(float(consequences.flammarion_bach_bound(p, 0.5, 1)), 6)
    6.0
    """
    p = as_problem(p)
    al = Constant(alpha).alpha
    _raise_if(check, "flammarion_bach_bound",
              [_B_hypothesis(p, "I"), Hypothesis("step", "alpha lambda_1(H) <= 1", al * p.lambda_1, 1.0, False, True)])
    ks = _ks(k)
    d = p.theta0 - p.theta_star
    out = 4.0 * al * float(np.trace(p.Sigma_g)) + float(d @ d) / ((ks + 1.0) * al)
    return squeeze_k(k, check_finite("flammarion_bach_bound", out))


def defossez_bach_approximation(p, alpha: float, k):
    """``tr(H^-1 Sigma_g)/(k+1) + |H^{-1/2}(theta_0 - theta*)|^2 / ((k+1)^2 alpha^2)`` -- Defossez & Bach (2014).

    001_7d31b3ff3a2f0401.txt §14.3.2: an *approximation* (``alpha -> 0``, ``k -> inf``) for B = I under the
    least-squares noise model, not a bound.  For the constant ``Sigma_g`` of this module, in the regime
    ``alpha -> 0``, ``k alpha lambda_n(H) -> inf``, the exact averaged risk tends to
    ``tr(H^-1 Sigma_g)/(2(k+1)) + |H^{-1/2} d|^2/(2 (k+1)^2 alpha^2)``: both terms are half of these
    (consistent with an objective ``E(y - x^T theta)^2`` without the factor 1/2), so the ratio -> 2.

    Parameters
    ----------
    p : QuadraticProblem
        The problem.
    alpha : float
        The constant step size.
    k : int or array_like of int
        Iteration count(s).

    Returns
    -------
    float or ndarray
        The approximation at each k.

    Examples
    --------
    ``(3/2)/2 + (3/2)/(4/4) = 9/4`` at ``k = 1``, ``alpha = 1/2``; for small alpha and large k, twice the exact risk:

    >>> import numpy as np
    >>> from theorytools.quadratic import QuadraticProblem, averaged_excess_risk, consequences
    >>> p = QuadraticProblem(np.diag([2.0, 1.0]), np.eye(2), np.eye(2), [1.0, 1.0])  # B = Sigma_g = I
    >>> round(float(consequences.defossez_bach_approximation(p, 0.5, 1)), 6)
    2.25
    >>> approx, exact = consequences.defossez_bach_approximation(p, 1e-3, 10**7), averaged_excess_risk(p, 1e-3, 10**7)
    >>> bool(np.isclose(approx, 2 * exact, rtol=1e-3))
    True
    """
    p = as_problem(p)
    al = Constant(alpha).alpha
    ks = _ks(k)
    d = p.theta0 - p.theta_star
    q = float(d @ spd_solve(p.H, d))
    out = trace_solve(p.H, p.Sigma_g) / (ks + 1.0) + q / ((ks + 1.0) ** 2 * al**2)
    return squeeze_k(k, check_finite("defossez_bach_approximation", out))


__all__ = [
    "amari_limit",
    "with_preconditioner",
    "harmonic_BH_bound",
    "harmonic_BH_exact",
    "first_order_noise_trace",
    "harmonic_lambda_n_bound",
    "theorem5_harmonic_upper_corrected",
    "second_order_noise_constant",
    "first_order_noise_constant",
    "realizable_noise_constants",
    "realizable_noise_relations",
    "linear_spectrum_noise_constants",
    "appendixC_second_order_chain",
    "appendixC_first_order_chain",
    "bordes_constants",
    "theorem6_BH_bound",
    "theorem6_BI_bound",
    "polyak_juditsky_asymptote",
    "polyak_juditsky_covariance",
    "averaged_covariance",
    "flammarion_bach_bound",
    "defossez_bach_approximation",
]
