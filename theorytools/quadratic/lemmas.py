"""The self-contained technical results of 001_7d31b3ff3a2f0401.txt Appendix D, as checkable numbers.

Every inequality is returned as a tuple of its sides **in the order of the claimed chain**
``first <= second (<= third)``, so that a test or a verification check only has to compare
neighbours (``np.all(np.diff(sides) >= -tol)``).  Each function checks the lemma's hypotheses
first and raises :class:`~theorytools.errors.HypothesisError` (a ``ValueError``) naming the
violated one; ``check=False`` evaluates the sides anyway (where the inequality need not hold).

* Lemma 17 (trace of a Lyapunov-type solution) lives in :mod:`theorytools.linalg` and is
  re-exported here as :func:`lemma17_trace` (the same function object, not a copy).
* Lemmas 18, 20, Corollary 19: trace inequalities for symmetric / PSD / NSD matrices.
* Lemma 21: ``Phi(X) = X - D X D^T`` and its Neumann-series inverse, beside the Kronecker solve.
* Proposition 22: a lower bound on differences of harmonic numbers (evaluated at 50 digits).
* Proposition 23: the product bound (part 1) and the weighted-sum bound (part 2) used by
  Lemma 15, i.e. by Theorem 5's harmonic upper bound.

**Finding (Proposition 23, part 2).**  As printed ("for b <= a + 2") the second inequality is
false for small ``b``: e.g. ``a = b = 1`` gives exactly ``LHS = H_k / (k+1)^2`` against
``RHS = (27/4) k / (k+1)^3``, so ``LHS/RHS = (k+1) H_k / (6.75 k) -> inf`` (> 1 from k = 473 on;
1.27 at k = 3000).  The proof's last step ``min{i+a+2, k+a}^{2b-3} <= (k+a)^{2b-3}`` needs
``2b - 3 >= 0``.  With the extra hypothesis ``b >= 3/2`` the proof goes through (for every real
``a > 0``, not only integers), and ``3/2`` is sharp as ``a -> inf``: for ``1 < b < 3/2``,
``k^2 LHS -> 1/(2b - 2) > 1 = lim nu(a)``.  The proof's penultimate line
``nu(a) (k+a)^{-2b} sum_{i<k} min{i+a+2, k+a}^{2b-3}`` is a valid bound for every
``0 <= b <= a + 2``; it is available as ``version="intermediate"``.

**Part 1 for non-integer a.**  The proof goes through harmonic numbers ``H_{k+a} - H_{i+a}``,
which need integer ``a``; but ``sum_{j=i}^{k-1} 1/(j+a+1) >= int_i^k dx/(x+a+1)
= log((k+a+1)/(i+a+1))`` for every real ``a > -(i+1)``, so the bound holds for real ``a``
(with the slightly stronger denominator ``k + a + 1``); the tests check it numerically.

Examples
--------
Lemma 18 with ``S = diag(1, 3)``, ``X = I``: ``(1 * 2, tr(S), 3 * 2)``; and the Proposition 23 finding,
``LHS/RHS = (k+1) H_k / (6.75 k) = 1.27`` at ``k = 3000``:

>>> import numpy as np
>>> from theorytools.quadratic import lemmas
>>> [round(x, 6) for x in lemmas.lemma18_bounds(np.diag([1.0, 3.0]), np.eye(2))]
[2.0, 4.0, 6.0]
>>> lhs, rhs = lemmas.proposition23_counterexample(3000)
>>> print(f"{float(lhs / rhs):.6f}")
1.272091
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np

from theorytools.errors import HypothesisError
from theorytools.linalg import (
    as_bool,
    as_choice,
    as_float,
    as_int,
    as_matrix,
    as_symmetric,
    check_allocation,
    check_finite,
    check_semidefinite,
    log_gamma_ratio,
    lyapunov_trace,
    sandwich_kron,
    unvec,
    vec,
)
from theorytools.quadratic.hypotheses import Hypothesis
from theorytools.quadratic.theorem5 import nu

#: Lemma 17 of Appendix D, ``tr(A) = -1/2 tr(P^{-1} Q)`` for ``A^T P + P A + Q = 0``:
#: the same function as :func:`theorytools.linalg.lyapunov_trace` (re-exported, not duplicated).
lemma17_trace = lyapunov_trace

#: Relative tolerance of the "commute" hypothesis of Lemma 20:
#: ``|AS - SA|_F <= COMMUTE_RTOL * |A|_F |S|_F``.  Matrices built as ``Q diag(.) Q^T`` in
#: floating point commute to ~n * 1e-16 in this measure; genuinely non-commuting ones are O(1).
COMMUTE_RTOL = 1e-9

#: Eigenvalues of ``D`` in Lemma 21 whose imaginary part is below this (relative) are treated as
#: real: a real eigenvalue of a non-symmetric matrix is returned by LAPACK with an imaginary part
#: of a few ulps (or ~1e-8 for a defective one).
REAL_EIG_RTOL = 1e-7


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _raise_if(check: bool, where: str, hyps: list[Hypothesis]) -> None:
    bad = [h for h in hyps if not h.holds]
    if as_bool("check", check) and bad:
        raise HypothesisError(
            f"{where}: hypotheses violated: " + "; ".join(str(h) for h in bad)
            + " (pass check=False to evaluate the sides anyway)"
        )


def _psd_hypothesis(name: str, A: np.ndarray, sign: float = 1.0) -> Hypothesis:
    """``name`` PSD (sign=+1) or NSD (sign=-1), decided as :func:`~theorytools.linalg.check_semidefinite` decides
    (in units-free coordinates: rescaling rows and columns never flips it).  The value is the smallest eigenvalue
    of the Jacobi-equilibrated ``sign * A`` (``-1`` where a diagonal entry has the wrong sign), its bound 0 less the
    validators' slack."""
    kind = "PSD" if sign > 0 else "NSD"
    try:
        check_semidefinite(name, sign * A)
        value, why = 0.0, ""
    except ValueError as exc:
        value, why = -1.0, f": {exc}".replace(f"{name} is not positive semidefinite: ", "")
    return Hypothesis(f"{name}_{kind}", f"{name} is {kind}{why}", value, 0.0, False, False)


# ---------------------------------------------------------------------------------------------
# Lemma 18, Corollary 19, Lemma 20
# ---------------------------------------------------------------------------------------------
def lemma18_bounds(S, X, check: bool = True) -> tuple[float, float, float]:
    """``(lambda_n(S) tr(X), tr(S X), lambda_1(S) tr(X))`` -- claimed non-decreasing.

    001_7d31b3ff3a2f0401.txt Appendix D, Lemma 18 (after Wang et al. 1986, Lemma 1): for symmetric
    ``S`` and PSD ``X``, ``lambda_n(S) tr(X) <= tr(SX) <= lambda_1(S) tr(X)``.
    Equality: ``X = c v v^T`` with ``v`` an eigenvector of ``S`` for ``lambda_n`` (resp. ``lambda_1``),
    or ``S = c I``.

    Parameters
    ----------
    S : array_like, shape (n, n)
        Symmetric.
    X : array_like, shape (n, n)
        Symmetric positive semidefinite.
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypotheses (default True).

    Returns
    -------
    tuple of float
        ``(lambda_n(S) tr(X), tr(S X), lambda_1(S) tr(X))``.

    Examples
    --------
    ``S = diag(1, 3)``, ``X = I``: ``(1 * 2, tr(S), 3 * 2)``:

    >>> import numpy as np
    >>> from theorytools.quadratic import lemmas
    >>> [round(x, 6) for x in lemmas.lemma18_bounds(np.diag([1.0, 3.0]), np.eye(2))]
    [2.0, 4.0, 6.0]
    """
    S = as_symmetric("S", S)
    X = as_symmetric("X", X, S.shape[0])
    _raise_if(check, "Lemma 18", [_psd_hypothesis("X", X)])
    lam = np.linalg.eigvalsh(S)
    t = float(np.trace(X))
    with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite_sides
        sides = (lam[0] * t, np.sum(S * X), lam[-1] * t)
    return _finite_sides("Lemma 18", sides)


def corollary19_bounds(S, X, check: bool = True) -> tuple[float, float, float]:
    """``(lambda_1(S) tr(X), tr(S X), lambda_n(S) tr(X))`` for NSD ``X`` -- claimed non-decreasing.

    001_7d31b3ff3a2f0401.txt Appendix D, Corollary 19 (Lemma 18 applied to ``-X``).

    Parameters
    ----------
    S : array_like, shape (n, n)
        Symmetric.
    X : array_like, shape (n, n)
        Symmetric negative semidefinite.
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypotheses (default True).

    Returns
    -------
    tuple of float
        ``(lambda_1(S) tr(X), tr(S X), lambda_n(S) tr(X))``.

    Examples
    --------
    ``S = diag(1, 3)``, ``X = -I``: ``(3 * (-2), -tr(S), 1 * (-2))``:

    >>> import numpy as np
    >>> from theorytools.quadratic import lemmas
    >>> [round(x, 6) for x in lemmas.corollary19_bounds(np.diag([1.0, 3.0]), -np.eye(2))]
    [-6.0, -4.0, -2.0]
    """
    S = as_symmetric("S", S)
    X = as_symmetric("X", X, S.shape[0])
    _raise_if(check, "Corollary 19", [_psd_hypothesis("X", X, sign=-1.0)])
    lam = np.linalg.eigvalsh(S)
    t = float(np.trace(X))
    with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite_sides
        sides = (lam[-1] * t, np.sum(S * X), lam[0] * t)
    return _finite_sides("Corollary 19", sides)


def _finite_sides(where: str, sides) -> tuple:
    """The sides as floats; a product beyond the float range (1e300 x 1e300) is a NonFiniteError, not a warning."""
    check_finite(f"the sides of {where}", np.array(sides, dtype=float))
    return tuple(float(v) for v in sides)


def _commutator_rel(A, C) -> float:
    den = np.linalg.norm(A) * np.linalg.norm(C)
    return 0.0 if den == 0 else float(np.linalg.norm(A @ C - C @ A) / den)


def lemma20_hypotheses(A, S, T, X) -> list[Hypothesis]:
    """Hypotheses of 001_7d31b3ff3a2f0401.txt Appendix D, Lemma 20: A, S, T pairwise commute; ``S <= T``; A and X PSD.

    Parameters
    ----------
    A : array_like, shape (n, n)
        Symmetric positive semidefinite.
    S : array_like, shape (n, n)
        Symmetric.
    T : array_like, shape (n, n)
        Symmetric, ``T - S`` positive semidefinite.
    X : array_like, shape (n, n)
        Symmetric positive semidefinite.

    Returns
    -------
    list of Hypothesis
        The three commutation hypotheses and the three semidefiniteness ones.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.quadratic import lemmas
    >>> hs = lemmas.lemma20_hypotheses(np.eye(2), np.diag([1.0, 2.0]), np.diag([2.0, 3.0]), np.eye(2))
    >>> print([h.name for h in hs], all(h.holds for h in hs))
    ['commute_AS', 'commute_AT', 'commute_ST', 'T-S_PSD', 'A_PSD', 'X_PSD'] True
    """
    A, S, T, X = _lemma20_matrices(A, S, T, X)
    hyps = [
        Hypothesis(f"commute_{n1}{n2}", f"{n1} and {n2} commute (|[{n1},{n2}]|_F / (|{n1}|_F |{n2}|_F))",
                   _commutator_rel(M1, M2), COMMUTE_RTOL, False, True)
        for (n1, M1), (n2, M2) in [(("A", A), ("S", S)), (("A", A), ("T", T)), (("S", S), ("T", T))]
    ]
    hyps += [_psd_hypothesis("T-S", T - S), _psd_hypothesis("A", A), _psd_hypothesis("X", X)]
    return hyps


def _lemma20_matrices(A, S, T, X):
    A = as_symmetric("A", A)
    n = A.shape[0]
    return A, as_symmetric("S", S, n), as_symmetric("T", T, n), as_symmetric("X", X, n)


def lemma20_sides(A, S, T, X, check: bool = True) -> tuple[float, float]:
    """``(tr(A S X), tr(A T X))`` -- claimed ``first <= second``.

    001_7d31b3ff3a2f0401.txt Appendix D, Lemma 20: if A, S, T commute, ``S <= T`` (Loewner) and
    A, X are PSD then ``tr(ASX) <= tr(ATX)``.  (The proof calls S and T PSD; only ``T - S`` PSD is
    used.  Commutation is essential: the tests show a violation without it.)

    Parameters
    ----------
    A : array_like, shape (n, n)
        Symmetric positive semidefinite.
    S : array_like, shape (n, n)
        Symmetric.
    T : array_like, shape (n, n)
        Symmetric, ``T - S`` positive semidefinite.
    X : array_like, shape (n, n)
        Symmetric positive semidefinite.
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypotheses (default True).

    Returns
    -------
    tuple of float
        ``(tr(A S X), tr(A T X))``.

    Examples
    --------
    With ``A = X = I`` the sides are ``(tr(S), tr(T))``:

    >>> import numpy as np
    >>> from theorytools.quadratic import lemmas
    >>> lemmas.lemma20_sides(np.eye(2), np.diag([1.0, 2.0]), np.diag([2.0, 3.0]), np.eye(2))
    (3.0, 5.0)
    """
    A, S, T, X = _lemma20_matrices(A, S, T, X)
    _raise_if(check, "Lemma 20", lemma20_hypotheses(A, S, T, X))
    return float(np.trace(A @ S @ X)), float(np.trace(A @ T @ X))


# ---------------------------------------------------------------------------------------------
# Lemma 21
# ---------------------------------------------------------------------------------------------
def _check_D(D, require_real: bool) -> np.ndarray:
    D = as_matrix("D", D)
    mu = np.linalg.eigvals(D)
    imag = np.abs(mu.imag) > REAL_EIG_RTOL * np.maximum(1.0, np.abs(mu))
    if as_bool("require_real", require_real) and imag.any():
        m = mu[np.argmax(imag)]
        raise HypothesisError(
            f"Lemma 21 needs D with real eigenvalues: D has eigenvalue {m.real:.6g}{m.imag:+.3g}j "
            "(pass require_real=False to sum the series for any spectral radius < 1)"
        )
    rad = np.abs(mu)
    if rad.max() >= 1.0:
        m = mu[np.argmax(rad)]
        raise HypothesisError(
            f"Lemma 21 needs the eigenvalues of D strictly inside (-1, 1): D has eigenvalue "
            f"{m.real:.17g}{'' if m.imag == 0 else f'{m.imag:+.3g}j'} (modulus {abs(m):.17g})"
        )
    return D


def lemma21_phi(D, X) -> np.ndarray:
    """``Phi(X) = X - D X D^T`` (001_7d31b3ff3a2f0401.txt Appendix D, Lemma 21; Corollary 12).

    Parameters
    ----------
    D : array_like, shape (n, n)
        The matrix of the map.
    X : array_like, shape (n, n)
        The argument.

    Returns
    -------
    ndarray, shape (n, n)
        ``X - D X D^T``.

    Examples
    --------
    ``D = I/2``, ``X = I``: ``I - I/4``:

    >>> import numpy as np
    >>> from theorytools.quadratic import lemmas
    >>> np.round(lemmas.lemma21_phi(0.5 * np.eye(2), np.eye(2)), 6).tolist()
    [[0.75, 0.0], [0.0, 0.75]]
    """
    D = as_matrix("D", D)
    X = as_matrix("X", X, D.shape[0])
    return X - D @ X @ D.T


def lemma21_inverse(D, X, terms: int | None = None, require_real: bool = True) -> np.ndarray:
    """``Phi^{-1}(X) = sum_{i>=0} D^i X (D^i)^T`` (001_7d31b3ff3a2f0401.txt Appendix D, Lemma 21).

    The independent route is :func:`lemma21_inverse_kron`.

    Parameters
    ----------
    D : array_like, shape (n, n)
        With real eigenvalues strictly inside (-1, 1) (else ``ValueError`` naming D).
    X : array_like, shape (n, n)
        The matrix.
    terms : int, optional
        Sum exactly the first ``terms`` terms ``i = 0 .. terms-1``.  By default the whole series,
        summed by doubling ``S_{2m} = S_m + D^m S_m (D^m)^T`` until ``|D^m|_2^2 < 1e-17`` (the
        neglected tail is then below ``|S_m| q/(1-q)``, ``q = |D^m|_2^2``), so a spectral radius of
        ``1 - 1e-8`` costs ~35 doublings instead of 1e9 terms.
    require_real : bool, optional
        Require real eigenvalues of D, as Lemma 21 does (default True); False sums the series for any
        spectral radius < 1.

    Returns
    -------
    ndarray, shape (n, n)
        ``Phi^{-1}(X)``.

    Examples
    --------
    ``D = I/2``: ``sum_i 4^-i = 4/3``, or ``1 + 1/4`` for two terms; and ``Phi(Phi^{-1}(X)) = X``:

    >>> import numpy as np
    >>> from theorytools.quadratic import lemmas
    >>> [np.round(np.diag(lemmas.lemma21_inverse(0.5 * np.eye(2), np.eye(2), terms=t)), 6).tolist() for t in (None, 2)]
    [[1.333333, 1.333333], [1.25, 1.25]]
    >>> D = np.array([[0.5, 0.2], [0.0, -0.3]])
    >>> bool(np.allclose(lemmas.lemma21_phi(D, lemmas.lemma21_inverse(D, np.eye(2))), np.eye(2)))
    True
    """
    D = _check_D(D, require_real)
    X = as_matrix("X", X, D.shape[0])
    if terms is not None:
        m = as_int("terms", terms)
        # binary decomposition: (S_p, D^p) for p = 2^j; accumulate the bits of m
        out = np.zeros_like(X)
        Dacc = np.eye(D.shape[0])  # D^(terms summed so far)
        Sp, Dp = X.copy(), D.copy()
        while m:
            if m & 1:
                out = out + Dacc @ Sp @ Dacc.T
                Dacc = Dacc @ Dp
            m >>= 1
            if m:
                Sp = Sp + Dp @ Sp @ Dp.T
                Dp = Dp @ Dp
        return out
    S, P = X.copy(), D.copy()
    for _ in range(200):
        q = np.linalg.norm(P, 2) ** 2
        if q < 1e-17:
            return S
        S = S + P @ S @ P.T
        P = P @ P
    raise ValueError(f"Lemma 21 series did not converge in 2^200 terms (|D^m|_2^2 = {q:.3e})")


def lemma21_inverse_kron(D, X, require_real: bool = True) -> np.ndarray:
    """``Phi^{-1}(X)`` by the dense Kronecker solve ``(I - D kron D) vec(Y) = vec(X)``.

    The slow route of 001_7d31b3ff3a2f0401.txt Appendix D, Lemma 21's proof (O(n^6)); for testing.

    Parameters
    ----------
    D : array_like, shape (n, n)
        With real eigenvalues strictly inside (-1, 1).
    X : array_like, shape (n, n)
        The matrix.
    require_real : bool, optional
        Require real eigenvalues of D (default True).

    Returns
    -------
    ndarray, shape (n, n)
        ``Phi^{-1}(X)``.

    Examples
    --------
    The same matrix as the series of :func:`lemma21_inverse`:

    >>> import numpy as np
    >>> from theorytools.quadratic import lemmas
    >>> D = np.array([[0.5, 0.2], [0.0, -0.3]])
    >>> bool(np.allclose(lemmas.lemma21_inverse_kron(D, np.eye(2)), lemmas.lemma21_inverse(D, np.eye(2))))
    True
    """
    D = _check_D(D, require_real)
    X = as_matrix("X", X, D.shape[0])
    n = D.shape[0]
    # I, D kron D, their difference and its LU factors
    check_allocation("the n^2 x n^2 matrix I - D kron D", (n * n, n * n), copies=4,
                     cheaper="lemma21_inverse (the doubling series, n x n products)")
    K = np.eye(n * n) - sandwich_kron(D)
    return unvec(np.linalg.solve(K, vec(X)), n)


# ---------------------------------------------------------------------------------------------
# Proposition 22
# ---------------------------------------------------------------------------------------------
_MP_DPS = 50


def harmonic_number(n, exact: bool = False):
    """``H_n = sum_{i=1}^n 1/i`` (001_7d31b3ff3a2f0401.txt Appendix D, Proposition 22).

    A ``Fraction`` when ``exact`` (n <= 1e5), else an mpmath value ``digamma(n+1) + gamma`` at 50 digits.

    Parameters
    ----------
    n : int
        The index, >= 0.
    exact : bool, optional
        Return an exact ``Fraction`` (default False).

    Returns
    -------
    fractions.Fraction or mpmath.mpf
        ``H_n``.

    Examples
    --------
    >>> from theorytools.quadratic import lemmas
    >>> print(lemmas.harmonic_number(4, exact=True), f"{float(lemmas.harmonic_number(4)):.6f}")  # 1 + 1/2 + 1/3 + 1/4
    25/12 2.083333
    """
    n = as_int("n", n)
    if as_bool("exact", exact):
        if n > 100_000:
            raise ValueError(f"exact harmonic numbers are limited to n <= 1e5, got {n}")
        return sum((Fraction(1, i) for i in range(1, n + 1)), Fraction(0))
    with mpmath.workdps(_MP_DPS):
        return mpmath.harmonic(n)


def proposition22_sides(n1, n2, check: bool = True) -> tuple[float, float]:
    """``(log(n1) - log(min{n2+1, n1}), H_{n1} - H_{n2})`` -- claimed ``first <= second``.

    001_7d31b3ff3a2f0401.txt Appendix D, Proposition 22 (via Young 1991), for integers
    ``n1 >= n2 >= 1``.  Both sides are formed at 50 digits (mpmath) and then rounded; rounding is
    monotone, so a true non-strict inequality survives it.  Equality iff ``n1 = n2`` (both 0).

    Parameters
    ----------
    n1 : int
        The larger index.
    n2 : int
        The smaller index, >= 1.
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypotheses (default True).

    Returns
    -------
    tuple of float
        ``(log(n1) - log(min{n2+1, n1}), H_{n1} - H_{n2})``.

    Examples
    --------
    ``n1 = 4``, ``n2 = 2``: ``(log(4/3), 1/3 + 1/4)``:

    >>> from theorytools.quadratic import lemmas
    >>> [round(x, 6) for x in lemmas.proposition22_sides(4, 2)]
    [0.287682, 0.583333]
    """
    n1, n2 = as_int("n1", n1), as_int("n2", n2)
    hyps = [Hypothesis("n2", "n2 >= 1", n2, 1, False, False),
            Hypothesis("order", "n1 >= n2", n1, n2, False, False)]
    _raise_if(check, "Proposition 22", hyps)
    with mpmath.workdps(_MP_DPS):
        diff = mpmath.harmonic(n1) - mpmath.harmonic(n2)
        lower = mpmath.log(n1) - mpmath.log(min(n2 + 1, n1))
        return float(lower), float(diff)


# ---------------------------------------------------------------------------------------------
# Proposition 23
# ---------------------------------------------------------------------------------------------
def proposition23_product_hypotheses(i, k, a, b) -> list[Hypothesis]:
    """Hypotheses of 001_7d31b3ff3a2f0401.txt Appendix D, Proposition 23, part 1.

    Integers ``0 <= i <= k-1``, real ``b >= 0``, ``b <= i + a + 1``.

    ``a`` is any real with ``i + a + 1 > 0`` (the paper uses a >= 1; integers are not needed,
    see the module docstring).

    Parameters
    ----------
    i : int
        First index of the product, ``0 <= i <= k - 1``.
    k : int
        One past the last index.
    a : float
        The offset (real, ``i + a + 1 > 0``).
    b : float
        The exponent, ``0 <= b <= i + a + 1``.

    Returns
    -------
    list of Hypothesis
        The five hypotheses.

    Examples
    --------
    >>> from theorytools.quadratic import lemmas
    >>> [(h.name, h.holds) for h in lemmas.proposition23_product_hypotheses(0, 2, 1.0, 1.0)]
    [('i', True), ('k', True), ('b>=0', True), ('b', True), ('a', True)]
    """
    i, k, a, b = _product_args(i, k, a, b)
    return [
        Hypothesis("i", "i >= 0", i, 0, False, False),
        Hypothesis("k", "i <= k - 1", i, k - 1, False, True),
        Hypothesis("b>=0", "b >= 0", b, 0.0, False, False),
        Hypothesis("b", "b <= i + a + 1", b, i + a + 1.0, False, True),
        Hypothesis("a", "i + a + 1 > 0", i + a + 1.0, 0.0, True, False),
    ]


def _product_args(i, k, a, b) -> tuple[int, int, float, float]:
    """``(i, k, a, b)`` of Proposition 23, part 1: integers ``i, k >= 0``, real ``a, b``, and no factor
    ``1 - b/(j+a+1)``, ``i <= j < k``, dividing by zero (``a`` a negative integer in that range)."""
    i, k, a, b = as_int("i", i), as_int("k", k), as_float("a", a), as_float("b", b)
    if a == np.round(a) and i <= -a - 1.0 < k:
        raise ValueError(f"a must not be a negative integer with i <= -a - 1 < k (the factor j = {int(-a - 1)} "
                         f"divides by j + a + 1 = 0), got a = {a:g}")
    return i, k, a, b


def _proposition23_log_product(i, k, a, b):
    """``ln prod_{j=i}^{k-1} (1 - b/(j+a+1))`` for ``0 <= b < c = i+a+1``, ``k > i`` (arrays broadcast).

    With ``m = k - i`` and ``L(x, s) = ln Gamma(x + s) - ln Gamma(x)`` (:func:`theorytools.linalg.log_gamma_ratio`,
    accurate relative to its value) the log is either ``L(c-b, m) - L(c, m)`` (a shift by m) or
    ``L(c-b, b) - L(c-b+m, b)`` (a shift by b).  Each difference cancels to its own size, ~``eps s ln(k+a)`` for the
    shift s, so the smaller shift is used: the shift by m alone lost 1e-5 of the product at k = 1e9, b = 1e-3 (found
    by the hunt's ``quadratic.proposition23_product``)."""
    m = np.asarray(k, dtype=float) - i
    c = i + a + 1.0
    z = c - b
    with np.errstate(invalid="ignore"):
        return np.where(b < m, log_gamma_ratio(z, b) - log_gamma_ratio(z + m, b),
                        log_gamma_ratio(z, m) - log_gamma_ratio(c, m))


def proposition23_product(i, k, a, b) -> float:
    """``prod_{j=i}^{k-1} (1 - b/(j+a+1))``, the left side of 001_7d31b3ff3a2f0401.txt Appendix D, Proposition 23, part 1.

    For ``0 <= b <= i+a+1`` all factors are in [0, 1] and the product is the Gamma ratio
    ``Gamma(k+a+1-b) Gamma(i+a+1) / (Gamma(i+a+1-b) Gamma(k+a+1))`` formed in log space by
    :func:`_proposition23_log_product`, so k = 1e12 is fine.  Otherwise the factors are multiplied directly
    (k - i <= 1e6).

    Parameters
    ----------
    i : int
        First index of the product, ``0 <= i <= k - 1``.
    k : int
        One past the last index.
    a : float
        The offset (real, ``i + a + 1 > 0``).
    b : float
        The exponent, ``0 <= b <= i + a + 1``.

    Returns
    -------
    float
        ``prod_{j=i}^{k-1} (1 - b/(j+a+1))`` (1 for ``k <= i``).

    Examples
    --------
    ``i = 0``, ``k = 2``, ``a = b = 1``: ``(1 - 1/2)(1 - 1/3) = 1/3``:

    >>> from theorytools.quadratic import lemmas
    >>> round(lemmas.proposition23_product(0, 2, 1.0, 1.0), 6)
    0.333333
    """
    i, k, a, b = _product_args(i, k, a, b)
    if k <= i:
        return 1.0
    z = i + a + 1.0 - b
    if 0.0 <= b and z > 0.0 and i + a + 1.0 > 0.0:
        return float(np.exp(_proposition23_log_product(i, k, a, b)))
    if z == 0.0:
        return 0.0
    if k - i > 1_000_000:
        raise ValueError(f"outside 0 <= b <= i+a+1 the product is formed term by term; k - i = {k - i} is too long")
    j = np.arange(i, k, dtype=float)
    return float(np.prod(1.0 - b / (j + a + 1.0)))


def proposition23_product_sides(i, k, a, b, check: bool = True) -> tuple[float, float]:
    """``(prod_{j=i}^{k-1} (1 - b/(j+a+1)), ((i+a+1)/(k+a))^b)`` -- claimed ``first <= second``.

    001_7d31b3ff3a2f0401.txt Appendix D, Proposition 23, first inequality (used for the mean in
    eqn. 37 and for D_k in Lemma 15).  Equality at ``b = 0``.  Holds for real (non-integer) ``a``
    too; see the module docstring.

    Parameters
    ----------
    i : int
        First index of the product, ``0 <= i <= k - 1``.
    k : int
        One past the last index.
    a : float
        The offset (real, ``i + a + 1 > 0``).
    b : float
        The exponent, ``0 <= b <= i + a + 1``.
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypotheses (default True).

    Returns
    -------
    tuple of float
        ``(prod_{j=i}^{k-1} (1 - b/(j+a+1)), ((i+a+1)/(k+a))^b)``.

    Examples
    --------
    ``i = 0``, ``k = 2``, ``a = b = 1``: ``(1/3, 2/3)``:

    >>> from theorytools.quadratic import lemmas
    >>> [round(x, 6) for x in lemmas.proposition23_product_sides(0, 2, 1.0, 1.0)]
    [0.333333, 0.666667]
    """
    i, k, a, b = _product_args(i, k, a, b)
    _raise_if(check, "Proposition 23 (product)", proposition23_product_hypotheses(i, k, a, b))
    with np.errstate(all="ignore"):  # outside the hypotheses (check=False) the power may be undefined
        rhs = (np.float64(i + a + 1.0) / (k + a)) ** b
    rhs = float(check_finite("Proposition 23 (product), right side ((i+a+1)/(k+a))^b", rhs))
    return proposition23_product(i, k, a, b), rhs


_SUM_CHUNK = 2_000_000
#: Largest k for :func:`proposition23_sum` (an O(k) sum of positive terms).
PROP23_SUM_KMAX = 10**8


def proposition23_sum(k, a, b) -> float:
    """``S_k(a, b) = sum_{i=0}^{k-1} 1/((i+a)(i+a+1)^2) prod_{j=i+1}^{k-1} (1 - b/(j+a+1))^2``.

    The left side of 001_7d31b3ff3a2f0401.txt Appendix D, Proposition 23, second inequality; by
    Lemma 15 ``tr(H F_k) <= tr(H Z) S_k(a, b)`` with ``b = lambda_n(B^-1 H)``.  Each term's product
    is a Gamma ratio in log space (accurate to ~1e-15 relative), terms are summed pairwise in
    chunks: O(k) time, k <= 1e8.  Needs ``a > 0``; for ``b > a + 2`` (factors may be negative)
    the products are cumulative products of the factors (k <= 1e6).

    Parameters
    ----------
    k : int
        Number of terms, ``0 <= k <= 1e8``.
    a : float
        The offset, > 0.
    b : float
        The rate (``b = lambda_n(B^-1 H)`` in Lemma 15).

    Returns
    -------
    float
        ``S_k(a, b)``.

    Examples
    --------
    ``k = 2``, ``a = b = 1``: ``1/4 (2/3)^2 + 1/18 = 1/6``, which is also ``H_k/(k+1)^2 = (3/2)/9``:

    >>> from theorytools.quadratic import lemmas
    >>> round(lemmas.proposition23_sum(2, 1.0, 1.0), 6)
    0.166667
    """
    k = as_int("k", k, high=PROP23_SUM_KMAX)
    a, b = as_float("a", a), as_float("b", b)
    if a <= 0:
        raise ValueError(f"a must be > 0 (the i = 0 term divides by a), got {a}")
    if k == 0:
        return 0.0
    if b < 0 or b > a + 2.0:
        if k > 1_000_000:
            raise ValueError(f"outside 0 <= b <= a+2 the products are formed term by term; k = {k} is too long")
        j = np.arange(1, k, dtype=float)
        r = 1.0 - b / (j + a + 1.0)  # r[j-1] is the factor of index j
        # P[i] = prod_{j=i+1}^{k-1} r_j for i = 0..k-1 (reverse cumulative product; P[k-1] = 1)
        P = np.concatenate([np.cumprod(r[::-1])[::-1], [1.0]])
        i = np.arange(k, dtype=float)
        return float(np.sum(P * P / ((i + a) * (i + a + 1.0) ** 2)))
    total = 0.0
    for c0 in range(0, k, _SUM_CHUNK):
        i = np.arange(c0, min(k, c0 + _SUM_CHUNK), dtype=float)
        m = (k - 1.0) - i  # number of factors, j = i+1 .. k-1
        z = i + a + 2.0 - b  # >= i >= 0
        pos = z > 0.0
        logP = np.zeros_like(i)
        logP[pos] = log_gamma_ratio(z[pos], m[pos]) - log_gamma_ratio(i[pos] + a + 2.0, m[pos])
        P2 = np.exp(2.0 * logP)
        P2 = np.where(pos | (m == 0.0), P2, 0.0)  # z = 0 (b = a + 2, i = 0): the factor j = 1 vanishes
        total += float(np.sum(P2 / ((i + a) * (i + a + 1.0) ** 2)))
    return total


def _intermediate_rhs(k: int, a: float, b: float) -> float:
    """``nu(a) (k+a)^{-2b} sum_{i=0}^{k-1} min{i+a+2, k+a}^{2b-3}`` (the proof's penultimate line)."""
    p = 2.0 * b - 3.0
    c = k + a
    # (k+a)^{-2b} min^p = (k+a)^{-3} (min/(k+a))^p: every ratio is <= 1, so nothing overflows.
    # min{i+a+2, k+a} = i+a+2 for i <= k-2 and k+a at i = k-1.
    if k <= 200_000:
        i = np.arange(0, k - 1, dtype=float)
        s = float(np.sum(((i + a + 2.0) / c) ** p)) + 1.0
        return float(nu(a)) * s / c**3
    with mpmath.workdps(30):  # Hurwitz zeta: sum_{m=0}^{N-1} (m+q)^p = zeta(-p, q) - zeta(-p, q+N)
        if p == -1.0:
            s = mpmath.digamma(a + k + 1.0) - mpmath.digamma(a + 2.0)
        else:
            s = mpmath.zeta(-p, a + 2.0) - mpmath.zeta(-p, a + k + 1.0)
        s = s / mpmath.mpf(c) ** p + 1
        return float(nu(a) * s / mpmath.mpf(c) ** 3)


PROP23_VERSIONS = ("printed", "corrected", "intermediate")


def proposition23_sum_hypotheses(k, a, b, version: str = "printed") -> list[Hypothesis]:
    """Hypotheses of 001_7d31b3ff3a2f0401.txt Appendix D, Proposition 23, part 2.

    * ``"printed"``: ``0 <= b <= a + 2`` (as stated; FALSE for small b, see the module docstring);
    * ``"corrected"``: ``3/2 <= b <= a + 2`` (what the proof needs);
    * ``"intermediate"``: ``0 <= b <= a + 2`` with the proof's penultimate line as right side.

    All need ``a > 0`` and an integer ``k >= 1``.

    Parameters
    ----------
    k : int
        Number of terms, >= 1.
    a : float
        The offset, > 0.
    b : float
        The rate.
    version : str, optional
        ``"printed"`` (default), ``"corrected"`` or ``"intermediate"``.

    Returns
    -------
    list of Hypothesis
        The hypotheses of the chosen version.

    Examples
    --------
    ``b = 1`` is inside the printed hypotheses but not the corrected ones:

    >>> from theorytools.quadratic import lemmas
    >>> [(h.name, h.holds) for h in lemmas.proposition23_sum_hypotheses(10, 1.0, 1.0, "corrected")]
    [('k', True), ('a', True), ('b>=0', True), ('b', True), ('b>=3/2', False)]
    """
    version = as_choice("version", version, PROP23_VERSIONS)
    k, a, b = as_int("k", k, low=None), as_float("a", a), as_float("b", b)
    hyps = [
        Hypothesis("k", "k >= 1", k, 1, False, False),
        Hypothesis("a", "a > 0", a, 0.0, True, False),
        Hypothesis("b>=0", "b >= 0", b, 0.0, False, False),
        Hypothesis("b", "b <= a + 2", b, a + 2.0, False, True),
    ]
    if version == "corrected":
        hyps.append(Hypothesis("b>=3/2", "b >= 3/2 (needed for min{i+a+2,k+a}^(2b-3) <= (k+a)^(2b-3))",
                               b, 1.5, False, False))
    return hyps


def proposition23_sum_sides(k, a, b, version: str = "printed", check: bool = True) -> tuple[float, float]:
    """``(S_k(a, b), right side)`` -- claimed ``first <= second``.

    001_7d31b3ff3a2f0401.txt Appendix D, Proposition 23, second inequality::

        sum_{i<k} 1/((i+a)(i+a+1)^2) prod_{j=i+1}^{k-1} (1 - b/(j+a+1))^2  <=  nu(a) k / (k+a)^3

    ``version="printed"`` checks the printed hypothesis ``b <= a+2`` only -- the inequality then
    FAILS for small b (e.g. ``a = b = 1``, k >= 473); ``"corrected"`` adds ``b >= 3/2``, under which
    it holds; ``"intermediate"`` returns the proof's penultimate line
    ``nu(a) (k+a)^{-2b} sum_{i<k} min{i+a+2, k+a}^{2b-3}`` as right side, valid for ``0 <= b <= a+2``.

    Parameters
    ----------
    k : int
        Number of terms, >= 1.
    a : float
        The offset, > 0.
    b : float
        The rate.
    version : str, optional
        ``"printed"`` (default), ``"corrected"`` or ``"intermediate"``.
    check : bool, optional
        Raise :class:`~theorytools.errors.HypothesisError` outside the hypotheses (default True).

    Returns
    -------
    tuple of float
        ``(S_k(a, b), right side)``.

    Examples
    --------
    ``k = 2``, ``a = b = 1``: ``(1/6, nu(1) 2/27 = 1/2)``:

    >>> from theorytools.quadratic import lemmas
    >>> [round(x, 6) for x in lemmas.proposition23_sum_sides(2, 1.0, 1.0)]
    [0.166667, 0.5]
    """
    k, a, b = as_int("k", k, low=None), as_float("a", a), as_float("b", b)
    _raise_if(check, f"Proposition 23 (sum, {version})", proposition23_sum_hypotheses(k, a, b, version))
    lhs = proposition23_sum(k, a, b)
    if version == "intermediate":
        return lhs, _intermediate_rhs(k, a, b)
    return lhs, float(nu(a) * k / (k + a) ** 3)


#: Largest k for :func:`proposition23_sum_exact` (exact rationals: ~20 s there for general a, b).
PROP23_SUM_EXACT_KMAX = 20_000


def proposition23_sum_exact(k: int, a, b) -> Fraction:
    """``S_k(a, b)`` of 001_7d31b3ff3a2f0401.txt Appendix D, Proposition 23 (part 2, left side), exactly.

    In exact rational arithmetic for rational ``a, b`` (``Fraction`` or int), by the
    recursion ``S_{m+1} = (1 - b/(m+a+1))^2 S_m + 1/((m+a)(m+a+1)^2)``, ``S_0 = 0``.

    The independent route for the tests and the counterexample: the rationals grow with k (0.7 s at k = 4000 for
    a = 7/3, b = 5/7, quadratic in k), so k is limited to ``PROP23_SUM_EXACT_KMAX``.  Needs ``a > 0``.

    Parameters
    ----------
    k : int
        Number of terms, ``0 <= k <= PROP23_SUM_EXACT_KMAX``.
    a : int or fractions.Fraction
        The offset, > 0.
    b : int or fractions.Fraction
        The rate.

    Returns
    -------
    fractions.Fraction
        ``S_k(a, b)``.

    Examples
    --------
    >>> from theorytools.quadratic import lemmas
    >>> lemmas.proposition23_sum_exact(2, 1, 1)
    Fraction(1, 6)
    """
    k = as_int("k", k, high=PROP23_SUM_EXACT_KMAX)
    if not as_float("a", a) > 0:
        raise ValueError(f"a must be > 0 (the m = 0 term divides by a), got {a!r}")
    as_float("b", b)
    a, b = Fraction(a), Fraction(b)
    S = Fraction(0)
    for m in range(k):
        r = 1 - b / (m + a + 1)
        S = r * r * S + 1 / ((m + a) * (m + a + 1) ** 2)
    return S


def proposition23_counterexample(k: int = 3000) -> tuple[Fraction, Fraction]:
    """Exact ``(LHS, RHS)`` of Proposition 23 (part 2) at ``a = b = 1``: ``(H_k/(k+1)^2, 27 k/(4 (k+1)^3))``.

    With ``a = b = 1`` the product telescopes, ``prod_{j=i+1}^{k-1} (j+1)/(j+2) = (i+2)/(k+1)``, so
    ``LHS = sum_{i<k} 1/((i+1)(k+1)^2) = H_k/(k+1)^2``; the printed bound ``nu(1) = 27/4`` fails
    as soon as ``(k+1) H_k > 6.75 k`` (k >= 473).  001_7d31b3ff3a2f0401.txt Appendix D, Prop. 23.

    Parameters
    ----------
    k : int, optional
        The iteration count, <= 1e5 (default 3000).

    Returns
    -------
    tuple of fractions.Fraction
        ``(LHS, RHS)``.

    Examples
    --------
    The printed bound holds at ``k = 472`` and fails from ``k = 473`` on:

    >>> from theorytools.quadratic import lemmas
    >>> [bool(lhs > rhs) for lhs, rhs in map(lemmas.proposition23_counterexample, (472, 473))]
    [False, True]
    """
    k = as_int("k", k, high=100_000)  # the exact harmonic number's limit
    return harmonic_number(k, exact=True) / Fraction(k + 1) ** 2, Fraction(27 * k, 4 * (k + 1) ** 3)


__all__ = [
    "lemma17_trace",
    "lemma18_bounds",
    "corollary19_bounds",
    "lemma20_hypotheses",
    "lemma20_sides",
    "lemma21_phi",
    "lemma21_inverse",
    "lemma21_inverse_kron",
    "harmonic_number",
    "proposition22_sides",
    "proposition23_product",
    "proposition23_product_hypotheses",
    "proposition23_product_sides",
    "proposition23_sum",
    "proposition23_sum_exact",
    "proposition23_sum_hypotheses",
    "proposition23_sum_sides",
    "proposition23_counterexample",
]
