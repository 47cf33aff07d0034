"""Keeping API keys out of LiteLLM's debug logs.

With ``litellm._turn_on_debug()`` (or the proxy's ``--detailed_debug``) some LiteLLM releases log
the arguments of every call, ``api_key=...`` and ``Authorization: Bearer ...`` included. The filter
masks every key-shaped value in those records to its last 4 characters. It only runs for records
that are emitted, so with debug logging off it costs nothing.
"""

from __future__ import annotations

import logging
import re

_KEY = r"[A-Za-z0-9_\-\.~+/=]{8,}"
_PATTERNS = (
    # api_key='...', "api_key": "...", api_key=..., dynamic_api_key=..., apikey: ...
    re.compile(r"""((?:api[_-]?key|apikey)['"]?\s*[:=]\s*['"]?)(""" + _KEY + ")", re.IGNORECASE),
    # Authorization: Bearer ..., 'Authorization': 'Bearer ...'
    re.compile(r"""(bearer\s+)(""" + _KEY + ")", re.IGNORECASE),
)


def mask(text: str) -> str:
    """``text`` with every key-shaped value after ``api_key``/``Bearer`` cut to ``****`` + last 4."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}****{m.group(2)[-4:]}", text)
    return text


def mask_secret(value: object) -> object:
    """A key (or ``Bearer <key>``) as ``****`` + its last 4 characters; other values unchanged."""
    if not isinstance(value, str) or len(value) < 8:
        return value
    prefix = "Bearer " if value.lower().startswith("bearer ") else ""
    return f"{prefix}****{value[-4:]}"


class RedactKeys(logging.Filter):
    """A logging filter that rewrites each record's message with ``mask``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is LiteLLM's to report, not ours
            return True
        masked = mask(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True
