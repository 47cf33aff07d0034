"""What a model can do, read from the one place LiteLLM keeps it: ``litellm.model_cost``.

The catalog seeds it (``register_catalog``), live discovery updates it (``apply``), the user's own
``litellm.register_model`` / proxy ``model_info`` entries override it, and the tool gating only
reads it. When LiteLLM replaces ``model_cost`` wholesale (a cost-map reload), the last known
facts are served from here and written back, so nothing the user did is needed to recover.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Any, Dict, Iterable, Iterator, Mapping, Optional, Sequence

import litellm

from . import catalog

PROVIDER = catalog.PROVIDER
# Re-entrant, and _busy marks a registration in progress: LiteLLM's register_model asks our
# config for its params, which reads model info again.
_lock = threading.RLock()
_busy = threading.local()
# Our last known entry per "compactifai/<id>": the catalog, then live discovery on top.
_known: Dict[str, Dict[str, Any]] = {}


class _QuietRegistration(logging.Filter):
    # LiteLLM >= 1.100 warns once per model registered without cache prices; CompactifAI
    # publishes none, so the warning says nothing the user can act on.
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(f"register_model: model={PROVIDER}/")


_quiet = _QuietRegistration()


@contextmanager
def _quiet_litellm() -> Iterator[None]:
    logger = logging.getLogger("LiteLLM")
    logger.addFilter(_quiet)
    try:
        yield
    finally:
        logger.removeFilter(_quiet)


def _register(entries: Mapping[str, Mapping[str, Any]]) -> None:
    _busy.active = True
    try:
        with _quiet_litellm():
            litellm.register_model({k: dict(v) for k, v in entries.items()})
    finally:
        _busy.active = False


def _key(model: str) -> str:
    return model if model.startswith(PROVIDER + "/") else f"{PROVIDER}/{model}"


def info(model: str) -> Optional[Mapping[str, Any]]:
    """LiteLLM's model info entry for ``model`` (self-healing after a cost-map reload)."""
    key = _key(model)
    entry = litellm.model_cost.get(key)
    if entry is not None:
        return entry  # type: ignore[no-any-return]
    known = _known.get(key)
    if known is not None and not getattr(_busy, "active", False):
        _restore()
    return known


# Bare ids this process has sent to CompactifAI, for LiteLLM helpers that see no provider prefix.
_seen: set[str] = set()


def note_model(model: str) -> None:
    if model not in _seen:
        _seen.add(model)


def is_compactifai_model(model: str) -> bool:
    """A ``compactifai/`` name, or a bare id LiteLLM knows (or we sent) as a CompactifAI model."""
    if model.startswith(PROVIDER + "/") or model in _seen:
        return True
    entry = litellm.model_cost.get(f"{PROVIDER}/{model}") or _known.get(f"{PROVIDER}/{model}") or {}
    return bool(entry.get("litellm_provider") == PROVIDER)


def supports_tools(model: str) -> Optional[bool]:
    """True/False where LiteLLM's model info says so; None for a model nobody has described."""
    entry = info(model)
    if entry is None:
        return None
    value = entry.get("supports_function_calling")
    return None if value is None else bool(value)


def supports_reasoning(model: str) -> Optional[bool]:
    """True/False where LiteLLM's model info says so; None for a model nobody has described."""
    entry = info(model)
    if entry is None or entry.get("supports_reasoning") is None:
        return None
    return bool(entry["supports_reasoning"])


def tool_capable_models(limit: int = 4) -> Sequence[str]:
    """Available models LiteLLM knows as tool-capable: bundled suggestions first, then discovered ones."""
    names = [m for m in catalog.tool_capable() if supports_tools(m)]
    for key, entry in list(litellm.model_cost.items()):
        if key.startswith(PROVIDER + "/") and entry.get("supports_function_calling"):
            model = key[len(PROVIDER) + 1 :]
            record = catalog.get(model)
            if model not in names and (record is None or record.status == "available"):
                names.append(model)
    return names[:limit]


def no_tools_message(model: str, params: Iterable[str]) -> str:
    alternatives = ", ".join(f"compactifai/{m}" for m in tool_capable_models()) or "none known"
    return (
        f"CompactifAI model '{model}' does not support tool calling, so {sorted(params)} cannot be "
        f"sent to it. Use a tool-capable model ({alternatives}), remove the tool parameters, or pass "
        "drop_params=True to drop them and send the call without tools."
    )


def register_catalog() -> None:
    """Feed the bundled catalog into LiteLLM's model info, under what the user registered already."""
    entries = catalog.model_cost_entries()
    with _lock:
        for key, entry in entries.items():
            _known[key] = {**entry, **_known.get(key, {})}
        _register_under_existing(entries)


def apply(entries: Mapping[str, Mapping[str, Any]]) -> None:
    """Live facts from ``GET /v1/models``: they replace the catalog's, not the user's own entries.

    A field whose current value differs from what we registered last was set by the user
    (``register_model``, proxy ``model_info``) and is kept.
    """
    with _lock:
        update = {}
        for key, entry in entries.items():
            previous = _known.get(key, {})
            current = litellm.model_cost.get(key) or {}
            user_set = {f: v for f, v in current.items() if f in entry and (f not in previous or previous[f] != v)}
            _known[key] = {**previous, **entry}
            update[key] = {**entry, **user_set}
        _register(update)


def carry_over(previous: Mapping[str, Any], new: Dict[str, Any]) -> None:
    """A replacement ``model_cost`` keeps every compactifai/* entry the old one had (the catalog,
    live facts and the user's own overrides); entries the new map defines win field by field."""
    prefix = PROVIDER + "/"
    with _lock:
        for key, entry in list(previous.items()):
            if key.startswith(prefix) and isinstance(entry, dict):
                new[key] = {**entry, **(new.get(key) or {})}


def _register_under_existing(entries: Mapping[str, Mapping[str, Any]]) -> None:
    merged = {}
    for key, entry in entries.items():
        existing = litellm.model_cost.get(key) or {}
        merged[key] = {**entry, **existing}
    _register(merged)


def _restore() -> None:
    with _lock:
        missing = {k: v for k, v in _known.items() if k not in litellm.model_cost}
        if missing:
            _register(missing)
