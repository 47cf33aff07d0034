"""An offline emulator of the CompactifAI API (Multiverse Computing).

CompactifAI serves LLMs behind an OpenAI-compatible API at
``https://api.compactif.ai/v1``.  This package stands in for it in tests and
demos: a small HTTP/1.1 server (standard library ``asyncio`` plus
``jsonschema``) that listens on a local port and answers deterministically.
It shares no code or assumptions with the client side of
``litellm_compactifai``.

What it emulates
----------------
* ``GET /v1/models`` and ``GET /v1/models/{model}`` (model objects with
  ``capabilities``, ``parameters_number`` and ``context_window``; the real
  model object is undocumented, so this shape is the emulator's contract);
* ``POST /v1/chat/completions``: request bodies validated against the
  verbatim OpenAPI document (``openapi.json``, ``ChatCompletionRequest``) with
  FastAPI-style 422s; deterministic answers that echo the prompt and honour
  ``max_tokens``/``max_completion_tokens`` (one word = one token), ``stop``,
  ``response_format`` (``json_object`` and schema-valid ``json_schema``),
  tools and every ``tool_choice``, reasoning output (``reasoning_content``,
  ``reasoning`` or ``<think>`` tags per model), and SSE streaming with
  ``stream_options.include_usage``;
* ``POST /v1/completions`` (``CompletionRequest``; ``prompt`` string or list,
  one choice per prompt).  The spec's CompletionRequest has no ``stream``
  field: a ``stream: true`` sent there is ignored (extra properties are
  allowed) and the answer is plain JSON;
* the provider's error envelopes: ``{"detail": ...}`` for 401/404/405/422/500
  and ``{"error": {type, message, param, code}}`` for 400 (unknown model,
  tools or ``reasoning_effort`` the model does not support, image input to a
  text-only model, ``json_schema`` to a model without structured output,
  context length exceeded);
* ``x-request-id`` (echoed or generated) and ``x-served-by-region: emulator``
  on every response;
* fault injection (:class:`Fault`) per request (``x-emulator-fault`` header)
  or from Python (:meth:`Emulator.inject`), and request recording
  (:attr:`Emulator.requests`).

What it does not emulate
------------------------
The Responses API, batches, files and audio transcription (404), real
tokenisation, sampling (``temperature``/``top_p`` are validated, then
ignored), ``n > 1`` (rejected by the spec anyway), rate limits other than
injected ones, TLS and HTTP/2.  Model context windows and parameter counts
are emulator values, not published figures.

Usage::

    from litellm_compactifai.emulator import Emulator

    with Emulator(api_keys={"test-key"}) as emu:
        client = httpx.Client(base_url=emu.base_url,
                              headers={"Authorization": "Bearer test-key"})
        client.post("/chat/completions", json={...})
        emu.inject("rate_limit", times=1)
        assert emu.requests[-1].body["model"] == "hypernova-60b"

or in the foreground: ``python -m litellm_compactifai.emulator --port 8787``.
"""

from __future__ import annotations

from ._app import App, Emulator, RecordedRequest, serve
from ._faults import FAULT_HEADER, FAULT_NAMES, STREAM_CUT_AFTER, Fault, FaultSpec, slow
from ._models import DEFAULT_MODELS, REASONING_EFFORTS, EmulatedModel, ReasoningField
from ._validation import SPEC_PATH

__all__ = [
    "DEFAULT_MODELS",
    "FAULT_HEADER",
    "FAULT_NAMES",
    "REASONING_EFFORTS",
    "SPEC_PATH",
    "STREAM_CUT_AFTER",
    "App",
    "EmulatedModel",
    "Emulator",
    "Fault",
    "FaultSpec",
    "ReasoningField",
    "RecordedRequest",
    "serve",
    "slow",
]
