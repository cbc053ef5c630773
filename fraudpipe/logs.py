"""Logging for handlers and workers: structured JSON (powertools), never card numbers or names.

Why a filter as well as care: handlers log ids and counts only, but an exception message may
quote a row. The filter masks anything shaped like a card number before a record is emitted.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aws_lambda_powertools import Logger

__all__ = ["RedactingFilter", "get_logger", "redact"]

_CARD = re.compile(r"(?<!\d)\d{12,19}(?!\d)")
_SENSITIVE_KEYS = {"cc_num", "first", "last", "street", "dob", "ENTITY_ID"}


def redact(value: Any) -> Any:
    """Mask card-number-like digit runs in strings and sensitive keys in dicts (recursively)."""
    if isinstance(value, str):
        return _CARD.sub("****", value)
    if isinstance(value, dict):
        return {k: ("****" if k in _SENSITIVE_KEYS else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Masks card numbers in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, (str, dict)):
            record.msg = redact(record.msg)
        if record.args:
            record.args = tuple(redact(a) for a in record.args)  # type: ignore[assignment]
        return True


_LOGGER: Logger | None = None


def get_logger(name: str) -> Logger:
    """The shared powertools Logger (service ``fraudpipe``), keyed with ``state=name``.

    Powertools loggers of one service share one formatter, so a per-state key must be set per
    invocation and per thread: :func:`fraudpipe.handler.state_logger` does that.
    """
    global _LOGGER
    if _LOGGER is None:
        _LOGGER = Logger(service="fraudpipe")
        _LOGGER._logger.addFilter(RedactingFilter())
    _LOGGER.thread_safe_append_keys(state=name)
    return _LOGGER
