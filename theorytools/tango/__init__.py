"""Ollivier, *True Asymptotic Natural Gradient Optimization* (000_3b01ec78f4f92394.txt): TANGO, its
natural-gradient ODE limit, averaged SGD (Proposition 2), the noise-free systems (Proposition 4) and the
two-timescale iteration of Theorem 5.

Quick start::

    from theorytools.tango import GaussianModel, natural_gradient_flow, noise_free_iterates, simulate_tango
    m = GaussianModel(data_mean=10.0, data_std=1.0)            # theta = (mu, ln sigma), Figure 1
    path = natural_gradient_flow(m, [0.0, 0.0], t)             # eq. 12
    res = simulate_tango(m, [0.0, 0.0], gamma=1e-2, dt=1e-4, steps=10**5, runs=1000)
"""

from theorytools.errors import HypothesisError, NonFiniteError
from theorytools.tango.algorithms import (
    GAMMA_RULES,
    StabilityWarning,
    auxiliary_sequence,
    averaged_sgd_iterates,
    gamma_from_samples,
    noise_free_iterates,
    sgd_iterates,
    tango_iterates,
    tango_step,
    two_timescale_iterates,
)
from theorytools.tango.models import GaussianModel, LinearRegressionModel, LogisticModel, Model, SoftmaxModel
from theorytools.tango.ode import euler_scheme, natural_direction, natural_gradient_flow, preconditioned_flow
from theorytools.tango.preconditioners import DiagonalFisher, ExactDiagonalFisher, FixedPreconditioner, RMSProp
from theorytools.tango.simulation import TangoResult, simulate_tango, simulate_two_timescale

__all__ = [
    "HypothesisError", "NonFiniteError", "Model", "GaussianModel", "LinearRegressionModel", "LogisticModel", "SoftmaxModel",
    "tango_iterates", "tango_step", "sgd_iterates", "averaged_sgd_iterates", "two_timescale_iterates",
    "noise_free_iterates", "auxiliary_sequence", "gamma_from_samples", "GAMMA_RULES", "StabilityWarning",
    "natural_gradient_flow", "preconditioned_flow", "euler_scheme", "natural_direction",
    "FixedPreconditioner", "RMSProp", "DiagonalFisher", "ExactDiagonalFisher",
    "simulate_tango", "simulate_two_timescale", "TangoResult",
]
