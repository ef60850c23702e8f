"""Verification suite: checks (deterministic, statistical, convergence-order, measured), verdict
statistics with run-wide error control, reports and the ``theorytools-verify`` command."""

from verification.audit import Step, proof
from verification.errata import Certificate, Erratum, Reading
from verification.registry import CHECKS, check, select
from verification.runner import holm, run_checks
from verification.verdict import Verdict

__all__ = ["CHECKS", "check", "select", "run_checks", "holm", "Verdict", "Erratum", "Certificate", "Reading", "proof", "Step"]
