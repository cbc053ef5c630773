"""AFD's model-version numbering and status rules, as pure functions.

Numbering (as in the seed walkthrough): ``create`` starts the next major version, ``"1.0"``,
``"2.0"``...; ``update`` of major ``M`` retrains it into the next minor version of that major,
``"M.0.1"``, ``"M.0.2"``... Statuses of a model version::

    TRAINING_IN_PROGRESS -> TRAINING_COMPLETE -> ACTIVE <-> INACTIVE
                         -> ERROR (with a reason)
                         -> TRAINING_CANCELLED

Detector versions: DRAFT -> ACTIVE <-> INACTIVE, at most one ACTIVE per detector.
"""

from __future__ import annotations

from fraudpipe.errors import ResourceNotFoundError, StatusTransitionError

__all__ = [
    "DETECTOR_TRANSITIONS",
    "MODEL_TRANSITIONS",
    "check_transition",
    "major_of",
    "next_major",
    "next_minor",
    "parse_major",
]

TRAINING_IN_PROGRESS = "TRAINING_IN_PROGRESS"
TRAINING_COMPLETE = "TRAINING_COMPLETE"
ACTIVE, INACTIVE, ERROR = "ACTIVE", "INACTIVE", "ERROR"
TRAINING_CANCELLED = "TRAINING_CANCELLED"
DRAFT = "DRAFT"

#: Status changes a caller may ask for (the engine itself moves training to COMPLETE / ERROR).
MODEL_TRANSITIONS = {
    TRAINING_IN_PROGRESS: {TRAINING_CANCELLED},
    TRAINING_COMPLETE: {ACTIVE, INACTIVE},
    ACTIVE: {INACTIVE},
    INACTIVE: {ACTIVE},
}
DETECTOR_TRANSITIONS = {DRAFT: {ACTIVE, INACTIVE}, ACTIVE: {INACTIVE}, INACTIVE: {ACTIVE}}


def major_of(version: str) -> int:
    return int(version.split(".")[0])


def parse_major(value: str | int) -> int:
    """``"1"``, ``"1.0"`` or ``1`` -> 1 (the major an ``update`` retrains)."""
    text = str(value).strip()
    head, _, rest = text.partition(".")
    if not head.isdigit() or rest not in ("", "0") or int(head) < 1:
        raise ValueError(f"a major model version looks like '1' or '1.0', not {value!r}")
    return int(head)


def next_major(existing: list[str]) -> str:
    """The version ``create`` makes: one past the highest major."""
    majors = [major_of(v) for v in existing]
    return f"{max(majors, default=0) + 1}.0"


def next_minor(existing: list[str], major: int) -> str:
    """The version ``update`` of ``major`` makes; the major must exist."""
    if f"{major}.0" not in existing:
        raise ResourceNotFoundError(
            f"model version {major}.0 does not exist, so it cannot be updated"
        )
    minors = [int(v.split(".")[2]) for v in existing if v.startswith(f"{major}.0.")]
    return f"{major}.0.{max(minors, default=0) + 1}"


def check_transition(kind: str, name: str, current: str, wanted: str) -> None:
    """Raise StatusTransitionError unless ``current -> wanted`` is allowed."""
    table = MODEL_TRANSITIONS if kind == "model" else DETECTOR_TRANSITIONS
    if current == wanted:
        return
    if wanted not in table.get(current, set()):
        raise StatusTransitionError(
            f"{kind} version {name} cannot change status from {current} to {wanted}"
        )
