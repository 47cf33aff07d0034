"""Live model discovery: ``GET /v1/models`` -> LiteLLM's model info.

CompactifAI adds and retires models without notice and has changed tool support over time, so
the live list wins over the bundled catalog (but not over the user's own entries, see
capabilities.apply). A failed refresh raises and leaves what LiteLLM knew untouched.
"""

from __future__ import annotations

import ssl
from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional, Tuple

import httpx
import litellm

from . import capabilities, catalog, errors, settings

PROVIDER = settings.PROVIDER
DEFAULT_TIMEOUT = 30.0

# /v1/models capability keys -> LiteLLM model info keys.
_CAPABILITY_KEYS = {
    "supports_function_calling": ("supports_function_calling", "supports_tool_choice"),
    "supports_reasoning": ("supports_reasoning",),
    "supports_vision": ("supports_vision",),
    "supports_response_schema": ("supports_response_schema",),
}


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    # Building a verified TLS context costs ~20 ms; one serves every refresh.
    return httpx.create_ssl_context()


def _request(api_key: Optional[str], api_base: Optional[str]) -> Tuple[str, Dict[str, str]]:
    key = settings.resolve_api_key(api_key)
    base = settings.resolve_api_base(api_base)
    return f"{base}/models", {"Authorization": f"Bearer {key}", "Accept": "application/json"}


def _connection_error(url: str, exc: Exception) -> Exception:
    if isinstance(exc, httpx.TimeoutException):
        return litellm.Timeout(
            message=f"CompactifAI did not answer GET {url} in time ({type(exc).__name__}). Raise timeout= or retry.",
            model="",
            llm_provider=PROVIDER,
        )
    return litellm.APIConnectionError(
        message=(
            f"Could not reach CompactifAI at {url} ({type(exc).__name__}: {exc}). Check api_base / "
            f"{settings.API_BASE_ENV} and the network."
        ),
        llm_provider=PROVIDER,
        model="",
    )


def _models(response: httpx.Response) -> List[Mapping[str, Any]]:
    if response.status_code >= 400:
        raise errors.exception_for(response.status_code, response.text, response.headers)
    try:
        data = response.json()["data"]
    except (ValueError, KeyError, TypeError):
        raise errors.malformed_response(f"GET /v1/models gave {response.text[:120]!r}", response.headers) from None
    return [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]


def model_info_entry(model: Mapping[str, Any]) -> Dict[str, Any]:
    """LiteLLM model info for one ``/v1/models`` object: only the facts the server states."""
    entry: Dict[str, Any] = {"litellm_provider": PROVIDER, "mode": "chat"}
    record = catalog.get(model["id"])
    if record is not None:
        entry["mode"] = record.mode
    caps = model.get("capabilities")
    if isinstance(caps, Mapping):
        for live_key, info_keys in _CAPABILITY_KEYS.items():
            if isinstance(caps.get(live_key), bool):
                for info_key in info_keys:
                    entry[info_key] = caps[live_key]
    window = model.get("context_window") or model.get("max_model_len")
    if isinstance(window, int) and window > 0:
        entry["max_input_tokens"] = window
        entry["max_tokens"] = window
    return entry


def list_model_ids(
    api_key: Optional[str] = None, api_base: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT
) -> List[str]:
    """The ids ``GET /v1/models`` lists now. Raises a LiteLLM exception on any failure."""
    url, headers = _request(api_key, api_base)
    return [m["id"] for m in _fetch(url, headers, timeout)]


def _fetch(url: str, headers: Dict[str, str], timeout: float) -> List[Mapping[str, Any]]:
    try:
        with httpx.Client(timeout=timeout, verify=_tls()) as client:
            response = client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise _connection_error(url, exc) from None
    return _models(response)


async def _afetch(url: str, headers: Dict[str, str], timeout: float) -> List[Mapping[str, Any]]:
    try:
        async with httpx.AsyncClient(timeout=timeout, verify=_tls()) as client:
            response = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise _connection_error(url, exc) from None
    return _models(response)


def _apply(models: List[Mapping[str, Any]]) -> List[str]:
    capabilities.apply({f"{PROVIDER}/{m['id']}": model_info_entry(m) for m in models})
    return [m["id"] for m in models]


def refresh_models(
    api_key: Optional[str] = None, api_base: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT
) -> List[str]:
    """Read ``GET /v1/models`` and update LiteLLM's model info; returns the live model ids.

    A model the catalog never heard of gets its tool support from
    ``capabilities.supports_function_calling``, so the tool gating applies to it; a catalog model
    whose live flag differs takes the live value. Raises ``AuthenticationError`` (no or bad key),
    ``APIConnectionError`` (unreachable base), ``Timeout`` or the mapped HTTP error, changing nothing.
    """
    url, headers = _request(api_key, api_base)
    return _apply(_fetch(url, headers, timeout))


async def arefresh_models(
    api_key: Optional[str] = None, api_base: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT
) -> List[str]:
    """The async twin of ``refresh_models``."""
    url, headers = _request(api_key, api_base)
    return _apply(await _afetch(url, headers, timeout))
