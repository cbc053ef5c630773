"""Human-loop names and verdicts.

A2I loop names must match ``^[a-z0-9](-*[a-z0-9])*$`` and be at most 63 characters, and be unique
in the account and region. A batch loop is named after its execution and event, so a retried
StartHumanReview finds the loop it already started instead of starting a second one; a hash
suffix keeps two long names that share a truncated prefix apart.
"""

from __future__ import annotations

import hashlib
import re
import uuid

__all__ = [
    "A2I_ANSWERS",
    "VERDICTS",
    "batch_loop_name",
    "realtime_loop_name",
    "sanitize",
    "verdict_label",
]

MAX_LEN = 63
_BAD = re.compile(r"[^a-z0-9]+")

#: The verdicts a reviewer can give, and the training label each one becomes.
VERDICTS: dict[str, str | None] = {"fraud": "fraud", "legit": "legit", "escalate": None}
#: The answers of the A2I worker template, mapped to verdicts.
A2I_ANSWERS: dict[str, str] = {
    "fraudulent": "fraud",
    "valid": "legit",
    "needs further review": "escalate",
    "needs_further_review": "escalate",
    "needs-further-review": "escalate",
}


def sanitize(text: str) -> str:
    """Lowercase, runs of other characters collapsed to one ``-``, no leading/trailing dash."""
    return _BAD.sub("-", text.lower()).strip("-")


def _fit(prefix: str, digest_source: str) -> str:
    digest = hashlib.sha1(digest_source.encode()).hexdigest()[:8]
    head = sanitize(prefix)[: MAX_LEN - len(digest) - 1].strip("-")
    return f"{head}-{digest}" if head else f"loop-{digest}"


def batch_loop_name(execution_name: str, event_id: str) -> str:
    """Deterministic loop name for one event of one execution."""
    return _fit(f"{execution_name}-{event_id}", f"{execution_name}\0{event_id}")


def realtime_loop_name(event_id: str) -> str:
    """A fresh loop name for a realtime request (the same event may be scored twice)."""
    unique = uuid.uuid4().hex
    return _fit(f"rt-{event_id}", unique)


def verdict_label(verdict: str) -> str | None:
    """The training label a verdict becomes (``None`` for escalate); refuses unknown verdicts."""
    try:
        return VERDICTS[verdict]
    except KeyError:
        raise ValueError(
            f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}"
        ) from None
