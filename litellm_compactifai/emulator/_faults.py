"""Fault injection: misbehaviours a client must survive.

A fault is switched on for one request with the ``x-emulator-fault`` request
header (a comma-separated list, e.g. ``slow:0.5,rate_limit``) or from Python
with :meth:`FaultRegistry.inject` (globally or for one model, for a number of
requests or until cleared).  ``slow`` delays the answer and combines with the
others; of the remaining faults the first one found wins (model-scoped before
global, header last).

Faults fire after routing and authentication (a request to an unknown path
still gets 404, a bad key still gets 401) and before schema validation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum

from ._http import Abort, Reply, Response, StreamResponse

FAULT_HEADER = "x-emulator-fault"

#: Events sent before a ``stream_cut`` stream is dropped (role chunk + 2 deltas).
STREAM_CUT_AFTER = 3
DEFAULT_SLOW_SECONDS = 1.0


class Fault(str, Enum):
    """The fault names (``str`` values, usable directly as header values)."""

    RATE_LIMIT = "rate_limit"  # 429, OpenAI-style error envelope
    SERVER_ERROR = "server_error"  # 500 {"detail":"Unexpected server error"}
    BAD_GATEWAY = "bad_gateway"  # 502 with an HTML page
    UNAVAILABLE = "unavailable"  # 503, error envelope with type server_error
    SLOW = "slow"  # "slow:<seconds>": sleep, then answer (or apply other faults)
    HTML = "html"  # 500 with an HTML error page
    TRUNCATED_JSON = "truncated_json"  # 200, JSON cut in the middle, matching length
    STREAM_CUT = "stream_cut"  # stream dropped after a few events, no [DONE]
    RESET = "reset"  # connection reset (RST) without any response

    def __str__(self) -> str:
        return str(self.value)


FAULT_NAMES: frozenset[str] = frozenset(f.value for f in Fault)


@dataclass(frozen=True)
class FaultSpec:
    """A parsed fault: its kind and, for ``slow``, the delay in seconds."""

    kind: Fault
    seconds: float = 0.0

    @classmethod
    def parse(cls, spec: str | Fault | FaultSpec) -> FaultSpec:
        if isinstance(spec, FaultSpec):
            return spec
        if isinstance(spec, Fault):
            return cls(spec, DEFAULT_SLOW_SECONDS if spec is Fault.SLOW else 0.0)
        text = str(spec).strip()
        name, sep, arg = text.partition(":")
        name = name.strip().lower()
        if name not in FAULT_NAMES:
            known = ", ".join(sorted(FAULT_NAMES))
            raise ValueError(f"unknown emulator fault {text!r}; known: [{known}]")
        kind = Fault(name)
        if kind is Fault.SLOW:
            seconds = DEFAULT_SLOW_SECONDS
            if sep:
                try:
                    seconds = float(arg)
                except ValueError as exc:
                    raise ValueError(f"bad delay in fault {text!r}") from exc
                if not 0 <= seconds <= 3600:
                    raise ValueError(f"delay out of range in fault {text!r}")
            return cls(kind, seconds)
        if sep:
            raise ValueError(f"fault {name!r} takes no argument")
        return cls(kind)

    def __str__(self) -> str:
        if self.kind is Fault.SLOW:
            return f"slow:{self.seconds:g}"
        return str(self.kind.value)


def slow(seconds: float) -> str:
    """The fault string for a delay, e.g. ``slow(0.25) == "slow:0.25"``."""
    return f"slow:{seconds:g}"


def parse_header(value: str) -> list[FaultSpec]:
    """Parse an ``x-emulator-fault`` header value (raises ``ValueError``)."""
    return [FaultSpec.parse(p) for p in value.split(",") if p.strip()]


@dataclass
class _Injected:
    spec: FaultSpec
    model: str | None
    remaining: int | None


class FaultRegistry:
    """Thread-safe set of injected faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[_Injected] = []

    def inject(self, fault: str | Fault | FaultSpec, model: str | None = None, times: int | None = None) -> FaultSpec:
        spec = FaultSpec.parse(fault)
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for until cleared)")
        with self._lock:
            self._entries.append(_Injected(spec, model, times))
        return spec

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def active(self) -> list[tuple[FaultSpec, str | None, int | None]]:
        with self._lock:
            return [(e.spec, e.model, e.remaining) for e in self._entries]

    def take(self, model: str | None) -> list[FaultSpec]:
        """Faults that apply to a request for ``model`` (consumes one use each)."""
        if not self._entries:  # fast path, no lock
            return []
        fired: list[FaultSpec] = []
        with self._lock:
            matching = [e for e in self._entries if e.model is not None and e.model == model]
            matching += [e for e in self._entries if e.model is None]
            for e in matching:
                fired.append(e.spec)
                if e.remaining is not None:
                    e.remaining -= 1
            self._entries = [e for e in self._entries if e.remaining is None or e.remaining > 0]
        return fired


# --------------------------------------------------------------------------
# Fault replies
# --------------------------------------------------------------------------

RATE_LIMIT_BODY = b'{"error":{"type":"rate_limit_error","message":"Rate limit exceeded","param":null,"code":null}}'
SERVER_ERROR_BODY = b'{"detail":"Unexpected server error"}'
UNAVAILABLE_BODY = (
    b'{"error":{"type":"server_error","message":"Service temporarily unavailable","param":null,"code":null}}'
)
BAD_GATEWAY_HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
SERVER_ERROR_HTML = (
    b"<html><head><title>500 Internal Server Error</title></head><body>"
    b"<h1>500 Internal Server Error</h1><p>upstream connect error or disconnect/reset "
    b"before headers</p></body></html>"
)
HTML_TYPE = "text/html; charset=utf-8"


def immediate_reply(kind: Fault) -> Reply | None:
    """The reply for faults that replace the answer outright (else ``None``)."""
    if kind is Fault.RATE_LIMIT:
        return Response(429, RATE_LIMIT_BODY)
    if kind is Fault.SERVER_ERROR:
        return Response(500, SERVER_ERROR_BODY)
    if kind is Fault.BAD_GATEWAY:
        return Response(502, BAD_GATEWAY_HTML, content_type=HTML_TYPE)
    if kind is Fault.UNAVAILABLE:
        return Response(503, UNAVAILABLE_BODY)
    if kind is Fault.HTML:
        return Response(500, SERVER_ERROR_HTML, content_type=HTML_TYPE)
    if kind is Fault.RESET:
        return Abort(rst=True)
    return None


def mangle(kind: Fault, reply: Reply) -> Reply:
    """Apply ``truncated_json`` / ``stream_cut`` to an otherwise normal reply.

    * ``truncated_json``: a plain response keeps its status but its body is cut
      in the middle and ``Content-Length`` matches the cut body; in a stream,
      the third event's JSON is cut in the middle (the stream then goes on).
    * ``stream_cut``: a stream is dropped after :data:`STREAM_CUT_AFTER` events
      without a terminating chunk or ``[DONE]``; a plain response declares its
      full ``Content-Length``, sends half of the body and closes.
    """
    if isinstance(reply, Abort):
        return reply
    if kind is Fault.TRUNCATED_JSON:
        if isinstance(reply, Response):
            return Response(
                reply.status,
                reply.body[: len(reply.body) // 2],
                reply.content_type,
                reply.headers,
            )
        events = list(reply.events)
        index = min(2, len(events) - 1)
        if index >= 0:
            event = events[index]
            events[index] = event[: max(7, len(event) // 2)] + b"\n\n"
        return StreamResponse(events, reply.status, reply.content_type, reply.headers, reply.delay, reply.cut_after)
    if kind is Fault.STREAM_CUT:
        if isinstance(reply, Response):
            return Response(
                reply.status,
                reply.body,
                reply.content_type,
                reply.headers,
                truncate_to=len(reply.body) // 2,
            )
        return StreamResponse(
            reply.events,
            reply.status,
            reply.content_type,
            reply.headers,
            reply.delay,
            cut_after=STREAM_CUT_AFTER,
        )
    return reply


__all__ = [
    "FAULT_HEADER",
    "FAULT_NAMES",
    "STREAM_CUT_AFTER",
    "Fault",
    "FaultRegistry",
    "FaultSpec",
    "immediate_reply",
    "mangle",
    "parse_header",
    "slow",
]
