"""One OpenMP thread for realtime scoring.

A realtime request scores one event. With OpenMP's default (all cores) LightGBM wakes every
thread for a one-row prediction, which on a busy 2-core machine cost 1.5-9 ms instead of
0.1-0.3 ms per call. The limit applies to the calling thread, which is the thread that scores:
the event loop of ``fraudpipe serve`` (the predict routes are ``async``) or the Lambda handler.
Batch jobs and trainings run in other threads or processes and keep all cores.
"""

from __future__ import annotations

import logging

__all__ = ["single_threaded_scoring"]

log = logging.getLogger(__name__)


def single_threaded_scoring() -> bool:
    """Limit OpenMP to one thread in the calling thread; False if it could not be done."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - shipped with scikit-learn, a dependency
        log.warning("threadpoolctl is missing: realtime scoring keeps OpenMP's default threads")
        return False
    threadpool_limits(limits=1, user_api="openmp")
    return True
