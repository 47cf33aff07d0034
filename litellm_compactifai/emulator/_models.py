"""Model records served by the emulator, and its default catalog.

The default catalog is written from the CompactifAI reference documents (the
2026 live catalog in ``llms.txt``, the pricing page and the changelog).  The
public API does not document a model object, so the fields below are the
emulator's own contract with its tests:

* the capability flags follow the changelog (tool calling "on all models except
  Mistral", multimodal ``mistral-small-3-1`` and ``nemotron-3-nano-omni``,
  reasoning on ``hypernova-60b`` and ``gpt-oss-120b``);
* ``context_window``, ``parameters_number`` and ``created`` are **emulator
  values**: plausible numbers chosen for testing, not published by the provider.

The Whisper model (``cai-whisper-large-v3-turbo-slim``) is deliberately left
out: it only serves ``/v1/audio/transcriptions``, which is not emulated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ReasoningField = Literal["reasoning_content", "reasoning", "think_tags"]

REASONING_FIELDS: tuple[str, ...] = ("reasoning_content", "reasoning", "think_tags")

#: Every ``reasoning_effort`` value accepted by the request schema.
REASONING_EFFORTS: tuple[str, ...] = ("none", "low", "medium", "high", "xhigh", "max")

MULTIVERSE = "multiverse-computing"


@dataclass(frozen=True)
class EmulatedModel:
    """One model the emulator serves.

    ``reasoning_field`` selects where a reasoning model puts its thinking text:
    ``"reasoning_content"`` (vLLM style, the default), ``"reasoning"`` (newer
    vLLM / OpenRouter style) or ``"think_tags"`` (``<think>...</think>`` at the
    start of ``content``).  ``reasoning_efforts`` lists the ``reasoning_effort``
    levels the model accepts; any other level is rejected with a 400 that names
    the supported ones.  Records are frozen: derive variants with
    :func:`dataclasses.replace`.
    """

    id: str
    supports_function_calling: bool = True
    supports_reasoning: bool = False
    supports_vision: bool = False
    supports_response_schema: bool = True
    context_window: int | None = None
    parameters_number: str | None = None
    owned_by: str = MULTIVERSE
    reasoning_field: ReasoningField = "reasoning_content"
    reasoning_efforts: tuple[str, ...] = ("low", "medium", "high")
    created: int = 1749600000

    def __post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str):
            raise ValueError("EmulatedModel.id must be a non-empty string")
        if self.reasoning_field not in REASONING_FIELDS:
            raise ValueError(f"reasoning_field must be one of {REASONING_FIELDS}, got {self.reasoning_field!r}")
        efforts = tuple(self.reasoning_efforts)
        for level in efforts:
            if level not in REASONING_EFFORTS:
                raise ValueError(f"unknown reasoning effort level {level!r}")
        object.__setattr__(self, "reasoning_efforts", efforts)
        if self.context_window is not None and self.context_window < 1:
            raise ValueError("context_window must be positive or None")

    def to_api(self) -> dict[str, Any]:
        """The object returned by ``GET /v1/models`` and ``GET /v1/models/{id}``."""
        out: dict[str, Any] = {
            "id": self.id,
            "object": "model",
            "created": self.created,
            "owned_by": self.owned_by,
            "parameters_number": self.parameters_number,
            "capabilities": {
                "supports_function_calling": self.supports_function_calling,
                "supports_reasoning": self.supports_reasoning,
                "supports_vision": self.supports_vision,
                "supports_response_schema": self.supports_response_schema,
            },
        }
        if self.context_window is not None:
            out["context_window"] = self.context_window
        return out


# Creation timestamps: the changelog date the model was announced (UTC midnight),
# or an emulator value when the changelog does not say.
_D_2025_06_11 = 1749600000
_D_2025_08_05 = 1754352000
_D_2025_09_24 = 1758672000
_D_2025_12_23 = 1766448000
_D_2026_05_06 = 1778025600
_D_2026_06_01 = 1780272000
_D_2026_07_15 = 1784073600
_D_2026_08_05 = 1785888000

_DEFAULTS: tuple[EmulatedModel, ...] = (
    # Launch model (2025-06-11), compressed Mistral Small 3.1.  "Function tool
    # compatibility activated on all models except Mistral."  Launched before
    # multimodality (2025-09-24), so text only here.
    EmulatedModel(
        id="cai-mistral-small-3-1-slim",
        supports_function_calling=False,
        context_window=32768,
        parameters_number="12B",
        created=_D_2025_06_11,
    ),
    # Added with multi-modality support on 2025-09-24 (the spec's image example
    # uses this model).  No tool calling (Mistral).
    EmulatedModel(
        id="mistral-small-3-1",
        supports_function_calling=False,
        supports_vision=True,
        context_window=131072,
        parameters_number="24B",
        owned_by="mistralai",
        created=_D_2025_09_24,
    ),
    # Tool calling since 2026-02-25; a reasoning model.
    EmulatedModel(
        id="hypernova-60b",
        supports_reasoning=True,
        reasoning_efforts=("none", "low", "medium", "high"),
        context_window=131072,
        parameters_number="60B",
        created=_D_2025_12_23,
    ),
    EmulatedModel(
        id="carina-60b",
        context_window=131072,
        parameters_number="60B",
        created=_D_2026_06_01,
    ),
    EmulatedModel(
        id="qwen-3-6-27b",
        context_window=131072,
        parameters_number="27B",
        created=_D_2026_06_01,
    ),
    # Tool calling since 2026-01-08; reasoning with low/medium/high effort.
    EmulatedModel(
        id="gpt-oss-120b",
        supports_reasoning=True,
        reasoning_efforts=("low", "medium", "high"),
        context_window=131072,
        parameters_number="120B",
        owned_by="openai",
        created=_D_2025_08_05,
    ),
    # Multimodal (text and image inputs), added 2026-05-06.
    EmulatedModel(
        id="nemotron-3-nano-omni",
        supports_vision=True,
        context_window=131072,
        parameters_number="30B",
        owned_by="nvidia",
        created=_D_2026_05_06,
    ),
    EmulatedModel(
        id="glm-5-1",
        context_window=202752,
        parameters_number="744B",
        owned_by="zai-org",
        created=_D_2026_05_06,
    ),
    EmulatedModel(
        id="cai-glm-5-1",
        context_window=202752,
        parameters_number="744B",
        created=_D_2026_06_01,
    ),
    # Listed on the pricing page although a changelog removal block names it.
    EmulatedModel(
        id="glm-5-2",
        context_window=202752,
        parameters_number="744B",
        owned_by="zai-org",
        created=_D_2026_07_15,
    ),
    # Beta; the emulator leaves its context window unpublished (key absent).
    EmulatedModel(
        id="quasar-438b",
        context_window=None,
        parameters_number="438B",
        created=_D_2026_08_05,
    ),
)


#: The default catalog (frozen records; ``list(DEFAULT_MODELS)`` for a copy).
DEFAULT_MODELS: tuple[EmulatedModel, ...] = _DEFAULTS

__all__ = [
    "DEFAULT_MODELS",
    "REASONING_EFFORTS",
    "REASONING_FIELDS",
    "EmulatedModel",
    "ReasoningField",
]
