"""Shared test setup: offline, no real keys, and a sentinel OpenAI key that must never reach CompactifAI."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ.setdefault("LITELLM_LOG", "ERROR")
for _name in ("COMPACTIFAI_API_KEY", "COMPACTIFAI_API_BASE"):
    os.environ.pop(_name, None)

import litellm  # noqa: E402
import pytest  # noqa: E402

import litellm_compactifai  # noqa: E402,F401

# respx patches httpx; LiteLLM >= 1.7x sends async calls through aiohttp unless told not to.
litellm.disable_aiohttp_transport = True


def _avoid_logging_worker_hang() -> None:
    """LiteLLM 1.7x's LoggingWorker runs each success callback under ``asyncio.wait_for``, which on
    Python <= 3.11 can swallow the cancellation ``asyncio.run`` sends at shutdown when a callback
    finishes at that moment (CPython gh-86296): ``asyncio.run`` then never returns (LiteLLM issues
    #14521, #16518; seen here with concurrent ``acompletion`` calls on 1.76.3). Later releases
    rewrote the worker. The tests call ``asyncio.run`` often, so on the affected combination the
    callbacks run as plain tasks; the route itself is not involved."""
    try:
        from litellm.litellm_core_utils import logging_worker
    except ImportError:  # LiteLLM 1.67: no worker
        return
    worker = getattr(logging_worker, "GLOBAL_LOGGING_WORKER", None)
    if worker is None or hasattr(worker, "_process_log_task") or sys.version_info >= (3, 12):
        return

    def enqueue(async_coroutine: Any) -> None:
        asyncio.get_running_loop().create_task(async_coroutine)

    worker.ensure_initialized_and_enqueue = enqueue


_avoid_logging_worker_hang()

OPENAI_SENTINEL = "sk-openai-sentinel-must-not-leak"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPACTIFAI_API_KEY", raising=False)
    monkeypatch.delenv("COMPACTIFAI_API_BASE", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_SENTINEL)
    monkeypatch.setattr(litellm, "api_key", OPENAI_SENTINEL)
    monkeypatch.setattr(litellm, "drop_params", False)
