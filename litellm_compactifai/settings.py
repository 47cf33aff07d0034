"""Where the key and the base URL come from, and nothing else.

Only ``api_key=`` or ``COMPACTIFAI_API_KEY``: never ``litellm.api_key``, ``OPENAI_API_KEY`` or any
other provider's key, so a CompactifAI call can't leak another provider's secret.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Optional
from urllib.parse import urlsplit

import litellm

PROVIDER = "compactifai"
API_KEY_ENV = "COMPACTIFAI_API_KEY"
API_BASE_ENV = "COMPACTIFAI_API_BASE"
DEFAULT_API_BASE = "https://api.compactif.ai/v1"


def env_api_key() -> Optional[str]:
    return os.environ.get(API_KEY_ENV) or None


def resolve_api_key(api_key: Optional[str] = None, *, model: str = "") -> str:
    """The key for a call: ``api_key`` if given, else ``COMPACTIFAI_API_KEY``.

    Raises ``litellm.AuthenticationError`` (before any request) when neither is set or the key is blank.
    """
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if key is None or not key.strip():
        where = "api_key= is empty" if api_key is not None else f"{API_KEY_ENV} is not set"
        raise litellm.AuthenticationError(
            message=(
                f"CompactifAI needs an API key and {where}. Pass api_key=... or set "
                f"{API_KEY_ENV} (keys come from the CompactifAI Dashboard). Other providers' keys, "
                "such as OPENAI_API_KEY or litellm.api_key, are never sent to CompactifAI."
            ),
            llm_provider=PROVIDER,
            model=model,
        )
    return key.strip()


def resolve_api_base(api_base: Optional[str] = None, *, model: str = "") -> str:
    """The base URL: ``api_base`` if given, else ``COMPACTIFAI_API_BASE``, else the public API.

    Raises ``litellm.BadRequestError`` naming the setting when the URL is not http(s)://host[...].
    """
    if api_base and api_base.strip():
        return _checked_base(api_base, "api_base", model)
    env = os.environ.get(API_BASE_ENV)
    if env and env.strip():
        return _checked_base(env, API_BASE_ENV, model)
    return DEFAULT_API_BASE


@lru_cache(maxsize=64)
def _validated(base: str) -> Optional[str]:
    parts = urlsplit(base.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return base.strip().rstrip("/")


def _checked_base(base: str, setting: str, model: str) -> str:
    valid = _validated(base)
    if valid is None:
        raise litellm.BadRequestError(
            message=(
                f"{setting}={base!r} is not a usable CompactifAI base URL: expected "
                f"http(s)://host[:port]/v1, for example {DEFAULT_API_BASE}."
            ),
            model=model,
            llm_provider=PROVIDER,
        )
    return valid
