"""Shared linear algebra: input validation (the one validation layer), size guards, scale-invariant PSD
pseudo-inverses, the generalized eigenproblem, Kronecker
representations, Lyapunov traces and stable geometric/Gamma-ratio numerics."""

from theorytools.linalg.kron import sandwich_kron, unvec, vec
from theorytools.linalg.lyapunov import lyapunov_trace, solve_lyapunov_A, spd_solve, trace_solve
from theorytools.linalg.series import (
    geometric_sum,
    log_abs_one_minus,
    log_gamma_ratio,
    sum_sq_geometric,
)
from theorytools.linalg.memory import check_allocation, limit_memory, memory_limit, set_memory_limit
from theorytools.linalg.psd import psd_pinv, psd_rank, psd_solve
from theorytools.linalg.spectral import GeneralizedEigen, generalized_eigh
from theorytools.linalg.validation import (
    as_array,
    as_bool,
    as_callable,
    as_choice,
    as_float,
    as_instance,
    as_text,
    as_int,
    as_labels,
    as_matrix,
    as_seed,
    as_steps,
    as_symmetric,
    as_vector,
    check_definite,
    check_semidefinite,
    check_finite,
    nonnegative,
    positive,
    real_array,
    same_length,
    squeeze_k,
)

__all__ = [
    "GeneralizedEigen", "generalized_eigh", "sandwich_kron", "vec", "unvec",
    "lyapunov_trace", "solve_lyapunov_A", "spd_solve", "geometric_sum", "log_abs_one_minus",
    "log_gamma_ratio", "sum_sq_geometric", "as_matrix", "as_steps", "as_symmetric",
    "as_vector", "check_definite", "check_semidefinite", "check_finite", "real_array", "squeeze_k", "trace_solve",
    "as_array", "as_float", "positive", "nonnegative", "as_int", "as_choice", "as_bool", "as_seed", "as_labels",
    "same_length", "as_callable", "as_instance", "as_text",
    "check_allocation", "memory_limit", "set_memory_limit", "limit_memory",
    "psd_solve", "psd_pinv", "psd_rank",
]
