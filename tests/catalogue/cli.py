"""Catalogue entries (see :mod:`catalogue`)."""

ENTRIES = []
EXEMPT = []
