"""Routing, authentication, model lookups and the in-process/blocking runners."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ._answers import (
    build_chat,
    chat_response,
    chat_stream_events,
    completion_response,
    estimate_tokens,
    has_image,
    message_chars,
    select_tool,
)
from ._faults import (
    FAULT_HEADER,
    Fault,
    FaultRegistry,
    FaultSpec,
    immediate_reply,
    mangle,
    parse_header,
)
from ._http import HttpServer, Reply, Request, Response, StreamResponse
from ._models import DEFAULT_MODELS, EmulatedModel
from ._validation import (
    CHAT_SCHEMA,
    COMPLETION_SCHEMA,
    ErrorDetail,
    get_validator,
    json_decode_error,
    missing_body_error,
)

REGION = "emulator"
STATIC_HEADERS = [("x-served-by-region", REGION), ("server", "compactifai-emulator")]

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

_NOT_FOUND = b'{"detail":"Not Found"}'
_METHOD_NOT_ALLOWED = b'{"detail":"Method Not Allowed"}'
_NOT_AUTHENTICATED = b'{"detail":"Not authenticated"}'
_INVALID_TOKEN = b'{"detail":"Token is not associated with a valid user"}'
_WWW_AUTH = [("www-authenticate", "Bearer")]

_CHAT = 1
_COMPLETIONS = 2
_MODELS = 3
_MODEL = 4


@dataclass
class RecordedRequest:
    """One request as it went over the wire."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    query: str = ""
    request_id: str = ""
    received_at: float = field(default_factory=time.time)

    @property
    def json(self) -> Any:
        """Alias of :attr:`body` (the parsed JSON body, or ``None``)."""
        return self.body


def _json_reply(status: int, obj: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, _ENCODER.encode(obj).encode("utf-8"), headers=headers)


def _invalid(message: str, code: str | None = None) -> Response:
    return _json_reply(
        400,
        {
            "error": {
                "type": "invalid_request_error",
                "message": message,
                "param": None,
                "code": code,
            }
        },
    )


def _unprocessable(detail: list[ErrorDetail]) -> Response:
    return _json_reply(422, {"detail": detail})


class App:
    """The emulated API, independent of how it is served."""

    def __init__(
        self,
        models: Iterable[EmulatedModel] | None = None,
        api_keys: Iterable[str] | None = None,
        record: bool = True,
        chunk_delay: float = 0.0,
    ) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, EmulatedModel] = {}
        self._list_body = b""
        self._model_bodies: dict[str, bytes] = {}
        self.set_models(DEFAULT_MODELS if models is None else models)
        self.api_keys = api_keys  # the setter normalises to a frozenset
        self.record = record
        self.chunk_delay = chunk_delay
        self.faults = FaultRegistry()
        self._requests: list[RecordedRequest] = []
        self._chat = get_validator(CHAT_SCHEMA)
        self._completion = get_validator(COMPLETION_SCHEMA)

    # -- configuration ---------------------------------------------------

    @property
    def api_keys(self) -> frozenset[str] | None:
        return self._api_keys

    @api_keys.setter
    def api_keys(self, keys: Iterable[str] | None) -> None:
        if isinstance(keys, str):
            keys = [keys]
        self._api_keys = None if keys is None else frozenset(keys)

    @property
    def models(self) -> list[EmulatedModel]:
        return list(self._models.values())

    def get_model(self, model_id: str) -> EmulatedModel | None:
        return self._models.get(model_id)

    def set_models(self, models: Iterable[EmulatedModel]) -> None:
        new: dict[str, EmulatedModel] = {}
        for m in models:
            if not isinstance(m, EmulatedModel):
                raise TypeError(f"expected EmulatedModel, got {type(m).__name__}")
            new[m.id] = m
        self._publish(new)

    def add_model(self, model: EmulatedModel) -> None:
        if not isinstance(model, EmulatedModel):
            raise TypeError(f"expected EmulatedModel, got {type(model).__name__}")
        with self._lock:
            new = dict(self._models)
            new[model.id] = model
            self._publish(new)

    def remove_model(self, model_id: str) -> EmulatedModel:
        with self._lock:
            if model_id not in self._models:
                raise KeyError(model_id)
            new = dict(self._models)
            removed = new.pop(model_id)
            self._publish(new)
        return removed

    def _publish(self, models: dict[str, EmulatedModel]) -> None:
        objects = {mid: m.to_api() for mid, m in models.items()}
        bodies = {mid: _ENCODER.encode(obj).encode("utf-8") for mid, obj in objects.items()}
        listing = _ENCODER.encode({"object": "list", "data": list(objects.values())})
        # Readers on the loop thread see either the old or the new state.
        self._model_bodies = bodies
        self._list_body = listing.encode("utf-8")
        self._models = models

    # -- recording ---------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, req: Request, body: Any) -> None:
        rec = RecordedRequest(
            method=req.method,
            path=req.path,
            headers=dict(req.headers),
            body=body,
            raw_body=req.body,
            query=req.query,
            request_id=req.request_id,
        )
        with self._lock:
            self._requests.append(rec)

    # -- request handling ------------------------------------------------

    async def handle(self, req: Request) -> Reply:
        path = req.path
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
        parsed: Any = None
        json_error: ValueError | None = None
        raw = req.body
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
                json_error = exc
        if self.record:
            self._record(req, parsed)

        model_id: str | None = None
        if path == "/v1/chat/completions":
            kind, allowed = _CHAT, "POST"
        elif path == "/v1/completions":
            kind, allowed = _COMPLETIONS, "POST"
        elif path == "/v1/models":
            kind, allowed = _MODELS, "GET"
        elif path.startswith("/v1/models/") and "/" not in path[11:]:
            kind, allowed = _MODEL, "GET"
            model_id = unquote(path[11:])
        else:
            return Response(404, _NOT_FOUND)
        if req.method != allowed:
            return Response(405, _METHOD_NOT_ALLOWED, headers=[("allow", allowed)])

        auth = req.headers.get("authorization")
        if not auth:
            return Response(401, _NOT_AUTHENTICATED, headers=_WWW_AUTH)
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return Response(401, _INVALID_TOKEN, headers=_WWW_AUTH)
        keys = self._api_keys
        if keys is not None and token not in keys:
            return Response(401, _INVALID_TOKEN, headers=_WWW_AUTH)

        if kind in (_CHAT, _COMPLETIONS) and isinstance(parsed, dict):
            m = parsed.get("model")
            model_id = m if isinstance(m, str) else None
        mangler: Fault | None = None
        specs = self.faults.take(model_id)
        header = req.headers.get(FAULT_HEADER)
        if header:
            try:
                specs = specs + parse_header(header)
            except ValueError as exc:
                return _invalid(f"Invalid request: {exc}")
        if specs:
            reply, mangler = await self._apply_faults(specs)
            if reply is not None:
                return reply

        if kind == _CHAT:
            reply = self._chat_completion(parsed, json_error, raw)
        elif kind == _COMPLETIONS:
            reply = self._text_completion(parsed, json_error, raw)
        elif kind == _MODELS:
            reply = Response(200, self._list_body)
        else:
            body = self._model_bodies.get(model_id or "")
            reply = Response(200, body) if body is not None else Response(404, _NOT_FOUND)
        if mangler is not None:
            reply = mangle(mangler, reply)
        return reply

    @staticmethod
    async def _apply_faults(specs: list[FaultSpec]) -> tuple[Reply | None, Fault | None]:
        delay = sum(s.seconds for s in specs if s.kind is Fault.SLOW)
        if delay > 0:
            await asyncio.sleep(delay)
        for spec in specs:
            if spec.kind is Fault.SLOW:
                continue
            reply = immediate_reply(spec.kind)
            if reply is not None:
                return reply, None
            return None, spec.kind
        return None, None

    def _body_errors(self, parsed: Any, json_error: ValueError | None, raw: bytes) -> Response | None:
        if json_error is not None:
            return _unprocessable(json_decode_error(json_error))
        if not raw:
            return _unprocessable(missing_body_error())
        return None

    def _lookup(self, parsed: dict[str, Any]) -> EmulatedModel | Response:
        model_id = parsed["model"]
        model = self._models.get(model_id)
        if model is None:
            available = ", ".join(self._models)
            return _invalid(f"Invalid request: Model '{model_id}' not found; available: [{available}]")
        return model

    @staticmethod
    def _context_error(window: int, prompt: int, completion: int) -> Response:
        return _invalid(
            f"This model's maximum context length is {window} tokens. However, you "
            f"requested {prompt + completion} tokens ({prompt} in the messages, "
            f"{completion} in the completion). Please reduce the length of the messages "
            "or completion.",
            code="context_length_exceeded",
        )

    def _chat_completion(  # noqa: C901 - a list of independent checks
        self, parsed: Any, json_error: ValueError | None, raw: bytes
    ) -> Reply:
        early = self._body_errors(parsed, json_error, raw)
        if early is not None:
            return early
        errors = self._chat.validate(parsed)
        if errors is not None:
            return _unprocessable(errors)
        found = self._lookup(parsed)
        if isinstance(found, Response):
            return found
        model = found
        mid = model.id
        if parsed.get("tools") and not model.supports_function_calling:
            return _invalid(f"Invalid request: Model '{mid}' does not support tool calling")
        tool, tool_error = select_tool(parsed)
        if tool_error is not None:
            return _invalid(f"Invalid request: {tool_error}")
        effort = parsed.get("reasoning_effort")
        if effort is not None:
            if not model.supports_reasoning:
                return _invalid(
                    f"Invalid request: Model '{mid}' does not support reasoning_effort: it is not a reasoning model"
                )
            if effort not in model.reasoning_efforts:
                levels = ", ".join(model.reasoning_efforts)
                return _invalid(
                    f"Invalid request: Model '{mid}' does not support reasoning_effort "
                    f"'{effort}'; supported levels: [{levels}]"
                )
        messages = parsed["messages"]
        if not model.supports_vision and has_image(messages):
            return _invalid(f"Invalid request: Model '{mid}' does not support image inputs")
        rf = parsed.get("response_format")
        if isinstance(rf, dict) and rf.get("type") == "json_schema" and not model.supports_response_schema:
            return _invalid(
                f"Invalid request: Model '{mid}' does not support structured output (response_format json_schema)"
            )
        prompt_tokens = estimate_tokens(message_chars(messages))
        if model.context_window is not None:
            cap = parsed.get("max_completion_tokens")
            if cap is None:
                cap = parsed.get("max_tokens")
            requested = cap if isinstance(cap, int) else 0
            if prompt_tokens + requested > model.context_window:
                return self._context_error(model.context_window, prompt_tokens, requested)
        result = build_chat(parsed, model, prompt_tokens, tool)
        if parsed.get("stream") is True:
            options = parsed.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            return StreamResponse(chat_stream_events(result, include_usage), delay=self.chunk_delay)
        return _json_reply(200, chat_response(result))

    def _text_completion(self, parsed: Any, json_error: ValueError | None, raw: bytes) -> Reply:
        early = self._body_errors(parsed, json_error, raw)
        if early is not None:
            return early
        errors = self._completion.validate(parsed)
        if errors is not None:
            return _unprocessable(errors)
        found = self._lookup(parsed)
        if isinstance(found, Response):
            return found
        model = found
        if model.context_window is not None:
            prompt = parsed["prompt"]
            prompts = [prompt] if isinstance(prompt, str) else prompt
            cap = parsed.get("max_tokens")
            requested = cap if isinstance(cap, int) else 16
            for p in prompts:
                tokens = estimate_tokens(len(p))
                if tokens + requested > model.context_window:
                    return self._context_error(model.context_window, tokens, requested)
        # CompletionRequest declares no "stream": a stream flag is ignored (JSON answer).
        return _json_reply(200, completion_response(parsed, model))


# --------------------------------------------------------------------------
# Runners
# --------------------------------------------------------------------------


def _run_loop(
    loop: asyncio.AbstractEventLoop,
    server: HttpServer,
    host: str,
    port: int,
    ready: threading.Event,
    failure: list[BaseException],
) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(server.start(host, port))
    except BaseException as exc:  # bind errors go back to start()
        failure.append(exc)
        ready.set()
        asyncio.set_event_loop(None)
        loop.close()
        return
    ready.set()
    try:
        loop.run_forever()
    finally:
        try:
            loop.run_until_complete(server.close())
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


class Emulator:
    """The CompactifAI emulator running on a background thread.

    ``start()`` returns once the socket listens; ``stop()`` closes the listener
    and every open connection and joins the thread.  Use it as a context
    manager, start/stop it as often as needed (``port=0`` picks a fresh port
    on every start).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        models: Iterable[EmulatedModel] | None = None,
        api_keys: Iterable[str] | None = None,
        record: bool = True,
        chunk_delay: float = 0.0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.app = App(models=models, api_keys=api_keys, record=record, chunk_delay=chunk_delay)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: HttpServer | None = None
        self._port = 0
        self._state_lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Emulator:
        with self._state_lock:
            if self.running:
                raise RuntimeError("emulator already running")
            loop = asyncio.new_event_loop()
            server = HttpServer(self.app.handle, static_headers=STATIC_HEADERS)
            ready = threading.Event()
            failure: list[BaseException] = []

            # The thread must not reference ``self``: a forgotten Emulator can then be
            # garbage collected, and ``__del__`` stops it.
            thread = threading.Thread(
                target=_run_loop,
                args=(loop, server, self.host, self._requested_port, ready, failure),
                name="compactifai-emulator",
                daemon=True,
            )
            thread.start()
            ready.wait()
            if failure:
                thread.join()
                raise failure[0]
            self._loop, self._thread, self._server = loop, thread, server
            self._port = server.port
            return self

    def stop(self) -> None:
        with self._state_lock:
            loop, thread, server = self._loop, self._thread, self._server
            self._loop = self._thread = self._server = None
            if loop is None or thread is None or server is None:
                return
            if thread.is_alive():
                try:
                    fut = asyncio.run_coroutine_threadsafe(server.close(), loop)
                    fut.result(timeout=10)
                except Exception:  # pragma: no cover - loop already gone  # noqa: S110
                    pass
                loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)

    def __enter__(self) -> Emulator:
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            if self._thread is not None and self._thread.is_alive():
                self.stop()
        except Exception:  # noqa: S110
            pass

    # -- addresses ---------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (0 before the first start)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port`` (no ``/v1``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def base_url(self) -> str:
        """``http://host:port/v1``, the OpenAI-style base URL."""
        return self.url + "/v1"

    @property
    def open_connections(self) -> int:
        return self._server.connections if self._server is not None else 0

    # -- configuration (thread-safe, effective immediately) ---------------

    @property
    def models(self) -> list[EmulatedModel]:
        return self.app.models

    def get_model(self, model_id: str) -> EmulatedModel | None:
        return self.app.get_model(model_id)

    def add_model(self, model: EmulatedModel) -> None:
        """Add a model (replacing one with the same id)."""
        self.app.add_model(model)

    def remove_model(self, model_id: str) -> EmulatedModel:
        """Remove a model; ``KeyError`` if absent."""
        return self.app.remove_model(model_id)

    def set_models(self, models: Iterable[EmulatedModel]) -> None:
        """Replace the whole catalog."""
        self.app.set_models(models)

    @property
    def api_keys(self) -> frozenset[str] | None:
        return self.app.api_keys

    @api_keys.setter
    def api_keys(self, keys: Iterable[str] | None) -> None:
        self.app.api_keys = keys

    @property
    def record(self) -> bool:
        return self.app.record

    @record.setter
    def record(self, value: bool) -> None:
        self.app.record = value

    @property
    def chunk_delay(self) -> float:
        return self.app.chunk_delay

    @chunk_delay.setter
    def chunk_delay(self, seconds: float) -> None:
        self.app.chunk_delay = seconds

    # -- faults --------------------------------------------------------

    def inject(self, fault: str | Fault | FaultSpec, model: str | None = None, times: int | None = None) -> FaultSpec:
        """Inject a fault for every request (or those for ``model``).

        ``times=None`` keeps it until :meth:`clear_faults`; otherwise it fires
        for that many requests.  ``fault`` is a :class:`Fault` or its name,
        ``"slow:<seconds>"`` for a delay.
        """
        return self.app.faults.inject(fault, model=model, times=times)

    def clear_faults(self) -> None:
        self.app.faults.clear()

    @property
    def faults(self) -> list[tuple[FaultSpec, str | None, int | None]]:
        """Active injected faults as ``(spec, model, remaining)``."""
        return self.app.faults.active()

    # -- recording -----------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the recorded requests, oldest first."""
        return self.app.requests

    @property
    def last_request(self) -> RecordedRequest | None:
        reqs = self.app.requests
        return reqs[-1] if reqs else None

    def clear_requests(self) -> None:
        self.app.clear_requests()


def serve(
    host: str = "127.0.0.1",
    port: int = 8787,
    models: Iterable[EmulatedModel] | None = None,
    api_keys: Iterable[str] | None = None,
    *,
    chunk_delay: float = 0.0,
    record: bool = False,
    announce: bool = True,
) -> None:
    """Serve the emulator in the foreground until SIGINT/SIGTERM."""
    app = App(models=models, api_keys=api_keys, record=record, chunk_delay=chunk_delay)

    async def main() -> None:
        server = HttpServer(app.handle, static_headers=STATIC_HEADERS)
        bound = await server.start(host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
                pass
        if announce:
            shown = f"[{host}]" if ":" in host else host
            print(f"CompactifAI emulator listening on http://{shown}:{bound}/v1", flush=True)
        try:
            await stop.wait()
        finally:
            await server.close()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:  # pragma: no cover - platforms without signal handlers
        pass


__all__ = ["App", "Emulator", "RecordedRequest", "serve"]
