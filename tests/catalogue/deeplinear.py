"""Catalogue entries of ``theorytools.deeplinear`` (see :mod:`catalogue`): every public callable, with a small valid call."""

from __future__ import annotations

import numpy as np

from catalogue import Entry, Exempt
from catalogue.kinds import (ARRAY, CALLABLE, CHOICE, COUNT, COUNT0, DATA, FLAG, L_INNER_SHAPE, LAYERS, MATRIX, NONNEG,
                             OBJECT, POSITIVE, POSITIVE_ENTRIES, REAL, SEED, SIZE, UNIT, VECTOR_1D, WIDTHS)

from theorytools import deeplinear as D
from theorytools.deeplinear import figure1 as F1
from theorytools.deeplinear import ginverse as G
from theorytools.deeplinear import instances as I
from theorytools.deeplinear import online as O

DL = "theorytools.deeplinear."
NET = DL + "network.DeepLinearNet"


def _net(widths=(2, 3, 4)):
    """Non-square widths: a missing last layer changes n_L and must clash with Sigma_out."""
    return I.random_net(widths, 0)


def _method(name, **kwargs):
    return lambda: (getattr(_net(), name), dict(kwargs))


def _fisher():
    net = _net((2, 2, 2))
    return net.fisher()


def _mlp():
    return O.MLP(I.random_layers((3, 4, 2), np.random.default_rng(0)))


def _data(rows=40, n0=3, nL=2):
    rng = np.random.default_rng(1)
    return (rng.standard_normal((rows, n0)), rng.standard_normal((rows, nL)), rng.standard_normal((10, n0)),
            rng.standard_normal((10, nL)))


def _sm():
    return O.ShermanMorrisonInverse(3, 1.0, 0.1)


_MLP_LAYERS = LAYERS.without("missing_layer", "layer_shape") + (L_INNER_SHAPE,)
_DEFAULT_NONE = "None is the default (the net's own total map)"

ENTRIES = [
    # -- network ------------------------------------------------------------------------------------------------------
    Entry(NET, lambda: (D.DeepLinearNet, dict(weights=_net().weights, Sigma_x=_net().Sigma_x, Sigma_out=_net().Sigma_out,
                                              Cyx=_net().Cyx, Cyy=_net().Cyy)),
          {"weights": LAYERS, "Sigma_x": MATRIX, "Sigma_out": MATRIX, "Cyx": MATRIX, "Cyy": MATRIX},
          accepts={"Cyy": ("none",)}, why="Cyy is optional (only the absolute loss needs it)"),
    Entry(NET + ".Lambda", _method("Lambda", i=1), {"i": COUNT}),
    Entry(NET + ".Lambda_tilde", _method("Lambda_tilde", i=2), {"i": COUNT}),
    Entry(NET + ".fisher_block", _method("fisher_block", i=1, j=2), {"i": COUNT, "j": COUNT}),
    Entry(NET + ".excess_loss", lambda: (_net().excess_loss, dict(W=_net().W)), {"W": MATRIX},
          accepts={"W": ("none",)}, why=_DEFAULT_NONE),
    Entry(NET + ".whiten", lambda: (_net().whiten, dict(W=_net().W)), {"W": MATRIX},
          accepts={"W": ("none",)}, why=_DEFAULT_NONE),
    Entry(NET + ".flatten", lambda: (_net().flatten, dict(layers=_net().weights)), {"layers": LAYERS}),
    Entry(NET + ".unflatten", lambda: (_net().unflatten, dict(theta=np.zeros(_net().P))), {"theta": VECTOR_1D}),
    Entry(NET + ".total_map_velocity", lambda: (_net().total_map_velocity, dict(u=np.ones(_net().P))), {"u": VECTOR_1D}),
    Entry(NET + ".with_weights", lambda: (_net().with_weights, dict(weights=_net().weights)), {"weights": LAYERS}),
    Entry(DL + "network.psd_pinv", lambda: (D.psd_pinv, dict(X=np.arange(6.0).reshape(2, 3))), {"X": MATRIX},
          accepts={"X": ("wrong_length",)}, why="any m x n factor X is valid (X X^T is m x m)"),
    # -- dynamics -------------------------------------------------------------------------------------------------------
    Entry(DL + "dynamics.natural_gradient_flow",
          lambda: (D.natural_gradient_flow, dict(net=_net(), t=[0.0, 0.5], method="exact", rtol=1e-8, atol=1e-10,
                                                 singular_margin=1e-6, return_nets=False)),
          {"net": OBJECT, "t": ARRAY, "method": CHOICE, "rtol": UNIT, "atol": POSITIVE, "singular_margin": UNIT,
           "return_nets": FLAG}),
    Entry(DL + "dynamics.eq18_path", lambda: (D.eq18_path, dict(net=_net(), t=[0.0, 1.0])), {"net": OBJECT, "t": ARRAY}),
    Entry(DL + "dynamics.eq18_crossing_time", lambda: (D.eq18_crossing_time, dict(net=_net((2, 2, 2)))), {"net": OBJECT}),
    Entry(DL + "dynamics.predicted_decay", lambda: (D.predicted_decay, dict(net=_net((3, 1, 3)))), {"net": OBJECT}),
    Entry(DL + "dynamics.tangent_dimension", lambda: (D.tangent_dimension, dict(net=_net((2, 2, 2)))), {"net": OBJECT}),
    Entry(DL + "dynamics.tangent_margin", lambda: (D.tangent_margin, dict(net=_net((2, 2, 2)), start=_net((2, 2, 2)))),
          {"net": OBJECT, "start": OBJECT}, accepts={"start": ("none",)}, why="start=None measures in net's own units"),
    Entry(DL + "dynamics.fitted_rate", lambda: (D.fitted_rate, dict(t=[0.0, 1.0, 2.0], excess=[1.0, 0.2, 0.05], limit=0.0)),
          {"t": ARRAY, "excess": ARRAY, "limit": REAL}),
    Entry(DL + "dynamics.rank_margin", lambda: (D.rank_margin, dict(W=np.eye(2), r=2)), {"W": MATRIX, "r": COUNT},
          accepts={"W": ("wrong_length",)}, why="any 2-D matrix is valid (r <= its smaller side)"),
    # -- generalized inverses -------------------------------------------------------------------------------------------
    Entry(DL + "ginverse.moore_penrose", lambda: (G.moore_penrose, dict(F=_fisher())), {"F": MATRIX}),
    Entry(DL + "ginverse.perturbed", lambda: (G.perturbed, dict(F=_fisher(), U=np.ones((8, 8)), V=np.ones((8, 8)))),
          {"F": MATRIX, "U": MATRIX, "V": MATRIX}),
    Entry(DL + "ginverse.metric", lambda: (G.metric, dict(F=_fisher(), D=np.eye(8))), {"F": MATRIX, "D": MATRIX}),
    Entry(DL + "ginverse.eq23", lambda: (G.eq23, dict(net=_net((2, 2, 2)))), {"net": OBJECT}),
    Entry(DL + "ginverse.residual", lambda: (G.residual, dict(F=_fisher(), G=G.moore_penrose(_fisher()))),
          {"F": MATRIX, "G": MATRIX}),
    # -- instances ------------------------------------------------------------------------------------------------------
    Entry(DL + "instances.random_net", lambda: (I.random_net, dict(widths=(2, 3, 2), seed=0, teacher="full")),
          {"widths": WIDTHS, "seed": SEED, "teacher": CHOICE}),
    Entry(DL + "instances.random_layers", lambda: (I.random_layers, dict(widths=(2, 3), rng=np.random.default_rng(0), gain=1.0)),
          {"widths": WIDTHS, "rng": OBJECT, "gain": POSITIVE}),
    Entry(DL + "instances.spd", lambda: (I.spd, dict(n=3, rng=np.random.default_rng(0), eigenvalues=[1.0, 2.0, 3.0])),
          {"n": SIZE, "rng": OBJECT, "eigenvalues": VECTOR_1D + POSITIVE_ENTRIES.malformations[-2:]},
          accepts={"eigenvalues": ("none",)}, why="eigenvalues=None draws them uniformly in [0.5, 2]"),
    Entry(DL + "instances.input_covariance", lambda: (I.input_covariance, dict(n0=3, rng=np.random.default_rng(0))),
          {"n0": SIZE, "rng": OBJECT}),
    Entry(DL + "instances.figure1_widths", lambda: (I.figure1_widths, dict(panel="A")), {"panel": CHOICE}),
    Entry(DL + "instances.architecture_nets", lambda: (I.architecture_nets, dict(seed=0)), {"seed": SEED}),
    Entry(DL + "instances.claim_b_expected", lambda: (I.claim_b_expected, dict(widths=(2, 3, 2))), {"widths": WIDTHS},
          accepts={"widths": ("huge",)}, why="claim_b_expected only compares widths: a huge one allocates nothing"),
    # -- online NGD -----------------------------------------------------------------------------------------------------
    Entry(DL + "online.MLP", lambda: (O.MLP, dict(weights=_mlp().weights, activation="tanh")),
          {"weights": _MLP_LAYERS, "activation": CHOICE}),
    Entry(DL + "online.MLP.forward", lambda: (_mlp().forward, dict(X=np.ones((5, 3)))), {"X": MATRIX}),
    Entry(DL + "online.MLP.predict", lambda: (_mlp().predict, dict(X=np.ones((5, 3)))), {"X": MATRIX}),
    Entry(DL + "online.MLP.backward", lambda: (_mlp().backward, dict(derivs=[None, None], e_out=np.ones((5, 2)))),
          {"derivs": OBJECT, "e_out": MATRIX}),
    Entry(DL + "online.mse", lambda: (O.mse, dict(net=_mlp(), X=np.ones((5, 3)), Y=np.ones((5, 2)))),
          {"net": OBJECT, "X": MATRIX, "Y": MATRIX}),
    Entry(DL + "online.ShermanMorrisonInverse", lambda: (O.ShermanMorrisonInverse, dict(n=3, c0=1.0, eta=0.1)),
          {"n": SIZE, "c0": POSITIVE, "eta": UNIT}),
    Entry(DL + "online.ShermanMorrisonInverse.update", lambda: (_sm().update, dict(H=np.ones((4, 3)))), {"H": MATRIX}),
    Entry(DL + "online.sherman_morrison_updates",
          lambda: (O.sherman_morrison_updates, dict(estimates=[_sm(), _sm()], Hs=[np.ones((4, 3)), np.ones((2, 3))])),
          {"estimates": OBJECT, "Hs": LAYERS}, accepts={"Hs": ("layer_shape",)},
          why="each estimate's minibatch may have its own number of rows (the malformation adds one)"),
    Entry(DL + "online.History.record", lambda: (O.History().record, dict(examples=10, seconds=0.5, err=0.1, lam=1e-3)),
          {"examples": COUNT0, "seconds": NONNEG, "err": NONNEG, "lam": NONNEG},
          accepts={"lam": ("none",)}, why="lam=None records a run without damping (SGD)"),
    Entry(DL + "online.predicted_change",
          lambda: (O.predicted_change, dict(alpha=0.5, dirs=_mlp().weights, grads=_mlp().weights)),
          {"alpha": POSITIVE, "dirs": LAYERS, "grads": LAYERS}),
    Entry(DL + "online.eq21_damping", lambda: (O.eq21_damping, dict(lam=1.0, rho=0.5, lam_min=1e-3)),
          {"lam": NONNEG, "rho": REAL, "lam_min": NONNEG}, accepts={"rho": ("inf",)},
          why="rho = +-inf is a ratio whose predicted change vanished; eq. 21 orders it like any number"),
    Entry(DL + "online.train_sgd",
          lambda: (O.train_sgd, dict(net=_mlp(), data=_data(), lr=0.01, M=8, examples=40, eval_every=20, seed=0,
                                     progress=False)),
          {"net": OBJECT, "data": DATA, "lr": POSITIVE, "M": SIZE, "examples": SIZE, "eval_every": COUNT, "seed": SEED,
           "progress": FLAG}),
    Entry(DL + "online.train_ngd",
          lambda: (O.train_ngd, dict(net=_mlp(), data=_data(), s2=1.0, alpha=0.5, M=8, K=2, lam0=1.0, adaptive=True,
                                     lam_min=1e-8, inverse="pinv", eta=0.1, examples=40, eval_every=20, seed=0,
                                     progress=False)),
          {"net": OBJECT, "data": DATA, "s2": POSITIVE, "alpha": POSITIVE, "M": SIZE, "K": SIZE, "lam0": NONNEG,
           "adaptive": FLAG, "lam_min": NONNEG, "inverse": CHOICE, "eta": UNIT, "examples": SIZE, "eval_every": COUNT,
           "seed": SEED, "progress": FLAG}),
    Entry(DL + "online.grid_search_sgd",
          lambda: (O.grid_search_sgd, dict(make_net=_mlp, data=_data(), lrs=[0.01, 0.02], M=8, examples=40, seed=0,
                                           progress=False)),
          {"make_net": CALLABLE, "data": DATA, "lrs": POSITIVE_ENTRIES, "M": SIZE, "examples": COUNT, "seed": SEED,
           "progress": FLAG}),
    # -- Figure 1 -------------------------------------------------------------------------------------------------------
    Entry(DL + "figure1.linear_data", lambda: (F1.linear_data, dict(widths=(3, 4, 2), n_train=20, n_test=5, seed=0)),
          {"widths": WIDTHS, "n_train": SIZE, "n_test": SIZE, "seed": SEED}),
    Entry(DL + "figure1.digits_data", lambda: (F1.digits_data, dict(n_test=100, seed=0)), {"n_test": SIZE, "seed": SEED}),
    Entry(DL + "figure1.run", lambda: (F1.run, dict(panel="A", size="quick", seed=0, progress=False)),
          {"panel": CHOICE, "size": CHOICE, "seed": SEED, "progress": FLAG}, heavy=True),
]

EXEMPT = [
    Exempt(DL + "figure1.Figure1Result", "a result record that figure1.run fills; its fields are outputs, not inputs"),
    Exempt(DL + "online.History", "a record the trainers fill: constructed empty, each row added through History.record "
                                  "(which validates it)"),
]
