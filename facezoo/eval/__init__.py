"""facezoo evaluation: metrics (`facezoo.eval.metrics`), paper-table reports (`facezoo.eval.report`) and the
``python -m facezoo.eval <name>|all`` command that regenerates ``docs/results``.

Only the light modules are imported here; each evaluation (``facezoo.eval.facefeat`` …) is imported on demand.
"""

from facezoo.eval.metrics import *  # noqa: F401,F403 — the metrics are this package's public API
from facezoo.eval.metrics import __all__ as _metrics_all
from facezoo.eval.report import Report

__all__ = [*_metrics_all, "Report"]
