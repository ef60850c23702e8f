"""Fisher geometry (001_7d31b3ff3a2f0401.txt §5-13; 002_add1c097d251ec63.txt): predictive distributions and their
Fisher matrices in several parameterizations, the §9.2 Hessian, and per-layer damped NGD in its explicit, Woodbury
and TENGraD forms, and NGD training of small networks (exact, block-diagonal, TENGraD; exact or empirical Fisher).

Quick start::

    from theorytools.fisher import gaussian_fisher, damped_block_direction
    gaussian_fisher(0.0, 2.0, "mu_log_var")                 # diag(1/4, 1/2)
    damped_block_direction(I, G, g, beta=1e-3, method="tengrad")
"""

from theorytools.errors import HypothesisError, NonFiniteError
from theorytools.fisher import experiments, ggn, invariance, mlp, ngd, quadratic_model
from theorytools.fisher.distributions import (
    PARAMS,
    categorical_fisher,
    categorical_fisher_pinv,
    gaussian_coordinates,
    gaussian_fisher,
    gaussian_log_density,
    gaussian_mean_sd,
    gaussian_mu_logvar_hessian,
    softmax,
)
from theorytools.fisher.empirical import empirical_fisher_iterates, fisher_iterates
from theorytools.fisher.mlp import MLP
from theorytools.fisher.kl import gaussian_kl, kl_remainder
from theorytools.fisher.tengrad import (
    damped_block_direction,
    damped_jacobian_solve,
    jacobian_transpose_vector,
    jacobian_vector,
    per_example_jacobian,
    tengrad_gram,
)

__all__ = [
    "PARAMS", "gaussian_fisher", "gaussian_coordinates", "gaussian_mean_sd", "gaussian_log_density",
    "gaussian_mu_logvar_hessian", "categorical_fisher", "categorical_fisher_pinv", "softmax", "per_example_jacobian", "tengrad_gram",
    "jacobian_vector", "jacobian_transpose_vector", "damped_block_direction", "gaussian_kl", "kl_remainder",
    "empirical_fisher_iterates", "fisher_iterates", "HypothesisError", "NonFiniteError", "invariance", "quadratic_model", "ggn",
    "MLP", "mlp", "damped_jacobian_solve", "ngd", "experiments",
]
