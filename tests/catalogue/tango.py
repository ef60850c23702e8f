"""Catalogue entries of ``theorytools.tango`` (see :mod:`catalogue`)."""

from __future__ import annotations

from catalogue import Entry
from catalogue.kinds import OBJECT, VECTOR, VECTOR_1D, ARRAY, POSITIVE, REAL

from theorytools import tango as T

ENTRIES = [
    Entry("theorytools.tango.models.GaussianModel", lambda: (T.GaussianModel, dict(data_mean=10.0, data_std=1.0)),
          {"data_mean": REAL, "data_std": POSITIVE}),
    Entry("theorytools.tango.ode.natural_gradient_flow",
          lambda: (T.natural_gradient_flow, dict(model=T.GaussianModel(10.0, 1.0), theta0=[0.0, 0.0], t=[0.0, 1.0])),
          {"model": OBJECT, "theta0": VECTOR_1D, "t": ARRAY}),
]
EXEMPT = []
