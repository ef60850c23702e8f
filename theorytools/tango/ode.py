"""The natural-gradient ODE and its Euler scheme (000_3b01ec78f4f92394.txt eqs 12, 15, 32).

``dtheta/dt = -A(theta)^-1 F(theta)``; the natural gradient flow is ``A = J`` (the Fisher, eq. 10) and
``F = E g`` (the expected gradient).  The reference trajectory is scipy's DOP853 (the stepper of ``solve_ivp``)
at ``rtol = atol = 1e-12``, handing a long horizon past convergence to BDF (:data:`EXPLICIT_STEPS`).

Both are invariant under a rescaling of the parameters, as the natural gradient is (the text after Definition 1:
"its invariance to any change of variable in the parameter"): with ``theta' = S theta`` (S diagonal), ``F' = S^-1 F``
and ``A' = S^-1 A S^-1``, and

* the solve of ``A u = F`` (:func:`natural_direction`) decides the rank of A and solves on its Jacobi-equilibrated
  form, which is the same matrix in every such rescaling (a cut "eigenvalues below 1e-12 x the largest" on A itself
  froze mu at ln sigma = 15, where ``J = diag(e^-30, 2)``);
* the absolute tolerance of the integrator is per coordinate, in the units of that coordinate: ``atol`` times
  ``max(|theta_0i|, min(|v_0i|, A_ii(theta_0)^-1/2))`` with ``v_0`` the initial velocity (the distance moved in one
  unit of the flow's time, capped by ``A_ii^-1/2``, the distance that moves the model by O(1) in Fisher distance),
  so the integrator's error norm, and with it every step it takes, is the same in every rescaling.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import BDF, DOP853

from theorytools.errors import NonFiniteError
from theorytools.linalg import (
    as_array,
    as_callable,
    as_float,
    as_instance,
    as_int,
    as_symmetric,
    check_allocation,
    check_definite,
    positive,
)
from theorytools.linalg.psd import psd_eigh
from theorytools.tango.models import Model

#: scipy's floor on rtol (solve_ivp raises smaller values to it with a warning).
RTOL_FLOOR = 100 * np.finfo(float).eps

#: ``E g`` may lean on the numerical null space of A (Jacobi-equilibrated units) by this fraction of its norm, or by the
#: rounding of the null vectors, ``1e3 eps lambda_max / lambda_kept_min``, whichever is larger; more means that the
#: natural gradient is unbounded (a model so confident that its Fisher underflowed while its gradient did not).
NULL_RTOL = 1e-8


def _times(t) -> np.ndarray:
    t = np.atleast_1d(as_array("t", t))
    if t.ndim != 1:
        raise ValueError(f"t must be a 1-D array of times, got shape {t.shape}")
    if t[0] < 0:
        raise ValueError(f"t must be >= 0 (the flow starts at t = 0), got t[0] = {t[0]:g}")
    back = np.flatnonzero(np.diff(t) < 0)
    if back.size:
        i = int(back[0]) + 1
        raise ValueError(f"t must be non-decreasing, got t[{i}] = {t[i]:g} < t[{i - 1}] = {t[i - 1]:g}")
    return t


def natural_direction(A, F) -> np.ndarray:
    """The natural-gradient direction ``u`` with ``A u = F`` (eq. 12 with ``A = J``, ``F = E g``).

    000_3b01ec78f4f92394.txt eq. 12.  For a symmetric positive semidefinite ``A`` (d, d) and ``F`` (d,): ``A^-1 F``
    when A is nonsingular.

    The rank is decided, and the system solved, on the Jacobi-equilibrated ``D A D`` (``D = diag(A)^-1/2``, as in
    :func:`theorytools.linalg.psd_solve`), which is the same matrix in every rescaling of the parameters: with
    ``A' = S^-1 A S^-1``, ``F' = S^-1 F`` the direction is exactly ``S`` times this one.  When A is singular by
    construction (softmax in W: J has rank (K-1) p, its null space ``1 (x) c`` changes no probability) the solution
    has the least norm ``|u|_diag(A)``, the one choice that is invariant under rescalings (the Euclidean least norm
    of ``A^+ F`` is not: in badly scaled coordinates its projection mixes rounding errors of the large coordinates
    into the small ones); the two differ only along the null space, which the data do not identify.  A
    NonFiniteError when F leans on the null space of A: the natural gradient is then unbounded, and dropping that
    component would be a silent wrong answer.

    Parameters
    ----------
    A : array_like, shape (d, d)
        Symmetric positive semidefinite (the Fisher J).
    F : array_like, shape (d,)
        The right-hand side (the expected gradient).

    Returns
    -------
    ndarray, shape (d,)
        ``u`` with ``A u = F`` (least ``diag(A)``-norm when A is singular).

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import natural_direction
    >>> natural_direction(np.diag([4e-30, 2.0]), np.array([4e-30, 2.0])).tolist()   # the Gaussian's J at ln sigma = 15
    [1.0, 1.0]
    """
    A = as_symmetric("A", A)
    F = as_array("F", F, shape=(A.shape[0],))
    check_definite("A", A, semi=True)
    return _natural_direction(A, F, "natural_direction")


def _all_finite(a) -> bool:
    """``np.isfinite(a).all()``; for a few entries (the per-step solves of small models) Python's isfinite is faster."""
    return all(map(math.isfinite, a.ravel().tolist())) if a.size <= 16 else bool(np.isfinite(a).all())


def _natural_direction(A, F, where: str) -> np.ndarray:
    """:func:`natural_direction` on arrays the caller has validated; errors name ``where``."""
    if not (_all_finite(A) and _all_finite(F)):
        raise NonFiniteError(f"{where}: the {'gradient F' if np.isfinite(A).all() else 'preconditioner A'} is not "
                             "finite (NaN or inf)")
    d = F.size
    if d == 1 or not A.reshape(-1)[1:].reshape(d - 1, d + 1)[:, :-1].any():
        # diagonal (the Gaussian model's Fisher): D A D = I, every eigenvalue is kept, u = F / diag(A)
        diag = np.diag(A)
        if (diag > 0).all():  # the usual case, in fewer operations (the same quotients)
            return F / diag
        if np.any(F[diag <= 0] != 0.0):
            raise NonFiniteError(f"{where}: the natural gradient is unbounded: A has a zero diagonal entry where F is "
                                 "not zero")
        return np.divide(F, diag, out=np.zeros_like(F), where=diag > 0)
    w, V, scale, live, keep = psd_eigh(A)
    b = scale * F[live]  # F in the equilibrated units D F
    if live.size < F.size or not keep.all():
        dead = np.ones(F.size, bool)
        dead[live] = False
        lean = float(np.linalg.norm(V[:, ~keep].T @ b))
        rounding = 1e3 * np.finfo(float).eps * float(w[-1]) / float(w[keep].min()) if keep.any() else 0.0
        if np.any(F[dead] != 0.0) or lean > max(NULL_RTOL, rounding) * float(np.linalg.norm(b)):
            raise NonFiniteError(f"{where}: the natural gradient is unbounded: A is singular along a direction where "
                                 "F is not zero (for a model's Fisher: the parameter is so far from the data that the "
                                 "Fisher underflowed while the gradient did not)")
    Vk = V[:, keep]
    u = np.zeros_like(F)
    u[live] = scale * (Vk @ ((Vk.T @ b) / w[keep]))  # D (D A D)^+ D F; coordinates with A_ii = 0 do not move
    return u


def _callables(F, A, theta0):
    """Validate user-given ``F`` and ``A`` on ``theta0``: F returns (d,), A (d, d), both finite."""
    d = theta0.size
    out = []
    for name, f, shape in (("F", F, (d,)), ("A", A, (d, d))):
        try:
            value = f(theta0.copy())
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{name}(theta0) failed for theta0 of shape {theta0.shape}: {exc}") from exc
        out.append(as_array(f"{name}(theta0)", value, shape=shape))
    return out


def _units(A0, v0, theta0) -> np.ndarray:
    """Per-coordinate units of theta that follow its rescalings: ``max(|theta_0i|, min(|v_0i|, A_ii(theta_0)^-1/2))``
    (the start; the distance moved in one unit of the flow's time, capped by the distance that changes the model by
    O(1))."""
    diag = np.diag(A0)
    fisher_unit = np.full(diag.shape, np.inf)
    fisher_unit[diag > 0] = 1.0 / np.sqrt(diag[diag > 0])
    units = np.maximum(np.abs(theta0), np.minimum(np.abs(v0), fisher_unit))
    # a coordinate at rest at 0: its Fisher unit; with no Fisher information either, it has no gradient and
    # natural_direction leaves it at 0, so any unit will do
    units = np.where(units > 0, units, fisher_unit)
    return np.where(np.isfinite(units), units, np.finfo(float).tiny)


#: Steps of the explicit integrator (DOP853) before the rest of the horizon goes to the stiff one (BDF).  Past
#: convergence the flow is stiff for an explicit method: its step stays near 3 / (rate of convergence), so t = 1e10
#: took ~1e9 steps (a hang); an implicit method's step grows with t.  The hardest start of the Gaussian model in
#: (mu, ln sigma) in [-1e6, 1e6] x [-30, 30] (sigma_0 = e^-30, |mu_0 - m| = 1e6) takes ~500 steps.
EXPLICIT_STEPS = 1500

#: Steps in all before the integration is given up with an error instead of creeping on.  A flow that needs this many
#: is one whose Fisher is numerically singular along the way though not by construction (a logistic model at
#: |theta^T x| ~ 250: its natural gradient is ~e^250, and each trial step that leaves float64's range is rejected).
MAX_STEPS = 5000


def _integrate(rhs, theta0, t, rtol, atol):
    """``theta(t)`` at the non-decreasing times ``t`` (t[0] >= 0): DOP853 (``solve_ivp``'s stepper, with its dense
    output at the requested times), then BDF past :data:`EXPLICIT_STEPS` steps, giving up after :data:`MAX_STEPS`.
    Returns ``(out, message, reached)``: the solution, and on failure the reason and the last time reached."""
    out = np.empty((t.size, theta0.size))
    i = int(np.searchsorted(t, 0.0, side="right"))
    out[:i] = theta0
    solver = DOP853(rhs, 0.0, theta0, float(t[-1]), rtol=rtol, atol=atol)
    steps = 0
    while i < t.size:
        message = solver.step()
        if solver.status == "failed" or not np.all(np.isfinite(solver.y)):
            return out, message or "the solution is not finite", float(solver.t)
        dense = solver.dense_output()
        j = int(np.searchsorted(t, solver.t, side="right"))
        out[i:j] = dense(t[i:j]).T if j > i else out[i:j]
        i, steps = j, steps + 1
        if steps == MAX_STEPS and i < t.size:
            return out, f"{MAX_STEPS} steps did not reach the last time", float(solver.t)
        if steps == EXPLICIT_STEPS and i < t.size:
            solver = BDF(rhs, solver.t, solver.y, float(t[-1]), rtol=rtol, atol=atol)
    return out, None, float(t[-1])


def _flow(where, F, A, theta0, t, rtol, atol) -> np.ndarray:
    d = theta0.size
    check_allocation("the solution at the times t (len(t) x d)", (t.size, d), copies=2, cheaper="fewer times t")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a non-finite start is reported just below
        a0, f0 = np.asarray(A(theta0.copy()), dtype=float), np.asarray(F(theta0.copy()), dtype=float)
    v0 = _natural_direction(a0, f0, f"{where} at t = 0")  # a clear error up front
    trouble = []

    def rhs(s, th):
        # A trial step may leave the region where the model is representable; a NaN derivative makes the integrator
        # reject the step and retry a shorter one.  The reason is kept for the message if it never recovers.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            try:
                return -_natural_direction(A(th), F(th), f"at t = {s:.6g}")
            except NonFiniteError as exc:
                trouble[:] = [str(exc)]
                return np.full(d, np.nan)

    out, message, reached = _integrate(rhs, theta0, t, rtol, atol * _units(a0, v0, theta0))
    if message is not None:
        why = f"; last problem: {trouble[0]}" if trouble else ""
        raise NonFiniteError(f"{where}: the ODE solver stopped before t = {t[-1]:g} (last time reached {reached:.6g}): "
                             f"{message}{why}")
    return out


def _tolerances(rtol, atol):
    return (as_float("rtol", rtol, low=RTOL_FLOOR, high=1.0, high_open=True), positive("atol", atol))


def preconditioned_flow(F, A, theta0, t, rtol: float = 1e-12, atol: float = 1e-12) -> np.ndarray:
    """``theta(t)`` of ``dtheta/dt = -A(theta)^+ F(theta)``, ``theta(0) = theta0`` (eqs 15, 32), shape (len(t), d).

    000_3b01ec78f4f92394.txt eq. 15 (Proposition 4) and eq. 32 (Theorem 5).

    ``F(theta) -> (d,)``, ``A(theta) -> (d, d)`` symmetric positive semidefinite; ``t`` non-decreasing times >= 0;
    ``atol`` in the units of each coordinate (see the module docstring), ``rtol >= 100 eps``.

    Parameters
    ----------
    F : callable
        ``F(theta) -> (d,)``.
    A : callable
        ``A(theta) -> (d, d)``, symmetric positive semidefinite.
    theta0 : array_like, shape (d,)
        The start.
    t : array_like
        Non-decreasing times >= 0.
    rtol : float, default 1e-12
        Relative tolerance of the integrator (>= 100 eps).
    atol : float, default 1e-12
        Absolute tolerance, in the units of each coordinate.

    Returns
    -------
    ndarray, shape (len(t), d)
        ``theta`` at the times ``t``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import preconditioned_flow
    >>> path = preconditioned_flow(lambda th: th, lambda th: np.eye(1), [1.0], [0.0, 1.0])   # theta(t) = e^-t
    >>> np.round(path.ravel(), 6).tolist()
    [1.0, 0.367879]
    """
    F, A = as_callable("F", F), as_callable("A", A)
    theta0 = as_array("theta0", theta0, ndim=1)
    t = _times(t)
    rtol, atol = _tolerances(rtol, atol)
    _callables(F, A, theta0)
    return _flow("preconditioned_flow", F, A, theta0, t, rtol, atol)


def natural_gradient_flow(model, theta0, t, x=None, y=None, rtol: float = 1e-12, atol: float = 1e-12) -> np.ndarray:
    """Eq. 12: ``dtheta/dt = -J(theta)^-1 E_{(x,y) in D} dl/dtheta`` at the times ``t``, shape (len(t), d).

    000_3b01ec78f4f92394.txt eq. 12 (the limit of TANGO, Theorem 3).

    ``x, y``: the dataset of a supervised model (None for the Gaussian model, whose data law is known).  J singular
    (the softmax model): the minimum-norm velocity ``J^+ E g``; only W minus its mean row is identified by the data.

    Parameters
    ----------
    model : Model
        The model.
    theta0 : array_like, shape (d,)
        The start.
    t : array_like
        Non-decreasing times >= 0.
    x : None or array_like, shape (N, p)
        The dataset's inputs (supervised models).
    y : None or array_like, shape (N,)
        The dataset's outcomes.
    rtol : float, default 1e-12
        Relative tolerance of the integrator.
    atol : float, default 1e-12
        Absolute tolerance, in the units of each coordinate.

    Returns
    -------
    ndarray, shape (len(t), d)
        ``theta`` at the times ``t``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import GaussianModel, natural_gradient_flow
    >>> m = GaussianModel(10.0, 1.0)
    >>> path = natural_gradient_flow(m, [0.0, 0.0], [0.0, 1.0])                     # mu(t) = 10 (1 - e^-t)
    >>> round(float(path[1, 0]), 6), bool(np.allclose(path, m.natural_gradient_flow_closed_form([0.0, 0.0], [0.0, 1.0])))
    (6.321206, True)
    """
    model = as_instance("model", model, Model, "a model of theorytools.tango (GaussianModel, LinearRegressionModel, ...)")
    X, Y = model._dataset(x, y)
    theta0 = model._params(theta0, X, "theta0", ndim=1)
    t = _times(t)
    rtol, atol = _tolerances(rtol, atol)
    d = theta0.size
    check_allocation(f"the Fisher matrix J ({d} x {d})", (d, d), copies=3, cheaper="TANGO (simulate_tango), which "
                     "never forms J")
    return _flow("natural_gradient_flow", lambda th: model._expected_gradient(th, X, Y), lambda th: model._fisher(th, X),
                 theta0, t, rtol, atol)


def euler_scheme(F, A, theta0, dt: float, steps: int) -> np.ndarray:
    """The explicit Euler scheme ``theta_{k+1} = theta_k - dt A(theta_k)^+ F(theta_k)``, k = 0..steps (eqs 18, 20).

    000_3b01ec78f4f92394.txt Proposition 4's proof, eqs 18 and 20 (the Euler scheme of eq. 15).

    Parameters
    ----------
    F : callable
        ``F(theta) -> (d,)``.
    A : callable
        ``A(theta) -> (d, d)``, symmetric positive semidefinite.
    theta0 : array_like, shape (d,)
        The start.
    dt : float
        The step, > 0.
    steps : int
        Number of steps.

    Returns
    -------
    ndarray, shape (steps+1, d)
        ``theta_0..theta_steps``.

    Examples
    --------
    >>> import numpy as np
    >>> from theorytools.tango import euler_scheme
    >>> euler_scheme(lambda th: th, lambda th: 2.0 * np.eye(1), [1.0], 0.5, 2).ravel().tolist()   # theta x (1 - 0.5/2)
    [1.0, 0.75, 0.5625]
    """
    F, A = as_callable("F", F), as_callable("A", A)
    theta = as_array("theta0", theta0, ndim=1).copy()
    dt = positive("dt", dt)
    steps = as_int("steps", steps)
    _callables(F, A, theta)
    check_allocation(f"the iterates for steps = {steps} (steps + 1 x d)", (steps + 1, theta.size), cheaper="fewer steps")
    out = np.empty((steps + 1, theta.size))
    out[0] = theta
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            theta = theta - dt * _natural_direction(np.asarray(A(theta), dtype=float), np.asarray(F(theta), dtype=float),
                                                    f"euler_scheme at step k = {k}")
            if not _all_finite(theta):
                raise NonFiniteError(f"euler_scheme: theta is not finite at step k = {k}: dt is too large for this flow")
            out[k] = theta
    return out
