"""Bernacchia, Lengyel & Hennequin, *Exact natural gradient in deep linear networks* (003_34787a2226c5cf0a.txt):
the Fisher (eq. 22) and its generalized inverses, Eq. 10 and the block-diagonal update, the total-map dynamics
(eqs 17-19), the decay law, online NGD (eqs 20-21) and the Figure 1 experiments.

Quick start::

    from theorytools.deeplinear import DeepLinearNet, natural_gradient_flow, instances
    net = instances.random_net([3, 5, 5, 3], seed=0)      # widths n_0 .. n_L
    net.natural_gradient(), net.eq10_update()             # -F^+ grad, and Eq. 10's velocity
    W_t = natural_gradient_flow(net, t, method="exact")   # (len(t), n_L, n_0)
"""

from theorytools.deeplinear import figure1, ginverse, instances, online
from theorytools.deeplinear.dynamics import (
    SingularCrossingError,
    eq18_crossing_time,
    eq18_path,
    fitted_rate,
    natural_gradient_flow,
    predicted_decay,
    rank_margin,
    tangent_dimension,
    tangent_margin,
)
from theorytools.deeplinear.network import DeepLinearNet, psd_pinv
from theorytools.errors import HypothesisError, NonFiniteError

__all__ = [
    "DeepLinearNet", "psd_pinv", "natural_gradient_flow", "SingularCrossingError", "eq18_path", "eq18_crossing_time",
    "predicted_decay", "fitted_rate", "rank_margin", "tangent_dimension", "tangent_margin", "ginverse", "instances", "online", "figure1", "HypothesisError", "NonFiniteError",
]
