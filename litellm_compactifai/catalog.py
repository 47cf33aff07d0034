"""The bundled CompactifAI model catalog: what is known about each model, and where it comes from.

A starting point, never the only truth: CompactifAI adds and retires models without notice, so
live discovery (``refresh_models``) and the user's own ``litellm.register_model`` entries win
over anything here. Every fact carries its source; prices are CompactifAI's published ones and
are ``None`` where none is published.

Sources, by key:
  seed-2025    CompactifAI's tool-calling page, 2025 compatibility table (fetched 2025-08)
  changelog    docs.compactif.ai/changelog (collected 2026-08-26)
  pricing      docs.compactif.ai/pricing, USD per 1M tokens (collected 2026-08-26)
  catalog-2026 CompactifAI's model catalog as listed in llms.txt (generated 2026-08-26)
  model-card   the upstream model's published card (context windows: the served limit may be lower)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Mapping, Optional, Tuple

PROVIDER = "compactifai"

Kind = Literal["slim", "original"]
Mode = Literal["chat", "audio_transcription"]
Status = Literal["available", "retired", "unlisted"]


@dataclass(frozen=True)
class ModelRecord:
    """One CompactifAI model. ``supports_tools`` is None when no source says either way."""

    id: str
    name: str
    kind: Kind
    counterpart: Optional[str]
    supports_tools: Optional[bool]
    supports_reasoning: bool = False
    supports_vision: bool = False
    mode: Mode = "chat"
    # USD per token, from pricing.yml; None where CompactifAI publishes no price.
    input_cost_per_token: Optional[float] = None
    output_cost_per_token: Optional[float] = None
    input_cost_per_second: Optional[float] = None
    context_window: Optional[int] = None
    status: Status = "available"
    retired: Optional[str] = None
    sources: Mapping[str, str] = field(default_factory=dict)
    notes: Tuple[str, ...] = ()

    @property
    def litellm_model(self) -> str:
        return f"{PROVIDER}/{self.id}"

    @property
    def is_retired(self) -> bool:
        return self.status == "retired"

    def model_info(self) -> dict[str, object]:
        """The entry ``litellm.register_model`` takes for this model (only the facts we have)."""
        info: dict[str, object] = {
            "litellm_provider": PROVIDER,
            "mode": self.mode,
            "supports_reasoning": self.supports_reasoning,
            "supports_vision": self.supports_vision,
        }
        if self.supports_tools is not None:
            info["supports_function_calling"] = self.supports_tools
            info["supports_tool_choice"] = self.supports_tools
            info["supports_parallel_function_calling"] = self.supports_tools
        if self.mode == "chat":
            info["supports_response_schema"] = True
            info["supports_system_messages"] = True
        if self.input_cost_per_token is not None:
            info["input_cost_per_token"] = self.input_cost_per_token
        if self.output_cost_per_token is not None:
            info["output_cost_per_token"] = self.output_cost_per_token
        if self.input_cost_per_second is not None:
            info["input_cost_per_second"] = self.input_cost_per_second
        if self.context_window is not None:
            info["max_input_tokens"] = self.context_window
            info["max_tokens"] = self.context_window
        return info


def _per_token(usd_per_million: float) -> float:
    return usd_per_million / 1_000_000


_SEED = "seed-2025"
_PRICE = "pricing"
_LIVE = "catalog-2026"
_CARD = "model-card"

_RECORDS: Tuple[ModelRecord, ...] = (
    # --- the 2026 catalog (llms.txt), priced on pricing.yml -----------------------------------
    ModelRecord(
        id="cai-mistral-small-3-1-slim",
        name="Mistral Small 3.1 Slim by CompactifAI",
        kind="slim",
        counterpart="mistral-small-3-1",
        supports_tools=False,
        supports_vision=True,
        input_cost_per_token=_per_token(0.05),
        output_cost_per_token=_per_token(0.08),
        context_window=128_000,
        sources={
            "tools": f"{_SEED} (No); changelog 2025-08-18 (tools on all models except Mistral)",
            "vision": "changelog 2025-09-24 (image + text chat)",
            "price": _PRICE,
            "context_window": f"{_CARD} (Mistral Small 3.1: 128k)",
            "status": f"{_LIVE}; launch model (changelog 2025-06-11)",
        },
    ),
    ModelRecord(
        id="mistral-small-3-1",
        name="Mistral Small 3.1",
        kind="original",
        counterpart="cai-mistral-small-3-1-slim",
        supports_tools=False,
        supports_vision=True,
        input_cost_per_token=_per_token(0.11),
        output_cost_per_token=_per_token(0.17),
        context_window=128_000,
        sources={
            "tools": f"{_SEED} (No); changelog 2025-08-18 (all models except Mistral)",
            "vision": "changelog 2025-09-24 (added with image + text chat)",
            "price": _PRICE,
            "context_window": f"{_CARD} (Mistral Small 3.1: 128k)",
            "status": _LIVE,
        },
    ),
    ModelRecord(
        id="hypernova-60b",
        name="HyperNova 60B by CompactifAI",
        kind="slim",
        counterpart="gpt-oss-120b",
        supports_tools=True,
        supports_reasoning=True,
        input_cost_per_token=_per_token(0.04),
        output_cost_per_token=_per_token(0.14),
        context_window=131_072,
        sources={
            "tools": "changelog 2026-02-25 (tool calling added), 2026-03-10 (streaming fix)",
            "reasoning": f"{_CARD} (compressed gpt-oss-120b, a reasoning model)",
            "counterpart": f"{_CARD} (HyperNova 60B is a compressed gpt-oss-120b)",
            "price": _PRICE,
            "context_window": f"{_CARD} (gpt-oss-120b: 131,072)",
            "status": f"{_LIVE}; added 2025-12-23, version 2605 since 2026-05-06",
        },
    ),
    ModelRecord(
        id="carina-60b",
        name="Carina 60B by CompactifAI",
        kind="slim",
        counterpart=None,
        supports_tools=None,
        input_cost_per_token=_per_token(0.05),
        output_cost_per_token=_per_token(0.20),
        sources={
            "tools": "no source states tool support; the server decides",
            "counterpart": "not named in the collected docs",
            "price": _PRICE,
            "status": f"{_LIVE}; added 2026-06 (changelog)",
        },
    ),
    ModelRecord(
        id="qwen-3-6-27b",
        name="Qwen 3.6 27B (Uncensored) by CompactifAI",
        kind="slim",
        counterpart=None,
        supports_tools=None,
        input_cost_per_token=_per_token(0.15),
        output_cost_per_token=_per_token(0.90),
        sources={
            "tools": "no source states tool support; the server decides",
            "counterpart": "not named in the collected docs",
            "price": _PRICE,
            "status": f"{_LIVE}; added 2026-06 (changelog)",
        },
    ),
    ModelRecord(
        id="gpt-oss-120b",
        name="OpenAI GPT OSS 120B",
        kind="original",
        counterpart="hypernova-60b",
        supports_tools=True,
        supports_reasoning=True,
        input_cost_per_token=_per_token(0.05),
        output_cost_per_token=_per_token(0.23),
        context_window=131_072,
        sources={
            "tools": "changelog 2026-01-08 (tool calling added); seed-2025 said No",
            "reasoning": f"{_CARD} (gpt-oss is a reasoning model)",
            "price": _PRICE,
            "context_window": f"{_CARD} (131,072)",
            "status": _LIVE,
        },
        notes=("seed-2025 listed no tool support; the newer changelog entry (2026-01-08) wins.",),
    ),
    ModelRecord(
        id="nemotron-3-nano-omni",
        name="Nemotron 3 Nano Omni",
        kind="original",
        counterpart=None,
        supports_tools=None,
        supports_vision=True,
        input_cost_per_token=_per_token(0.20),
        output_cost_per_token=_per_token(0.80),
        sources={
            "tools": "no source states tool support; the server decides",
            "vision": "changelog 2026-05-06 (text and image inputs)",
            "price": _PRICE,
            "status": f"{_LIVE}; added 2026-05-06",
        },
    ),
    ModelRecord(
        id="glm-5-1",
        name="GLM 5.1",
        kind="original",
        counterpart=None,
        supports_tools=True,
        input_cost_per_token=_per_token(0.95),
        output_cost_per_token=_per_token(3.15),
        sources={
            "tools": "changelog 2026-05-06 (tool calling and structured output)",
            "price": _PRICE,
            "status": f"{_LIVE}; added 2026-05-06",
        },
    ),
    ModelRecord(
        id="cai-glm-5-1",
        name="GLM 5.1 (Uncensored)",
        kind="original",
        counterpart=None,
        supports_tools=None,
        input_cost_per_token=_per_token(1.00),
        output_cost_per_token=_per_token(3.00),
        sources={
            "tools": "no source states tool support; the server decides",
            "kind": f"{_LIVE} lists it as third-party, uncompressed despite the cai- prefix",
            "price": _PRICE,
            "status": f"{_LIVE}; added 2026-06 (changelog)",
        },
    ),
    ModelRecord(
        id="glm-5-2",
        name="GLM 5.2 (beta)",
        kind="original",
        counterpart=None,
        supports_tools=True,
        input_cost_per_token=_per_token(1.10),
        output_cost_per_token=_per_token(3.50),
        sources={
            "tools": "changelog 2026-07-15 (tool calling and structured output)",
            "price": _PRICE,
            "status": f"{_LIVE}; added 2026-07-15",
        },
        notes=(
            "The undated 2026-06 removals block also names glm-5-2; the 2026-07-15 addition, "
            "the pricing page and the 2026 catalog are newer, so it is recorded as available.",
        ),
    ),
    ModelRecord(
        id="quasar-438b",
        name="Quasar 438B (beta)",
        kind="original",
        counterpart=None,
        supports_tools=True,
        input_cost_per_token=_per_token(0.60),
        output_cost_per_token=_per_token(1.80),
        sources={
            "tools": "changelog 2026-08-05 (tool calling and structured output, as GLM 5.2)",
            "price": _PRICE,
            "status": f"{_LIVE}; added 2026-08-05",
        },
    ),
    ModelRecord(
        id="cai-whisper-large-v3-turbo-slim",
        name="Whisper Large V3 Turbo Slim by CompactifAI",
        kind="slim",
        counterpart="whisper-large-v3",
        supports_tools=False,
        mode="audio_transcription",
        input_cost_per_second=0.000134 / 60,
        sources={
            "price": f"{_PRICE} (USD 0.000134 per audio minute, per-second billing)",
            "status": _LIVE,
        },
    ),
    # --- the seed's 2025 table and the changelog: models since withdrawn or no longer listed ---
    ModelRecord(
        id="cai-llama-4-scout-slim",
        name="Llama 4 Scout Slim by CompactifAI",
        kind="slim",
        counterpart="llama-4-scout",
        supports_tools=True,
        supports_vision=True,
        status="unlisted",
        sources={
            "tools": _SEED,
            "vision": f"{_CARD} (Llama 4 Scout is natively multimodal)",
            "status": f"absent from {_LIVE}; no removal date published",
        },
    ),
    ModelRecord(
        id="llama-4-scout",
        name="Llama 4 Scout",
        kind="original",
        counterpart="cai-llama-4-scout-slim",
        supports_tools=True,
        supports_vision=True,
        status="retired",
        retired="2026-06",
        sources={"tools": _SEED, "retired": "changelog 2026-06 removals (month precision)"},
    ),
    ModelRecord(
        id="cai-llama-3-3-70b-slim",
        name="Llama 3.3 70B Slim by CompactifAI",
        kind="slim",
        counterpart="llama-3-3-70b",
        supports_tools=True,
        context_window=128_000,
        status="retired",
        retired="2026-06",
        sources={
            "tools": _SEED,
            "context_window": f"{_CARD} (Llama 3.3 70B: 128k)",
            "retired": "changelog 2026-06 removals (month precision); launch model 2025-06-11",
        },
    ),
    ModelRecord(
        id="llama-3-3-70b",
        name="Llama 3.3 70B",
        kind="original",
        counterpart="cai-llama-3-3-70b-slim",
        supports_tools=True,
        context_window=128_000,
        status="retired",
        retired="2026-06",
        sources={
            "tools": _SEED,
            "context_window": f"{_CARD} (128k)",
            "retired": "changelog 2026-06 removals (month precision)",
        },
    ),
    ModelRecord(
        id="cai-llama-3-1-8b-slim",
        name="Llama 3.1 8B Slim by CompactifAI",
        kind="slim",
        counterpart="llama-3-1-8b",
        supports_tools=True,
        context_window=128_000,
        status="unlisted",
        sources={
            "tools": _SEED,
            "context_window": f"{_CARD} (Llama 3.1 8B: 128k)",
            "status": f"absent from {_LIVE}; no removal date published",
        },
    ),
    ModelRecord(
        id="cai-llama-3-1-8b-slim-r",
        name="Llama 3.1 8B Slim Reasoning by CompactifAI",
        kind="slim",
        counterpart="llama-3-1-8b",
        supports_tools=True,
        supports_reasoning=True,
        context_window=128_000,
        status="unlisted",
        sources={
            "tools": _SEED,
            "reasoning": f"{_SEED} (named 'Slim Reasoning')",
            "context_window": f"{_CARD} (Llama 3.1 8B: 128k)",
            "status": f"absent from {_LIVE}; no removal date published",
        },
    ),
    ModelRecord(
        id="llama-3-1-8b",
        name="Llama 3.1 8B",
        kind="original",
        counterpart="cai-llama-3-1-8b-slim",
        supports_tools=True,
        context_window=128_000,
        status="retired",
        retired="2026-06",
        sources={
            "tools": _SEED,
            "context_window": f"{_CARD} (128k)",
            "retired": "changelog 2026-06 removals (month precision)",
        },
    ),
    ModelRecord(
        id="cai-deepseek-r1-0528-slim",
        name="DeepSeek R1 0528 Slim by CompactifAI",
        kind="slim",
        counterpart="deepseek-r1-0528",
        supports_tools=True,
        supports_reasoning=True,
        status="retired",
        retired="2026-04-01",
        sources={
            "tools": "changelog 2025-08-18 (tools on all models except Mistral); seed-2025 said No",
            "reasoning": f"{_CARD} (DeepSeek R1 is a reasoning model)",
            "retired": "changelog 2026-04-01",
        },
        notes=("seed-2025 listed no tool support; the newer changelog entry (2025-08-18) wins.",),
    ),
    ModelRecord(
        id="deepseek-r1-0528",
        name="DeepSeek R1 0528",
        kind="original",
        counterpart="cai-deepseek-r1-0528-slim",
        supports_tools=True,
        supports_reasoning=True,
        status="retired",
        retired="2025-10-06",
        sources={
            "tools": "changelog 2025-08-18 (tools on all models except Mistral); seed-2025 said No",
            "reasoning": f"{_CARD} (DeepSeek R1 is a reasoning model)",
            "retired": "changelog 2025-10-06",
        },
        notes=("seed-2025 listed no tool support; the newer changelog entry (2025-08-18) wins.",),
    ),
    ModelRecord(
        id="gpt-oss-20b",
        name="OpenAI GPT OSS 20B",
        kind="original",
        counterpart=None,
        supports_tools=True,
        supports_reasoning=True,
        context_window=131_072,
        status="retired",
        retired="2026-06",
        sources={
            "tools": "changelog 2026-01-08 (tool calling added); seed-2025 said No",
            "reasoning": f"{_CARD} (gpt-oss is a reasoning model)",
            "context_window": f"{_CARD} (131,072)",
            "retired": "changelog 2026-06 removals (month precision)",
        },
        notes=("seed-2025 listed no tool support; the newer changelog entry (2026-01-08) wins.",),
    ),
    ModelRecord(
        id="blackstar-10b",
        name="Blackstar 10B",
        kind="original",
        counterpart=None,
        supports_tools=None,
        status="retired",
        retired="2026-06",
        sources={"retired": "changelog 2026-06 removals (month precision); no other fact published"},
    ),
    ModelRecord(
        id="deepseek-r1",
        name="DeepSeek R1",
        kind="original",
        counterpart=None,
        supports_tools=None,
        supports_reasoning=True,
        status="retired",
        retired="2025-07-01",
        sources={
            "reasoning": f"{_CARD} (DeepSeek R1 is a reasoning model)",
            "retired": "changelog 2025-07-01 (deprecated; the date recorded is the deprecation)",
        },
    ),
    ModelRecord(
        id="whisper-large-v3",
        name="Whisper Large V3",
        kind="original",
        counterpart="cai-whisper-large-v3-turbo-slim",
        supports_tools=False,
        mode="audio_transcription",
        status="retired",
        retired="2026-06",
        sources={
            "status": "changelog 2025-10-06 (added), 2026-06 removals (month precision)",
        },
    ),
)

CATALOG: Mapping[str, ModelRecord] = MappingProxyType({r.id: r for r in _RECORDS})
"""Every bundled model, by CompactifAI model id."""


def get(model_id: str) -> Optional[ModelRecord]:
    """The bundled record for ``model_id`` (with or without the ``compactifai/`` prefix)."""
    return CATALOG.get(strip_prefix(model_id))


def strip_prefix(model: str) -> str:
    prefix = PROVIDER + "/"
    return model[len(prefix) :] if model.startswith(prefix) else model


def tool_capable(*, available_only: bool = True) -> Tuple[str, ...]:
    """Ids of chat models with tool support, cheapest output first: the alternatives we suggest."""
    records = [
        r for r in _RECORDS if r.mode == "chat" and r.supports_tools and (r.status == "available" or not available_only)
    ]
    records.sort(key=lambda r: (r.output_cost_per_token is None, r.output_cost_per_token or 0.0, r.id))
    return tuple(r.id for r in records)


def model_cost_entries() -> dict[str, dict[str, object]]:
    """``{"compactifai/<id>": info}`` for every bundled model, ready for ``litellm.register_model``."""
    return {r.litellm_model: r.model_info() for r in _RECORDS}


def markdown_table() -> str:
    """The chat models as a Markdown table (README and docs are checked against it)."""

    def price(value: Optional[float]) -> str:
        return "-" if value is None else f"{value * 1_000_000:.2f}"

    tools = {True: "yes", False: "**no**", None: "server decides"}
    rows = [
        "| model | kind (pair) | tools | reasoning | vision | $/1M in | $/1M out | status |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in _RECORDS:
        if r.mode != "chat":
            continue
        pair = r.kind + (f" ↔ {r.counterpart}" if r.counterpart else "")
        status = r.status + (f" {r.retired}" if r.retired else "")
        rows.append(
            f"| `{r.id}` | {pair} | {tools[r.supports_tools]} | {'yes' if r.supports_reasoning else 'no'} | "
            f"{'yes' if r.supports_vision else 'no'} | {price(r.input_cost_per_token)} | "
            f"{price(r.output_cost_per_token)} | {status} |"
        )
    return "\n".join(rows)
