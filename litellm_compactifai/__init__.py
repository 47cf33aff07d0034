"""litellm-compactifai: CompactifAI as a first-class LiteLLM provider.

    import litellm, litellm_compactifai   # registers compactifai/* (idempotent)
    litellm.completion(model="compactifai/cai-mistral-small-3-1-slim", messages=[...])

Key from ``api_key=`` or ``COMPACTIFAI_API_KEY``; base from ``api_base=``, ``COMPACTIFAI_API_BASE``,
else https://api.compactif.ai/v1.
"""

from __future__ import annotations

import os as _os
import sys as _sys

if _os.path.basename(_sys.argv[0] if _sys.argv else "") == "litellm-compactifai":
    # The CLI works offline: keep LiteLLM from downloading its cost map when it is first imported.
    _os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from .catalog import CATALOG, ModelRecord
from .config import CompactifAIChatConfig
from .discovery import arefresh_models, refresh_models
from .registration import has_builtin_provider, register, registration_path
from .settings import API_BASE_ENV, API_KEY_ENV, DEFAULT_API_BASE

__version__ = "0.1.0"

__all__ = [
    "API_BASE_ENV",
    "API_KEY_ENV",
    "CATALOG",
    "DEFAULT_API_BASE",
    "CompactifAIChatConfig",
    "ModelRecord",
    "arefresh_models",
    "has_builtin_provider",
    "refresh_models",
    "register",
    "registration_path",
]

register()
