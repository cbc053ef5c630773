"""Human review: local SQLite queue and pages, the A2I adapter, and labels from verdicts.

Public surface (see docs/api.md): settings, loops naming, the queue, the reviewers (local and
A2I), the use cases in :mod:`fraudpipe.review.service`, and the resume hooks for the local
runtime in :mod:`fraudpipe.review.resume`.
"""

from __future__ import annotations

from fraudpipe.review.labels import Label, LabelStore
from fraudpipe.review.queue import LoopItem, ReviewQueue
from fraudpipe.review.resume import (
    Resumption,
    mark_resumed,
    pending_resumptions,
    resume_ready,
    review_summary,
)
from fraudpipe.review.reviewers import LocalReviewer, LoopRequest, LoopResult, Reviewer
from fraudpipe.review.settings import ReviewSettings

__all__ = [
    "Label",
    "LabelStore",
    "LocalReviewer",
    "LoopItem",
    "LoopRequest",
    "LoopResult",
    "Resumption",
    "ReviewQueue",
    "ReviewSettings",
    "Reviewer",
    "mark_resumed",
    "pending_resumptions",
    "resume_ready",
    "review_summary",
]
