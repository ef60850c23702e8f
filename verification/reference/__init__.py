"""Independent slow routes used by the checks (never imported by ``theorytools``)."""
