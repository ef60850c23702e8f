"""Catalogue entries of ``theorytools``, ``theorytools.linalg`` and ``theorytools.montecarlo`` (see :mod:`catalogue`).

The validators of :mod:`theorytools.linalg.validation` take the argument's name as their first argument; their
entries pass ``name="M"`` (or similar) and map the probed argument to that name (``names=``), since the message
must name what the *caller* called it.
"""

from __future__ import annotations

import contextlib

import numpy as np

from catalogue import Entry, Exempt
from catalogue.kinds import (ARRAY, CALLABLE, CHOICE, COUNT, COUNT0, EXTRA_AXIS, FLAG, FLAT, LABELS, MATRIX, NONE,
                             NONNEG, NUMBER, OBJECT, POSITIVE, POSITIVE_ENTRIES, PSD, REAL, SEED, SIZE, SPD, STEPS,
                             STRING, TEXT, UNIT, VECTOR, VECTOR_1D, WRONG_LENGTH, Kind, _asymmetric, _with)

from theorytools import linalg as LA
from theorytools import montecarlo as MC
from theorytools.linalg import memory

LM = "theorytools.linalg."
MM = "theorytools.montecarlo."

A2 = np.array([[2.0, 0.5], [0.5, 1.0]])
S2 = np.array([[1.0, 0.2], [0.2, 0.5]])

#: a symmetric matrix of no particular sign
SYM = MATRIX + (("asymmetric", _asymmetric),)
#: a matrix of any shape (rows x columns)
ANY_MATRIX = ARRAY + (FLAT, EXTRA_AXIS)
#: a flag that must be a real bool (a misplaced number is refused)
BOOL = Kind("bool", (NUMBER, STRING, NONE))
#: arrays whose lengths must agree with another argument's (same_length checks only that)
ROWS = Kind("rows", (WRONG_LENGTH, STRING, NONE))
#: an elementwise argument >= 0 for which +inf is meaningful (ell = -ln rho: +inf is rho = 0)
RATE = ARRAY + (("negative_entry", lambda v, d: _with(v, d, -1.0)),)
#: run counts per block: positive integers
BLOCK_COUNTS = VECTOR + (("zero_entry", lambda v, d: _with(v, d, 0.0)), ("fraction_entry", lambda v, d: _with(v, d, 2.5)))
#: integer-valued entries >= 0
COUNTS_ARRAY = ARRAY + (("negative_entry", lambda v, d: _with(v, d, -1.0)),
                        ("fraction_entry", lambda v, d: _with(v, d, 2.5)))

_ELEMENTWISE = "elementwise like a numpy ufunc: an empty array gives an empty result"
_RECORD = "a result record built by the toolkit (its fields are computed, not user input)"


def _restoring(f):
    """Call ``f`` (which sets the process-wide memory limit) and restore the limit, so that probing it leaves no
    trace on the other tests."""

    def call(**kwargs):
        old = memory._user_limit[0]
        try:
            return f(**kwargs)
        finally:
            memory._user_limit[0] = old

    return call


def _entered(cm):
    """Enter the context manager returned by ``cm(**kwargs)`` (its arguments are validated on entering)."""

    def call(**kwargs):
        with contextlib.ExitStack() as stack:
            return stack.enter_context(cm(**kwargs))

    return call


def _same_length(a, b):
    return LA.same_length(("a", "b"), a, b)


def _blocks(nblocks=12, m=2):
    rng = np.random.default_rng(0)
    return rng.standard_normal((nblocks, m)), np.full(nblocks, 5)


def _mc_result():
    return MC.run_blocks(lambda rng, n: rng.standard_normal((n, 2)), 12 * 8, 0, block_size=8, workers=1,
                         progress=False)


def _eig():
    return LA.generalized_eigh(A2, np.eye(2))


ENTRIES = [
    # -- Kronecker, Lyapunov, PSD pseudo-inverses, spectral, series ----------------------------------------------
    Entry(LM + "kron.vec", lambda: (LA.vec, dict(X=A2)), {"X": ANY_MATRIX}),
    Entry(LM + "kron.unvec", lambda: (LA.unvec, dict(x=np.arange(4.0), n=2)), {"x": VECTOR_1D, "n": COUNT}),
    Entry(LM + "kron.sandwich_kron", lambda: (LA.sandwich_kron, dict(A=A2, C=S2)), {"A": MATRIX, "C": MATRIX},
          accepts={"C": ("none",)}, why="C=None means C = A"),
    Entry(LM + "lyapunov.trace_solve", lambda: (LA.trace_solve, dict(A=A2, X=S2)), {"A": MATRIX, "X": MATRIX}),
    Entry(LM + "lyapunov.spd_solve", lambda: (LA.spd_solve, dict(A=A2, X=[1.0, 2.0])), {"A": SPD, "X": VECTOR}),
    Entry(LM + "lyapunov.lyapunov_trace", lambda: (LA.lyapunov_trace, dict(P=A2, Q=S2)), {"P": MATRIX, "Q": MATRIX}),
    Entry(LM + "lyapunov.solve_lyapunov_A", lambda: (LA.solve_lyapunov_A, dict(P=A2, Q=S2)),
          {"P": MATRIX, "Q": MATRIX}),
    Entry(LM + "psd.psd_solve", lambda: (LA.psd_solve, dict(A=S2, b=[1.0, 2.0], rtol=1e-12)),
          {"A": PSD, "b": VECTOR, "rtol": NONNEG}),
    Entry(LM + "psd.psd_pinv", lambda: (LA.psd_pinv, dict(A=S2, rtol=1e-12)), {"A": PSD, "rtol": NONNEG}),
    Entry(LM + "psd.psd_rank", lambda: (LA.psd_rank, dict(A=S2, rtol=1e-12)), {"A": PSD, "rtol": NONNEG}),
    Entry(LM + "spectral.generalized_eigh", lambda: (LA.generalized_eigh, dict(H=A2, B=S2)), {"H": SYM, "B": SPD}),
    Entry(LM + "spectral.GeneralizedEigen.to_eigenbasis", lambda: (_eig().to_eigenbasis, dict(X=S2)), {"X": MATRIX}),
    Entry(LM + "spectral.GeneralizedEigen.from_eigenbasis", lambda: (_eig().from_eigenbasis, dict(Y=S2)),
          {"Y": MATRIX}),
    Entry(LM + "series.geometric_sum", lambda: (LA.geometric_sum, dict(n=np.array([1.0, 5.0]), ell=np.array([0.1, 2.0]))),
          {"n": COUNTS_ARRAY, "ell": RATE}, accepts={"n": ("empty",), "ell": ("empty", "inf")},
          why=_ELEMENTWISE + "; ell = +inf is a zero ratio (-inf is still refused by negative_entry)"),
    Entry(LM + "series.sum_sq_geometric",
          lambda: (LA.sum_sq_geometric, dict(k=np.array([1.0, 3000.0]), ell=np.array([0.1, 2.0]))),
          {"k": COUNTS_ARRAY, "ell": RATE}, accepts={"k": ("empty",), "ell": ("empty", "inf")},
          why=_ELEMENTWISE + "; ell = +inf is a zero ratio (-inf is still refused by negative_entry)"),
    Entry(LM + "series.log_abs_one_minus", lambda: (LA.log_abs_one_minus, dict(eps=np.array([0.5, 1.5]))),
          {"eps": ARRAY}, accepts={"eps": ("empty",)}, why=_ELEMENTWISE),
    Entry(LM + "series.log_gamma_ratio", lambda: (LA.log_gamma_ratio, dict(z=np.array([3.0, 20.0]), m=np.array([1.0, -2.0]))),
          {"z": POSITIVE_ENTRIES, "m": ARRAY}, accepts={"z": ("empty",), "m": ("empty",)}, why=_ELEMENTWISE),
    # -- memory guards --------------------------------------------------------------------------------------------
    Entry(LM + "memory.check_allocation",
          lambda: (LA.check_allocation, dict(what="a table", shape=(10, 10), itemsize=8, copies=2.0, cheaper="none")),
          {"shape": ARRAY, "itemsize": COUNT, "copies": POSITIVE},
          accepts={"shape": ("empty",)}, why="an empty shape is a 0-d array of one element"),
    Entry(LM + "memory.set_memory_limit", lambda: (_restoring(LA.set_memory_limit), dict(nbytes=2**40)),
          {"nbytes": POSITIVE}, accepts={"nbytes": ("none",)}, why="None restores the default limit"),
    Entry(LM + "memory.limit_memory", lambda: (_entered(LA.limit_memory), dict(nbytes=2**40)),
          {"nbytes": POSITIVE}, accepts={"nbytes": ("none",)}, why="None restores the default limit"),
    # -- the validators (the message names what the caller called the argument) ----------------------------------
    Entry(LM + "validation.real_array", lambda: (LA.real_array, dict(name="M", x=A2)), {"x": ARRAY},
          names={"x": "M"}, accepts={"x": ("nan", "inf", "empty")},
          why="real_array checks realness only; finiteness and size are as_array's"),
    Entry(LM + "validation.as_array", lambda: (LA.as_array, dict(name="M", x=[[1.0, 2.0]], shape=(None, 2))),
          {"x": VECTOR}, names={"x": "M"}),
    Entry(LM + "validation.as_matrix", lambda: (LA.as_matrix, dict(name="M", A=A2, n=2)), {"A": MATRIX},
          names={"A": "M"}),
    Entry(LM + "validation.as_symmetric", lambda: (LA.as_symmetric, dict(name="M", A=A2, n=2)), {"A": SYM},
          names={"A": "M"}),
    Entry(LM + "validation.as_vector", lambda: (LA.as_vector, dict(name="v", x=[1.0, 2.0], n=2)), {"x": VECTOR_1D},
          names={"x": "v"}),
    Entry(LM + "validation.as_float", lambda: (LA.as_float, dict(name="gamma", x=0.5)), {"x": REAL},
          names={"x": "gamma"}),
    Entry(LM + "validation.positive", lambda: (LA.positive, dict(name="dt", x=0.5)), {"x": POSITIVE},
          names={"x": "dt"}),
    Entry(LM + "validation.nonnegative", lambda: (LA.nonnegative, dict(name="beta", x=0.5)), {"x": NONNEG},
          names={"x": "beta"}),
    Entry(LM + "validation.as_int", lambda: (LA.as_int, dict(name="steps", x=3)), {"x": COUNT0},
          names={"x": "steps"}),
    Entry(LM + "validation.as_steps", lambda: (LA.as_steps, dict(k=3, name="steps")), {"k": STEPS},
          names={"k": "steps"}),
    Entry(LM + "validation.as_choice", lambda: (LA.as_choice, dict(name="method", x="a", choices=("a", "b"))),
          {"x": CHOICE}, names={"x": "method"}),
    Entry(LM + "validation.as_bool", lambda: (LA.as_bool, dict(name="check", x=True)), {"x": BOOL},
          names={"x": "check"}),
    Entry(LM + "validation.as_seed", lambda: (LA.as_seed, dict(name="seed", seed=3)), {"seed": SEED}),
    Entry(LM + "validation.as_labels", lambda: (LA.as_labels, dict(name="y", y=[0.0, 1.0, 1.0], classes=2, n=3)),
          {"y": LABELS}),
    Entry(LM + "validation.same_length", lambda: (_same_length, dict(a=np.zeros(3), b=np.ones(3))),
          {"a": ROWS, "b": ROWS}),
    Entry(LM + "validation.as_callable", lambda: (LA.as_callable, dict(name="f", f=abs)), {"f": CALLABLE}),
    Entry(LM + "validation.as_instance",
          lambda: (LA.as_instance, dict(name="rng", x=np.random.default_rng(0), cls=np.random.Generator)),
          {"x": OBJECT}, names={"x": "rng"}),
    Entry(LM + "validation.as_text", lambda: (LA.as_text, dict(name="family", x="tango")), {"x": TEXT},
          names={"x": "family"}),
    Entry(LM + "validation.check_definite", lambda: (LA.check_definite, dict(name="S", A=S2, semi=True)),
          {"A": PSD}, names={"A": "S"}),
    Entry(LM + "validation.check_semidefinite", lambda: (LA.check_semidefinite, dict(name="S", A=S2, slack=1e-12)),
          {"A": PSD, "slack": NONNEG}, names={"A": "S"}),
    # -- Monte Carlo ------------------------------------------------------------------------------------------------
    Entry(MM + "cluster.local_client", lambda: (_entered(MC.local_client), dict(n_workers=1)), {"n_workers": SIZE},
          heavy=True),
    Entry(MM + "engine.run_blocks",
          lambda: (MC.run_blocks, dict(simulate_block=lambda rng, n: rng.standard_normal((n, 1)), runs=16, seed=0,
                                       chunk_size=8, workers=1, progress=False, block_size=8, client=None)),
          {"simulate_block": CALLABLE, "runs": SIZE, "seed": SEED, "chunk_size": COUNT, "workers": COUNT,
           "progress": FLAG, "block_size": COUNT, "client": OBJECT},
          accepts={"chunk_size": ("none",), "workers": ("none",), "client": ("none",)},
          why="chunk_size=None and workers=None are the defaults; client=None runs on local threads"),
    Entry(MM + "engine.MonteCarloResult.ci", lambda: (_mc_result().ci, dict(level=0.9, method="normal")),
          {"level": UNIT, "method": CHOICE}),
    Entry(MM + "intervals.ConfidenceInterval.contains",
          lambda: (MC.normal_interval([1.0, 2.0], [0.1, 0.1], 10).contains, dict(value=[1.0, 2.0])),
          {"value": VECTOR}),
    Entry(MM + "intervals.normal_interval",
          lambda: (MC.normal_interval, dict(mean=[1.0, 2.0], stderr=[0.1, 0.2], runs=10, level=0.9)),
          {"mean": ARRAY + (EXTRA_AXIS,), "stderr": VECTOR, "runs": COUNT, "level": UNIT}),
    Entry(MM + "intervals.mom_interval",
          lambda: (MC.mom_interval, dict(block_means=_blocks()[0], block_counts=_blocks()[1], std=[1.0, 2.0], level=0.9)),
          {"block_means": ANY_MATRIX, "block_counts": BLOCK_COUNTS, "std": VECTOR, "level": UNIT}),
    Entry(MM + "intervals.bootstrap_interval",
          lambda: (MC.bootstrap_interval, dict(block_means=_blocks()[0], block_counts=_blocks()[1], level=0.9,
                                               resamples=50, seed=0)),
          {"block_means": ANY_MATRIX, "block_counts": BLOCK_COUNTS, "level": UNIT, "resamples": SIZE, "seed": SEED}),
    Entry(MM + "moments.StreamingMoments.from_batch",
          lambda: (MC.StreamingMoments.from_batch, dict(batch=[[1.0, 2.0], [3.0, 5.0]], name="batch")),
          {"batch": ANY_MATRIX}),
    Entry(MM + "moments.StreamingMoments.update", lambda: (MC.StreamingMoments().update, dict(batch=[[1.0, 2.0]])),
          {"batch": ANY_MATRIX}),
    Entry(MM + "moments.StreamingMoments.merge",
          lambda: (MC.StreamingMoments().merge, dict(other=MC.StreamingMoments.from_batch([[1.0]]))),
          {"other": OBJECT}),
    Entry(MM + "streams.block_count", lambda: (MC.block_count, dict(runs=10, block_size=4)),
          {"runs": COUNT, "block_size": COUNT}),
    Entry(MM + "streams.block_rng", lambda: (MC.block_rng, dict(seed=0, index=3)), {"seed": SEED, "index": COUNT0}),
    Entry(MM + "streams.iter_blocks", lambda: (MC.iter_blocks, dict(seed=0, runs=10, block_size=4)),
          {"seed": SEED, "runs": COUNT, "block_size": COUNT}),
    Entry(MM + "streams.resolve_chunk_size", lambda: (MC.resolve_chunk_size, dict(chunk_size=100, block_size=8)),
          {"chunk_size": COUNT, "block_size": COUNT}, accepts={"chunk_size": ("none",)},
          why="chunk_size=None is the default chunk"),
]

EXEMPT = [
    Exempt(LM + "spectral.GeneralizedEigen", _RECORD + " (by generalized_eigh)"),
    Exempt(MM + "engine.MonteCarloResult", _RECORD + " (by run_blocks)"),
    Exempt(MM + "intervals.ConfidenceInterval", _RECORD + " (by the interval functions)"),
    Exempt(MM + "streams.Block", _RECORD + " (yielded by iter_blocks)"),
    Exempt(LM + "validation.check_finite", "checks a result the toolkit computed (``where`` names the step), not "
                                           "user input"),
    Exempt(LM + "validation.squeeze_k", "reshapes a computed result by the k the caller passed (validated before)"),
]
