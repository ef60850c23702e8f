"""Shared linear algebra: input validation, the generalized eigenproblem, Kronecker
representations, Lyapunov traces and stable geometric/Gamma-ratio numerics."""

from theorytools.linalg.kron import sandwich_kron, unvec, vec
from theorytools.linalg.lyapunov import lyapunov_trace, solve_lyapunov_A, trace_solve
from theorytools.linalg.series import (
    geometric_sum,
    log_abs_one_minus,
    log_gamma_ratio,
    sum_sq_geometric,
)
from theorytools.linalg.spectral import GeneralizedEigen, generalized_eigh
from theorytools.linalg.validation import (
    as_matrix,
    as_steps,
    as_symmetric,
    as_vector,
    check_definite,
    check_finite,
    real_array,
    squeeze_k,
)

__all__ = [
    "GeneralizedEigen", "generalized_eigh", "sandwich_kron", "vec", "unvec",
    "lyapunov_trace", "solve_lyapunov_A", "geometric_sum", "log_abs_one_minus",
    "log_gamma_ratio", "sum_sq_geometric", "as_matrix", "as_steps", "as_symmetric",
    "as_vector", "check_definite", "check_finite", "real_array", "squeeze_k", "trace_solve",
]
