"""The review section of an execution input, typed.

Why a class: the band (inclusive on both ends), the item cap and the wait timeout are read by
StartHumanReview, CollectVerdicts, the realtime API and the batch-candidate selection; parsing them
once keeps the defaults (700-900, 100 items, 3600 s) in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["DEFAULT_MAX", "DEFAULT_MIN", "ReviewSettings"]

DEFAULT_MIN = 700.0
DEFAULT_MAX = 900.0


@dataclass(frozen=True)
class ReviewSettings:
    """Whether and how scores are sent to a human."""

    enabled: bool = True
    min: float = DEFAULT_MIN
    max: float = DEFAULT_MAX
    wait: bool = False
    timeout_seconds: int = 3600
    max_items: int = 100

    @classmethod
    def from_input(cls, execution_input: dict[str, Any] | None) -> ReviewSettings:
        """Read ``input["review"]`` (missing keys take the defaults)."""
        raw = (execution_input or {}).get("review") or {}
        if not isinstance(raw, dict):
            raise TypeError(f"review must be an object, not {type(raw).__name__}")
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw and raw[k] is not None}
        settings = cls(**known)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse a band or cap that can never work, naming the field."""
        if self.min > self.max:
            raise ValueError(f"review.min ({self.min}) is above review.max ({self.max})")
        if self.max_items < 0:
            raise ValueError(f"review.max_items must be >= 0, not {self.max_items}")
        if self.timeout_seconds <= 0:
            raise ValueError(f"review.timeout_seconds must be > 0, not {self.timeout_seconds}")

    def in_band(self, score: float) -> bool:
        """True when ``score`` lies in the review band (both ends included)."""
        return self.min <= score <= self.max

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
