"""What a LiteLLM proxy config names so that every worker process loads this package.

    litellm_settings:
      success_callback: ["litellm_compactifai.proxy.handler"]

Each proxy worker runs ``load_config`` on startup and resolves that dotted name with
``importlib.import_module`` (LiteLLM 1.67.4.post1 - 1.106.x), which imports ``litellm_compactifai``
and so registers ``compactifai/*`` and its tool gating in that worker, before ``model_list``
builds the Router. ``handler`` itself does nothing per request (every ``CustomLogger`` hook is
left as the base class's no-op). ``callbacks:`` works too on LiteLLM >= 1.77, but on 1.67 and 1.76
LiteLLM resolves ``callbacks:`` names only as files next to the config (see docs/proxy.md).
"""

from __future__ import annotations

import os

from litellm.integrations.custom_logger import CustomLogger

from .registration import register, registration_path

__all__ = ["CompactifAIProxyLoader", "handler"]


class CompactifAIProxyLoader(CustomLogger):
    """A callback with no per-request work: naming it in a proxy config imports the package.

    Its ``repr`` is what the proxy prints at startup ("Initialized Success Callbacks - [...]"),
    once per worker, so the log shows which process registered the route and how.
    """

    def __repr__(self) -> str:
        return f"litellm_compactifai.proxy.handler(pid={os.getpid()}, route={registration_path()})"


register()  # idempotent: importing the package registered the route already
handler = CompactifAIProxyLoader()
