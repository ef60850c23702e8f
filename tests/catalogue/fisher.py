"""Catalogue entries of ``theorytools.fisher`` (see :mod:`catalogue`): every public callable, with a small valid call."""

from __future__ import annotations

import numpy as np

from catalogue import Entry, Exempt
from catalogue.kinds import (ARRAY, CHOICE, COUNT, COUNT0, EXTRA_AXIS, FACTORS, FLAG, HUGE_COUNT, LABEL, LABELS, LAYERS,
                             LOGITS, MATRIX, NEGATIVE, NONNEG, OBJECT, POSITIVE, POSITIVE_ENTRIES, REAL, SAMPLES, SEED,
                             SIZE, VECTOR_1D, WIDTHS, ZERO)

import theorytools.fisher as FI
from theorytools.fisher import experiments as EX
from theorytools.fisher import ggn as GG
from theorytools.fisher import invariance as IV
from theorytools.fisher import ngd as NG
from theorytools.fisher import quadratic_model as QM

F = "theorytools.fisher."
MLPN = F + "mlp.MLP"
TANH = F + "ggn.TanhNet"
GFP = F + "invariance.GaussianFitProblem"
SMR = F + "quadratic_model.SoftmaxRegression"

#: counts of kept iterates: 0 is valid (the start alone), a huge count must be refused before allocating
KEPT_STEPS = COUNT0 + (HUGE_COUNT,)
#: xi of §11.1, in [1/2, 1]
XI = REAL + (ZERO, NEGATIVE, ("above_one", lambda v, d: 1.5))


def _rng(seed=0):
    return np.random.default_rng(seed)


def _layer(m=5, d_in=3, d_out=2):
    rng = _rng(1)
    return rng.standard_normal((d_in, m)), rng.standard_normal((d_out, m))


def _net(loss="squared", widths=(3, 4, 2)):
    return FI.MLP(widths, loss)


def _batch(loss="squared", m=6):
    """(net, Ws, X, Y) of a 3-4-2 net: Y rows of 2 targets (squared) or labels 0..1 (cross-entropy)."""
    net = _net(loss)
    rng = _rng(2)
    Y = rng.standard_normal((m, 2)) if loss == "squared" else np.array([0, 1] * (m // 2))
    return net, net.init(rng), rng.standard_normal((m, 3)), Y


def _mlp_call(name, loss="squared", keys=("Ws", "X", "Y"), **extra):
    def make():
        net, Ws, X, Y = _batch(loss)
        data = {"Ws": Ws, "X": X, "Y": Y}
        return getattr(net, name), {k: data[k] for k in keys} | extra
    return make


def _ngd_call(f, loss="squared", **extra):
    def make():
        net, Ws, X, Y = _batch(loss)
        return f, dict(net=net, Ws=Ws, X=X, Y=Y, **extra)
    return make


def _forward_parts():
    net, Ws, X, _ = _batch()
    Is, Z = net.forward(Ws, X)
    return net, Ws, Is, Z


def _tanh(kind="categorical"):
    """A 3-4-2 net (two outputs suit every kind), offset so that the natural Gaussian's z_2 < 0."""
    net = GG.TanhNet(3, 4, 2, offset=(0.0, -1.0) if kind == "gaussian_natural" else None)
    rng = _rng(3)
    return net, 0.3 * rng.standard_normal(net.P), rng.standard_normal((5, 3))


def _ggn_call(f, kind, Y):
    def make():
        net, theta, X = _tanh(kind)
        kwargs = dict(net=net, theta=theta, X=X, kind=kind)
        return f, kwargs | ({"Y": Y} if Y is not None else {})
    return make


def _problem():
    return IV.GaussianFitProblem()


def _smr():
    rng = _rng(4)
    return QM.SoftmaxRegression(np.hstack([rng.standard_normal((6, 2)), np.ones((6, 1))]), np.array([0, 1, 2, 0, 1, 2]), 3)


ENTRIES = [
    # -- distributions ------------------------------------------------------------------------------------------------
    Entry(F + "distributions.gaussian_fisher", lambda: (FI.gaussian_fisher, dict(mu=0.3, sigma=2.0, param="natural")),
          {"mu": REAL, "sigma": POSITIVE, "param": CHOICE}),
    Entry(F + "distributions.gaussian_coordinates",
          lambda: (FI.gaussian_coordinates, dict(mu=0.3, sigma=2.0, param="mu_log_var")),
          {"mu": REAL, "sigma": POSITIVE, "param": CHOICE}),
    Entry(F + "distributions.gaussian_mean_sd", lambda: (FI.gaussian_mean_sd, dict(z=[0.3, 2.0], param="mu_sigma")),
          {"z": VECTOR_1D, "param": CHOICE}),
    Entry(F + "distributions.gaussian_log_density",
          lambda: (FI.gaussian_log_density, dict(y=[0.1, 0.5], z=[0.3, -0.1], param="natural")),
          {"y": ARRAY, "z": VECTOR_1D, "param": CHOICE},
          accepts={"y": ("empty",)}, why="y is any array of points, an empty one gives an empty result"),
    Entry(F + "distributions.gaussian_mu_logvar_hessian",
          lambda: (FI.gaussian_mu_logvar_hessian, dict(y=2.0, mu=0.0, gamma=0.0)), {"y": REAL, "mu": REAL, "gamma": REAL}),
    Entry(F + "distributions.softmax", lambda: (FI.softmax, dict(z=[[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])), {"z": ARRAY}),
    Entry(F + "distributions.categorical_fisher", lambda: (FI.categorical_fisher, dict(z=[1.0, 2.0, 3.0])), {"z": LOGITS}),
    Entry(F + "distributions.categorical_fisher_pinv", lambda: (FI.categorical_fisher_pinv, dict(z=[1.0, 2.0, 3.0])),
          {"z": LOGITS}),
    # -- empirical (§11.1) -----------------------------------------------------------------------------------------------
    Entry(F + "empirical.empirical_fisher_iterates",
          lambda: (FI.empirical_fisher_iterates, dict(theta0=0.3, alpha=0.5, steps=6, xi=0.5)),
          {"theta0": REAL, "alpha": POSITIVE, "steps": KEPT_STEPS, "xi": XI}),
    Entry(F + "empirical.fisher_iterates", lambda: (FI.fisher_iterates, dict(theta0=2.0, alpha=0.3, steps=5)),
          {"theta0": REAL, "alpha": POSITIVE, "steps": KEPT_STEPS}),
    # -- kl ------------------------------------------------------------------------------------------------------------
    Entry(F + "kl.gaussian_kl", lambda: (FI.gaussian_kl, dict(z1=[0.3, 2.0], z2=[0.1, 1.0], param="mu_sigma")),
          {"z1": VECTOR_1D, "z2": VECTOR_1D, "param": CHOICE}),
    Entry(F + "kl.kl_remainder",
          lambda: (FI.kl_remainder, dict(z=[0.7, 0.2], d=[0.3, 1.0], eps=[0.1, 0.01], param="mu_log_sigma",
                                         direction="reverse")),
          {"z": VECTOR_1D, "d": VECTOR_1D, "eps": ARRAY + (EXTRA_AXIS,), "param": CHOICE, "direction": CHOICE}),
    # -- tengrad -------------------------------------------------------------------------------------------------------
    Entry(F + "tengrad.per_example_jacobian", lambda: (FI.per_example_jacobian, dict(zip("IG", _layer()))),
          {"I": MATRIX, "G": MATRIX}),
    Entry(F + "tengrad.tengrad_gram", lambda: (FI.tengrad_gram, dict(zip("IG", _layer()))), {"I": MATRIX, "G": MATRIX}),
    Entry(F + "tengrad.jacobian_vector", lambda: (FI.jacobian_vector, dict(zip("IG", _layer()), g=np.ones((3, 2)))),
          {"I": MATRIX, "G": MATRIX, "g": MATRIX}),
    Entry(F + "tengrad.jacobian_transpose_vector",
          lambda: (FI.jacobian_transpose_vector, dict(zip("IG", _layer()), v=np.arange(5.0))),
          {"I": MATRIX, "G": MATRIX, "v": VECTOR_1D}),
    Entry(F + "tengrad.damped_jacobian_solve",
          lambda: (FI.damped_jacobian_solve, dict(J=_rng(5).standard_normal((4, 3)), u=np.ones(3), beta=0.1,
                                                  method="woodbury")),
          {"J": MATRIX, "u": VECTOR_1D, "beta": NONNEG, "method": CHOICE},
          accepts={"J": ("wrong_length",)}, why="any m x P Jacobian: a wrong width is reported as u's length (naming J)"),
    Entry(F + "tengrad.damped_block_direction",
          lambda: (FI.damped_block_direction, dict(zip("IG", _layer()), u=np.ones(6), beta=0.1, method="tengrad")),
          {"I": MATRIX, "G": MATRIX, "u": VECTOR_1D, "beta": NONNEG, "method": CHOICE}),
    # -- mlp -----------------------------------------------------------------------------------------------------------
    Entry(MLPN, lambda: (FI.MLP, dict(widths=(3, 4, 2), loss="cross_entropy")), {"widths": WIDTHS, "loss": CHOICE}),
    Entry(MLPN + ".init", lambda: (_net().init, dict(rng=0)), {"rng": SEED}),
    Entry(MLPN + ".flatten", lambda: (_net().flatten, dict(Ws=_batch()[1])), {"Ws": LAYERS}),
    Entry(MLPN + ".unflatten", lambda: (_net().unflatten, dict(theta=np.zeros(_net().P))), {"theta": VECTOR_1D}),
    Entry(MLPN + ".forward", _mlp_call("forward", keys=("Ws", "X")), {"Ws": LAYERS, "X": MATRIX}),
    Entry(MLPN + ".loss_value", _mlp_call("loss_value", "cross_entropy"), {"Ws": LAYERS, "X": MATRIX, "Y": LABELS}),
    Entry(MLPN + ".gradient", _mlp_call("gradient"), {"Ws": LAYERS, "X": MATRIX, "Y": SAMPLES}),
    Entry(MLPN + ".curvature_factors", _mlp_call("curvature_factors", "cross_entropy", fisher="exact"),
          {"Ws": LAYERS, "X": MATRIX, "Y": LABELS, "fisher": CHOICE}),
    Entry(MLPN + ".output_gradients",
          lambda: (_net().output_gradients, dict(Z=_forward_parts()[3], Y=np.zeros((2, 6)))), {"Z": MATRIX, "Y": MATRIX}),
    Entry(MLPN + ".fisher_factor", lambda: (_net("cross_entropy").fisher_factor, dict(Z=_forward_parts()[3])),
          {"Z": MATRIX}, accepts={"Z": ("wrong_length",)}, why="Z has one column per example: any number is valid"),
    Entry(MLPN + ".backward",
          lambda: (lambda p: (p[0].backward, dict(Ws=p[1], Is=p[2], E=np.ones((2, 6)))))(_forward_parts()),
          {"Ws": LAYERS, "Is": LAYERS, "E": MATRIX}),
    # -- ngd -----------------------------------------------------------------------------------------------------------
    Entry(F + "ngd.stacked_jacobian",
          lambda: (NG.stacked_jacobian, dict(factors=_batch()[0].curvature_factors(*_batch()[1:])[1])),
          {"factors": FACTORS}),
    Entry(F + "ngd.fisher_matrix", _ngd_call(NG.fisher_matrix, "cross_entropy", fisher="exact"),
          {"net": OBJECT, "Ws": LAYERS, "X": MATRIX, "Y": LABELS, "fisher": CHOICE}),
    Entry(F + "ngd.direction", _ngd_call(NG.direction, method="exact", beta=0.01, fisher="empirical"),
          {"net": OBJECT, "Ws": LAYERS, "X": MATRIX, "Y": SAMPLES, "method": CHOICE, "beta": NONNEG, "fisher": CHOICE}),
    Entry(F + "ngd.train",
          _ngd_call(NG.train, "cross_entropy", method="tengrad", alpha=0.1, beta=0.01, fisher="exact", batch_size=4,
                    steps=2, decay=0.01, record_every=1, seed=0, progress=False),
          {"net": OBJECT, "Ws": LAYERS, "X": MATRIX, "Y": LABELS, "method": CHOICE, "alpha": POSITIVE, "beta": NONNEG,
           "fisher": CHOICE, "batch_size": SIZE, "steps": KEPT_STEPS, "decay": NONNEG, "record_every": COUNT,
           "seed": SEED, "progress": FLAG}),
    Entry(F + "ngd.grid_search", _ngd_call(NG.grid_search, method="sgd", alphas=[0.1, 0.3], batch_size=3, steps=2),
          {"net": OBJECT, "Ws": LAYERS, "X": MATRIX, "Y": SAMPLES, "method": CHOICE, "alphas": POSITIVE_ENTRIES}),
    # -- ggn -----------------------------------------------------------------------------------------------------------
    Entry(TANH, lambda: (GG.TanhNet, dict(n_in=3, n_hidden=4, n_out=2, offset=[0.0, -1.0])),
          {"n_in": SIZE, "n_hidden": SIZE, "n_out": SIZE, "offset": VECTOR_1D},
          accepts={"offset": ("none",)}, why="offset=None is the default (no offset)"),
    Entry(TANH + ".split", lambda: (_tanh()[0].split, dict(theta=_tanh()[1])), {"theta": VECTOR_1D}),
    Entry(TANH + ".output", lambda: (_tanh()[0].output, dict(theta=_tanh()[1], x=np.ones(3))),
          {"theta": VECTOR_1D, "x": VECTOR_1D}),
    Entry(TANH + ".jacobian", lambda: (_tanh()[0].jacobian, dict(theta=_tanh()[1], x=np.ones(3))),
          {"theta": VECTOR_1D, "x": VECTOR_1D}),
    Entry(F + "ggn.output_fisher", lambda: (GG.output_fisher, dict(kind="categorical", z=[0.1, 2.0, -1.0])),
          {"kind": CHOICE, "z": LOGITS}),
    Entry(F + "ggn.loss_hessian", lambda: (GG.loss_hessian, dict(kind="gaussian_mu_logvar", y=1.5, z=[0.2, 0.1])),
          {"kind": CHOICE, "y": REAL, "z": VECTOR_1D}),
    Entry(F + "ggn.loss_gradient", lambda: (GG.loss_gradient, dict(kind="categorical", y=2, z=[0.1, 2.0, -1.0])),
          {"kind": CHOICE, "y": LABEL, "z": LOGITS}),
    Entry(F + "ggn.fisher", _ggn_call(GG.fisher, "gaussian_natural", None),
          {"net": OBJECT, "theta": VECTOR_1D, "X": MATRIX, "kind": CHOICE}),
    Entry(F + "ggn.ggn", _ggn_call(GG.ggn, "gaussian_mean", np.zeros((5, 2))),
          {"net": OBJECT, "theta": VECTOR_1D, "X": MATRIX, "Y": SAMPLES, "kind": CHOICE}),
    Entry(F + "ggn.empirical_fisher", _ggn_call(GG.empirical_fisher, "categorical", np.array([0, 1, 1, 0, 1])),
          {"net": OBJECT, "theta": VECTOR_1D, "X": MATRIX, "Y": LABELS, "kind": CHOICE}),
    # -- invariance (§12) ------------------------------------------------------------------------------------------------
    Entry(GFP, lambda: (IV.GaussianFitProblem, dict(m_d=1.0, s_d=0.7, a=0.3, b=0.5, c=0.1)),
          {"m_d": REAL, "s_d": POSITIVE, "a": REAL, "b": REAL + (ZERO,), "c": REAL}),
    *[Entry(GFP + "." + name, lambda name=name: (getattr(_problem(), name), dict(theta=[0.2, -0.1])), {"theta": VECTOR_1D})
      for name in ("h", "grad", "hessian", "fisher", "empirical_fisher")],
    *[Entry(GFP + "." + name, lambda name=name: (getattr(_problem(), name), dict(gamma=[0.4, -0.3])), {"gamma": VECTOR_1D})
      for name in ("zeta", "zeta_jacobian")],
    Entry(GFP + ".pulled_back", lambda: (_problem().pulled_back, dict(kind="hessian", gamma=[0.4, -0.3])),
          {"kind": CHOICE, "gamma": VECTOR_1D}),
    Entry(F + "invariance.ng_step_theta",
          lambda: (IV.ng_step_theta, dict(problem=_problem(), theta=[0.2, -0.1], alpha=0.1, kind="empirical_fisher")),
          {"problem": OBJECT, "theta": VECTOR_1D, "alpha": POSITIVE, "kind": CHOICE}),
    Entry(F + "invariance.ng_step_gamma",
          lambda: (IV.ng_step_gamma, dict(problem=_problem(), gamma=[0.4, -0.3], alpha=0.1, B_gamma=np.eye(2))),
          {"problem": OBJECT, "gamma": VECTOR_1D, "alpha": POSITIVE, "B_gamma": MATRIX}),
    Entry(F + "invariance.one_step_discrepancy",
          lambda: (IV.one_step_discrepancy, dict(problem=_problem(), gamma=[0.4, -0.3], alpha=0.1, kind="fisher")),
          {"problem": OBJECT, "gamma": VECTOR_1D, "alpha": POSITIVE, "kind": CHOICE}),
    Entry(F + "invariance.path_gap",
          lambda: (IV.path_gap, dict(problem=_problem(), gamma0=[0.4, -0.3], alpha=0.1, T=0.5, kind="fisher")),
          {"problem": OBJECT, "gamma0": VECTOR_1D, "alpha": POSITIVE, "T": POSITIVE + (HUGE_COUNT,), "kind": CHOICE}),
    # -- quadratic model (§13) ------------------------------------------------------------------------------------------
    Entry(SMR, lambda: (QM.SoftmaxRegression, dict(x=_smr().x, y=_smr().y, K=3)), {"x": SAMPLES, "y": LABELS, "K": SIZE},
          accepts={"x": ("wrong_length",)}, why="any number of features p is valid"),
    *[Entry(SMR + "." + name, lambda name=name: (getattr(_smr(), name), dict(theta=np.full(9, 0.1))), {"theta": VECTOR_1D})
      for name in ("h", "grad", "fisher", "log_r_gradients")],
    Entry(F + "quadratic_model.quadratic_model",
          lambda: (QM.quadratic_model, dict(problem=_smr(), theta=np.full(9, 0.1), delta=np.ones(9))),
          {"problem": OBJECT, "theta": VECTOR_1D, "delta": VECTOR_1D}),
    Entry(F + "quadratic_model.quadratic_model_as_distances",
          lambda: (QM.quadratic_model_as_distances, dict(problem=_smr(), theta=np.full(9, 0.1), delta=np.ones(9))),
          {"problem": OBJECT, "theta": VECTOR_1D, "delta": VECTOR_1D}),
    Entry(F + "quadratic_model.improvement_bound", lambda: (QM.improvement_bound, dict(problem=_smr(), theta=np.zeros(9))),
          {"problem": OBJECT, "theta": VECTOR_1D}),
    Entry(F + "quadratic_model.min_norm_natural_gradient",
          lambda: (QM.min_norm_natural_gradient, dict(problem=_smr(), theta=np.zeros(9))),
          {"problem": OBJECT, "theta": VECTOR_1D}),
    # -- experiments (§4; the valid calls take seconds) -------------------------------------------------------------
    Entry(F + "experiments.load", lambda: (EX.load, dict(name="wine")), {"name": CHOICE}),
    Entry(F + "experiments.convergence",
          lambda: (EX.convergence, dict(dataset="wine", hidden=(4,), size="quick", batch_size=16, seed=0,
                                        progress=False)),
          {"dataset": CHOICE, "hidden": WIDTHS, "size": CHOICE, "batch_size": SIZE, "seed": SEED, "progress": FLAG},
          accepts={"hidden": ("too_short",), "batch_size": ("none", "huge")}, heavy=True,
          why="any number of hidden layers (even none) is valid; batch_size=None is the profile's, and a batch larger "
              "than the dataset is clipped to it (the paper's batch 128 on the smaller sets)"),
    Entry(F + "experiments.batch_sensitivity",
          lambda: (EX.batch_sensitivity, dict(dataset="diabetes", hidden=(4,), size="quick", seed=0, progress=False)),
          {"dataset": CHOICE, "hidden": WIDTHS, "size": CHOICE, "seed": SEED, "progress": FLAG},
          accepts={"hidden": ("too_short",)}, heavy=True, why="any number of hidden layers (even none) is valid"),
    Entry(F + "experiments.table1", lambda: (EX.table1, dict(size="quick", seed=0, progress=False)),
          {"size": CHOICE, "seed": SEED, "progress": FLAG}, heavy=True),
    Entry(F + "experiments.scaling", lambda: (EX.scaling, dict(size="quick", width=4, batch_size=8, seed=0)),
          {"size": CHOICE, "width": SIZE, "batch_size": SIZE, "seed": SEED}, heavy=True),
]

EXEMPT = [
    Exempt(F + "ngd.History", "a record that train fills (lists of steps, losses, seconds); nothing is computed from it"),
    Exempt(F + "experiments.Run", "a record of one method's best run that convergence returns; nothing is computed "
                                   "from its fields"),
]
