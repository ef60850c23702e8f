"""Checks of the Monte Carlo engine itself (``theorytools.montecarlo``), the deterministic twins of the
statistical self-calibration checks: every statistical verdict trusts the engine's mean, standard
error and skewness, and the independence of its block streams."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

import theorytools.montecarlo as MC
from verification.registry import check
from verification.verdict import FAIL, PASS, Verdict


@dataclass(frozen=True)
class EngineCase:
    name: str
    runs: int
    m: int
    seed: int
    chunk_blocks: int


def _cases(profile, seed):
    # Runs not a multiple of the block size (a short last block); chunks of 1 and 3 blocks.
    return [EngineCase(f"{runs} runs, {m} quantities, chunks of {cb} blocks", runs, m, 1000 * seed + i, cb)
            for i, (runs, m, cb) in enumerate(((5 * MC.BLOCK + 37, 3, 1), (8 * MC.BLOCK, 2, 3)))]


def _draws(rng, nruns, m):
    # Skewed and shifted (chi^2(1)-like plus an offset), so mean, spread and skewness are all exercised.
    return 1e3 + rng.standard_normal((nruns, m)) ** 2 * np.arange(1.0, m + 1.0)


@check(source="theorytools.montecarlo: run_blocks, StreamingMoments (Chan et al. 1983, Pebay 2008), block streams",
       family="montecarlo", kind="deterministic", hypotheses="none",
       rule="run_blocks' mean, std (ddof 1), stderr = std/sqrt(runs), skewness and block means == numpy on the same "
            "draws regenerated block by block with block_rng, to 1e-12 relative (skewness 1e-10); the blocks' streams are "
            "pairwise distinct",
       instances=_cases)
def engine_matches_numpy(case, rng):
    res = MC.run_blocks(lambda r, nruns: _draws(r, nruns, case.m), case.runs, case.seed,
                        chunk_size=case.chunk_blocks * MC.BLOCK, progress=False)
    nblocks = -(-case.runs // MC.BLOCK)
    blocks = [_draws(MC.block_rng(case.seed, b), min(MC.BLOCK, case.runs - b * MC.BLOCK), case.m) for b in range(nblocks)]
    x = np.concatenate(blocks)
    firsts = {blk[0, 0] for blk in blocks}
    if len(firsts) != nblocks:
        return Verdict(FAIL, "deterministic", f"only {len(firsts)} distinct streams among {nblocks} blocks: runs are not independent")
    std = x.std(axis=0, ddof=1)
    pairs = [(res.mean, x.mean(axis=0), "mean"), (res.std, std, "std"), (res.stderr, std / np.sqrt(x.shape[0]), "stderr"),
             (res.skewness, stats.skew(x, axis=0), "skewness"), (res.block_means, [b.mean(axis=0) for b in blocks], "block means"),
             ([res.runs], [x.shape[0]], "runs")]
    for got, ref, what in pairs:
        # Deviations from a mean of 1e3 carry an absolute rounding error ~1e3 eps = 2e-13 each; the skewness cubes
        # them (measured up to 4e-12 relative over 10 seeds), so it gets 1e-10; a wrong normalization is >= 1e-4.
        v = Verdict.close(got, ref, rtol=1e-10 if what == "skewness" else 1e-12, what=what)
        if v.failed:
            return v
    return Verdict(PASS, "deterministic", "mean, std, stderr (1e-12), skewness (1e-10), block means and runs agree with numpy; "
                   f"{nblocks} distinct block streams", {"blocks": nblocks})
