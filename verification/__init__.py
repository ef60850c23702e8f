"""Verification suite: checks (deterministic, statistical, convergence-order, measured), verdict
statistics with run-wide error control, reports and the ``theorytools-verify`` command; the hunt for the worst case
of a bound (:mod:`verification.hunt`)."""

from verification.audit import Step, proof
from verification.errata import Certificate, Erratum, Reading
from verification.hunt import Integer, LogInteger, LogReal, Real, bound
from verification.registry import CHECKS, check, select
from verification.runner import holm, run_checks
from verification.verdict import Verdict

__all__ = ["CHECKS", "check", "select", "run_checks", "holm", "Verdict", "Erratum", "Certificate", "Reading", "proof",
           "Step", "bound", "Real", "LogReal", "Integer", "LogInteger"]
