"""Catalogue entries of ``theorytools.tango`` (see :mod:`catalogue`).

The model methods are defined once, on :class:`theorytools.tango.Model` (each model supplies only its formulas), so
each has one entry; the entries use different models so that the labels of the classifiers, the missing input of
the Gaussian model and the features of the regressions are all probed.  ``tests/test_tango.py`` repeats the model
probes for every model.
"""

from __future__ import annotations

import numpy as np

from catalogue import Entry, Exempt
from catalogue.kinds import (
    ARRAY,
    CALLABLE,
    CHOICE,
    CLASS_LABELS,
    COUNT,
    FEWER_ROWS,
    FLAG,
    LABELS,
    MATRIX,
    OBJECT,
    POSITIVE,
    REAL,
    SAMPLES,
    SEED,
    SIZE,
    STEP_FRACTION,
    UNIT,
    VECTOR,
    VECTOR_1D,
    _with,
)

from theorytools import tango as T
from theorytools.tango import instances as TI

M = "theorytools.tango.models."
A = "theorytools.tango.algorithms."
O = "theorytools.tango.ode."
P = "theorytools.tango.preconditioners."
S = "theorytools.tango.simulation."

#: the outcomes of a regression dataset, one per row of x
TARGETS = VECTOR_1D + (FEWER_ROWS,)
#: a dt schedule delta t_0..delta t_K: entries in [0, 1]
SCHEDULE = VECTOR_1D + (("negative_entry", lambda v, d: _with(v, d, -0.5)), ("above_one_entry", lambda v, d: _with(v, d, 1.5)))
#: steps = 0 is a valid count (theta_0 alone)
ZERO_STEPS = dict(steps=("zero",))
WHY_ZERO_STEPS = "steps = 0 returns theta_0 alone"


def _lin(N=12):
    return TI.linear_regression(2, N, 0.5, seed=1)


def _logit(N=12):
    return TI.logistic_regression(2, N, seed=1)


def _soft(N=12):
    return TI.softmax_regression(3, 2, N, seed=1)


def _listed(inst, K=6):
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(inst.y), K)
    return inst.x[idx], inst.y[idx], inst.y[idx[::-1]]


def _gauss_draw(rng, runs):
    return None, 10.0 + rng.standard_normal((runs, 1))


def _quiet(f):
    """The valid calls are tiny instances, some beyond TANGO's stability rule of thumb: only the errors matter here."""
    import functools
    import warnings

    @functools.wraps(f)
    def call(*a, **k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", T.StabilityWarning)
            return f(*a, **k)

    return call


def _result():
    return T.simulate_tango(T.GaussianModel(), [0.0, 0.0], 0.01, 0.01, 4, runs=16, seed=0, k=[0, 4], progress=False)


ENTRIES = [
    # -- models ------------------------------------------------------------------------------------------------
    Entry(M + "GaussianModel", lambda: (T.GaussianModel, dict(data_mean=10.0, data_std=1.0)),
          {"data_mean": REAL, "data_std": POSITIVE}),
    Entry(M + "GaussianModel.natural_gradient_flow_closed_form",
          lambda: (T.GaussianModel(10.0, 1.0).natural_gradient_flow_closed_form, dict(theta0=np.array([0.0, 0.0]),
                                                                                       t=np.array([0.0, 0.5, 2.0]))),
          {"theta0": VECTOR_1D, "t": ARRAY + (("negative_entry", lambda v, d: _with(v, d, -1.0)),)}),
    Entry(M + "GaussianModel.sample_data",
          lambda: (T.GaussianModel(10.0, 1.0).sample_data, dict(rng=np.random.default_rng(0), shape=5)),
          {"rng": OBJECT, "shape": SIZE}, accepts={"shape": ("zero",)}, why="shape = 0 is an empty sample"),
    Entry(M + "LinearRegressionModel", lambda: (T.LinearRegressionModel, dict(s2=0.5)), {"s2": POSITIVE}),
    Entry(M + "LinearRegressionModel.fitted",
          lambda: (T.LinearRegressionModel.fitted, dict(theta=np.array([0.3, -0.2]), x=_lin().x, y=_lin().y)),
          {"theta": VECTOR_1D, "x": SAMPLES, "y": TARGETS}),
    Entry(M + "SoftmaxModel", lambda: (T.SoftmaxModel, dict(num_classes=3)), {"num_classes": COUNT}),
    Entry(M + "Model.loss", lambda: (T.LogisticModel().loss, dict(theta=np.array([0.5, -0.3]), y=np.array([0.0, 1.0, 1.0]),
                                                                   x=_logit().x[:3])),
          {"theta": VECTOR, "y": CLASS_LABELS, "x": VECTOR}),
    Entry(M + "Model.grad", lambda: (T.SoftmaxModel(3).grad, dict(theta=np.linspace(-1.0, 1.0, 6), y=np.array([0.0, 2.0, 1.0]),
                                                                   x=_soft().x[:3])),
          {"theta": VECTOR, "y": CLASS_LABELS, "x": VECTOR}),
    Entry(M + "Model.hessian", lambda: (T.LinearRegressionModel(0.5).hessian, dict(theta=np.array([0.5, -0.3]),
                                                                                  y=np.array([0.2, -1.0]), x=_lin().x[:2])),
          {"theta": VECTOR, "y": ARRAY, "x": VECTOR}),
    Entry(M + "Model.sample", lambda: (T.LogisticModel().sample, dict(theta=np.array([0.5, -0.3]), x=_logit().x[:4],
                                                                      rng=np.random.default_rng(0))),
          {"theta": VECTOR, "x": VECTOR, "rng": OBJECT}),
    Entry(M + "Model.sampled_gradients",
          lambda: (T.GaussianModel(10.0, 1.0).sampled_gradients, dict(rng=np.random.default_rng(0), theta=np.zeros((4, 2)),
                                                                     draw=_gauss_draw, outer_product=False)),
          {"rng": OBJECT, "theta": MATRIX, "draw": CALLABLE, "outer_product": FLAG}),
    Entry(M + "Model.fisher", lambda: (T.SoftmaxModel(3).fisher, dict(theta=np.linspace(-1.0, 1.0, 6), x=_soft().x)),
          {"theta": VECTOR_1D, "x": MATRIX}),
    Entry(M + "Model.fisher_diagonal", lambda: (T.LogisticModel().fisher_diagonal, dict(theta=np.zeros((3, 2)), x=_logit().x)),
          {"theta": VECTOR, "x": MATRIX}),
    Entry(M + "Model.expected_gradient",
          lambda: (T.LinearRegressionModel(0.5).expected_gradient, dict(theta=np.array([0.1, 0.2]), x=_lin().x, y=_lin().y)),
          {"theta": VECTOR, "x": SAMPLES, "y": TARGETS}),
    # -- the ODE -----------------------------------------------------------------------------------------------
    Entry(O + "natural_gradient_flow",
          lambda: (T.natural_gradient_flow, dict(model=_lin().model, theta0=np.array([0.0, 0.0]), t=np.array([0.0, 0.5, 1.0]),
                                                 x=_lin().x, y=_lin().y, rtol=1e-10, atol=1e-10)),
          {"model": OBJECT, "theta0": VECTOR_1D, "t": ARRAY, "x": SAMPLES, "y": TARGETS, "rtol": UNIT, "atol": POSITIVE}),
    Entry(O + "preconditioned_flow",
          lambda: (T.preconditioned_flow, dict(F=T.GaussianModel().expected_gradient, A=T.GaussianModel().fisher,
                                               theta0=np.array([0.0, 0.0]), t=np.array([0.0, 1.0]), rtol=1e-9, atol=1e-9)),
          {"F": CALLABLE, "A": CALLABLE, "theta0": VECTOR_1D, "t": ARRAY, "rtol": UNIT, "atol": POSITIVE}),
    Entry(O + "natural_direction",
          lambda: (T.natural_direction, dict(A=np.array([[2.0, 0.5], [0.5, 1.0]]), F=np.array([1.0, -1.0]))),
          {"A": MATRIX + (("indefinite", lambda v, d: -np.asarray(v)), ("asymmetric", lambda v, d: np.triu(v))),
           "F": VECTOR_1D}),
    Entry(O + "euler_scheme",
          lambda: (T.euler_scheme, dict(F=T.GaussianModel().expected_gradient, A=T.GaussianModel().fisher,
                                        theta0=np.array([0.0, 0.0]), dt=0.01, steps=5)),
          {"F": CALLABLE, "A": CALLABLE, "theta0": VECTOR_1D, "dt": POSITIVE, "steps": SIZE},
          accepts=ZERO_STEPS, why=WHY_ZERO_STEPS),
    # -- TANGO and relatives on listed samples -----------------------------------------------------------------
    Entry(A + "tango_iterates",
          lambda: (_quiet(T.tango_iterates), dict(model=_logit().model, theta0=np.zeros(2), gamma=0.05, dt=np.full(7, 0.1),
                                                  x=_listed(_logit())[0], y=_listed(_logit())[1], ytilde=_listed(_logit())[2],
                                                  C=2.0 * np.eye(2), on_unstable="warn")),
          {"model": OBJECT, "theta0": VECTOR_1D, "gamma": POSITIVE, "dt": SCHEDULE, "x": SAMPLES, "y": LABELS,
           "ytilde": LABELS, "C": MATRIX, "on_unstable": CHOICE},
          accepts={"C": ("none",)}, why="C = None is plain TANGO"),
    Entry(A + "sgd_iterates",
          lambda: (T.sgd_iterates, dict(model=_lin().model, theta0=np.zeros(2), lr=0.05, x=_listed(_lin())[0],
                                        y=_listed(_lin())[1])),
          {"model": OBJECT, "theta0": VECTOR_1D, "lr": POSITIVE, "x": SAMPLES, "y": TARGETS}),
    Entry(A + "averaged_sgd_iterates",
          lambda: (T.averaged_sgd_iterates, dict(model=_lin().model, theta0=np.zeros(2), gamma=0.05, dt=0.1,
                                                 x=_listed(_lin())[0], y=_listed(_lin())[1], xi=np.zeros((6, 2)))),
          {"model": OBJECT, "theta0": VECTOR_1D, "gamma": POSITIVE, "dt": STEP_FRACTION, "x": SAMPLES, "y": TARGETS, "xi": MATRIX},
          accepts={"xi": ("none",)}, why="xi = None is averaged SGD without noise"),
    Entry(A + "two_timescale_iterates",
          lambda: (T.two_timescale_iterates, dict(theta0=np.zeros(2), gamma=0.1, dt=0.01, steps=5,
                                                  F_hat=lambda th, r: th - 1.0, A_hat=lambda th, r: np.eye(2), rng=3)),
          {"theta0": VECTOR_1D, "gamma": POSITIVE, "dt": STEP_FRACTION, "steps": SIZE, "F_hat": CALLABLE, "A_hat": CALLABLE,
           "rng": SEED}, accepts=ZERO_STEPS, why=WHY_ZERO_STEPS),
    Entry(A + "noise_free_iterates",
          lambda: (T.noise_free_iterates, dict(model=_lin().model, theta0=np.zeros(2), gamma=0.1, dt=0.01, steps=5,
                                               variant="prop4", x=_lin().x, y=_lin().y, on_unstable="warn")),
          {"model": OBJECT, "theta0": VECTOR_1D, "gamma": POSITIVE, "dt": STEP_FRACTION, "steps": SIZE, "variant": CHOICE,
           "x": SAMPLES, "y": TARGETS, "on_unstable": CHOICE}, accepts=ZERO_STEPS, why=WHY_ZERO_STEPS),
    Entry(A + "auxiliary_sequence",
          lambda: (T.auxiliary_sequence, dict(thetas=np.zeros((4, 2)), vs=np.ones((4, 2)), A=lambda th: np.eye(2),
                                              gamma=0.1, dt=0.01)),
          {"thetas": MATRIX, "vs": MATRIX, "A": CALLABLE, "gamma": POSITIVE, "dt": POSITIVE}),
    Entry(A + "gamma_from_samples",
          lambda: (T.gamma_from_samples, dict(gt=np.array([[1.0, 0.0], [0.0, 2.0]]), rule="gaussian", batch=2)),
          {"gt": ARRAY, "rule": CHOICE, "batch": COUNT}),
    Entry(A + "tango_step",
          lambda: (T.tango_step, dict(v=np.zeros(2), theta=np.zeros(2), g=np.ones(2), gt=np.array([0.5, -0.5]), gamma=0.1,
                                      dt_prev=0.1, dt_cur=0.1, Cg=np.ones(2), Cgt=np.ones(2), batch=1)),
          {"v": VECTOR, "theta": VECTOR, "g": VECTOR, "gt": VECTOR, "gamma": POSITIVE, "dt_prev": STEP_FRACTION,
           "dt_cur": STEP_FRACTION, "Cg": VECTOR, "Cgt": VECTOR, "batch": COUNT},
          accepts={"Cg": ("none",), "Cgt": ("none",)}, why="Cg = None or Cgt = None means C = I (plain TANGO)"),
    # -- preconditioners ---------------------------------------------------------------------------------------
    Entry(P + "FixedPreconditioner", lambda: (T.FixedPreconditioner, dict(C=np.array([[2.0, 0.5], [0.5, 1.0]]))),
          {"C": MATRIX}),
    Entry(P + "RMSProp", lambda: (T.RMSProp, dict(beta=0.9, eps=1e-8)), {"beta": UNIT, "eps": POSITIVE},
          accepts={"beta": ("zero",)}, why="beta = 0 keeps only the last square"),
    Entry(P + "DiagonalFisher", lambda: (T.DiagonalFisher, dict(beta=0.99, eps=1e-8)), {"beta": UNIT, "eps": POSITIVE},
          accepts={"beta": ("zero",)}, why="beta = 0 keeps only the last square"),
    Entry(P + "ExactDiagonalFisher", lambda: (T.ExactDiagonalFisher, dict(model=_logit().model, x=_logit().x)),
          {"model": OBJECT, "x": MATRIX}, accepts={"x": ("wrong_length",)},
          why="no theta is given here: the width of x sets d, checked against theta0 when TANGO starts (init)"),
    # -- simulators and their result -------------------------------------------------------------------------------
    Entry(S + "simulate_tango",
          lambda: (_quiet(T.simulate_tango), dict(model=_logit().model, theta0=np.zeros(2), gamma=0.05, dt=0.1, steps=4, runs=16,
                                                  seed=0, k=np.array([0, 4]), method="tango", x=_logit().x, y=_logit().y,
                                                  C=np.eye(2), batch=2, v_sup_threshold=1.0, theta_radius=1.0,
                                                  block_size=8, route="auto", progress=False)),
          {"model": OBJECT, "theta0": VECTOR_1D, "gamma": POSITIVE, "dt": STEP_FRACTION, "steps": SIZE, "runs": SIZE, "seed": SEED,
           "k": ARRAY, "method": CHOICE, "x": SAMPLES, "y": LABELS, "C": MATRIX, "batch": SIZE, "v_sup_threshold": POSITIVE,
           "theta_radius": POSITIVE, "block_size": SIZE, "route": CHOICE},
          accepts={"k": ("none",), "C": ("none",), "v_sup_threshold": ("none",), "theta_radius": ("none",),
                   "block_size": ("huge",)},
          why="k = None records the default counts; C = None is plain TANGO; a None threshold or radius records nothing "
              "extra; a block_size above runs is one block of all the runs"),
    Entry(S + "simulate_two_timescale",
          lambda: (T.simulate_two_timescale, dict(theta0=np.zeros(2), gamma=0.1, dt=0.01, steps=4,
                                                  draw=lambda rng, th: (th - 1.0, np.ones((len(th), 2))), runs=16, seed=1,
                                                  k=np.array([0, 2, 4]), v_sup_threshold=1.0, progress=False)),
          {"theta0": VECTOR_1D, "gamma": POSITIVE, "dt": STEP_FRACTION, "steps": SIZE, "draw": CALLABLE, "runs": SIZE, "seed": SEED,
           "k": ARRAY, "v_sup_threshold": POSITIVE},
          accepts={"k": ("none",), "v_sup_threshold": ("none",)},
          why="k = None records every step; a None threshold records nothing extra"),
    Entry(S + "TangoResult.ci", lambda: (_result().ci, dict(level=0.95, method="normal")), {"level": UNIT, "method": CHOICE}),
    Entry(S + "TangoResult.field", lambda: (_result().field, dict(name="theta_0")), {"name": CHOICE}),
]
EXEMPT = [
    Exempt(S + "TangoResult", "a record assembled by simulate_tango / simulate_two_timescale from validated arguments; "
                             "users read it, they do not build it"),
]
