"""The progress of an EM run (``ConvergenceMonitor``), by its old import path.

The driver is ``_fit``, one pass over the data ``_pass``, the monitors
``_monitor``; this module keeps the names ``ConvergenceMonitor`` and
``normalise_log_responsibilities`` where other modules import them from.
"""

from ._monitor import ConvergenceMonitor
from ._pass import normalise_log_responsibilities

__all__ = ["ConvergenceMonitor", "normalise_log_responsibilities"]
