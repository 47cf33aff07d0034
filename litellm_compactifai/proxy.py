"""What a LiteLLM proxy config names so that every worker process loads this package.

    litellm_settings:
      success_callback: ["litellm_compactifai.proxy.handler"]

Each proxy worker runs ``load_config`` at startup and resolves that name (``get_instance_fn``)
before ``model_list`` builds the Router; importing this module imports ``litellm_compactifai``,
which registers ``compactifai/*``, its tool gating and its model info in that worker. ``handler``
overrides no ``CustomLogger`` hook, so it costs nothing per request.

LiteLLM resolves the name by module on 1.67.4.post1 - 1.83.x and from 1.94.0 on; 1.84.0 - 1.93.x
look only for a file next to the config, so there the proxy is started with
``LITELLM_WORKER_STARTUP_HOOKS=litellm_compactifai:register`` instead. ``callbacks:`` works from
1.94.0 on only. Details and the evidence per release: docs/proxy.md.
"""

from __future__ import annotations

import os

from litellm.integrations.custom_logger import CustomLogger

from .registration import register, registration_path

__all__ = ["CompactifAIProxyLoader", "handler"]


class CompactifAIProxyLoader(CustomLogger):
    """A callback with no per-request work: naming it in a proxy config imports the package.

    Its ``repr`` is what the proxy prints at startup ("Initialized Success Callbacks - [...]"), once
    per worker, so the log shows which process registered the route, and how.
    """

    def __repr__(self) -> str:
        return f"litellm_compactifai.proxy.handler(pid={os.getpid()}, route={registration_path()})"


register()  # idempotent: importing the package has registered the route already
handler = CompactifAIProxyLoader()
