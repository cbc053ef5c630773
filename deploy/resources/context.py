"""What every resource module needs to know while the template is built."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BUCKET", "ENGINES", "STATE_MACHINE", "Context"]

ENGINES = ("builtin", "afd")
#: logical ids shared between modules
BUCKET = "DataBucket"
STATE_MACHINE = "PipelineStateMachine"


@dataclass(frozen=True)
class Context:
    """``engine``: ``builtin`` or ``afd`` (adds the Fraud Detector resources and permissions)."""

    engine: str = "builtin"

    @property
    def afd(self) -> bool:
        return self.engine == "afd"
