"""A minimal HTTP/1.1 server on asyncio streams.

Just enough HTTP for an API emulator, kept small and fast:

* request line + headers (``\\r\\n`` separated, names lower-cased, repeated
  headers joined with ``", "``), ``Content-Length`` or chunked request bodies,
  ``Expect: 100-continue``;
* persistent connections (HTTP/1.1 default; HTTP/1.0 with ``keep-alive``);
* plain responses with ``Content-Length`` and streamed responses with
  ``Transfer-Encoding: chunked`` (close-delimited for HTTP/1.0 clients);
* the misbehaviours the fault injector needs: a body shorter than its declared
  length followed by a close, a stream cut short, and a connection reset.

Every response carries ``x-request-id`` (the request's own, echoed, or a fresh
one) plus the configured static headers.  No pipelining guarantees beyond
in-order processing of requests on one connection, no TLS, no HTTP/2.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import struct
import time
from collections.abc import Awaitable
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, Callable, Union

log = logging.getLogger("litellm_compactifai.emulator")

MAX_HEADER_BYTES = 1 << 20
MAX_BODY_BYTES = 64 << 20
MAX_HEADERS = 200

_REASONS = {s.value: s.phrase for s in HTTPStatus}


class Request:
    """One parsed HTTP request."""

    __slots__ = ("body", "headers", "keep_alive", "method", "path", "query", "request_id", "target", "version")

    def __init__(
        self,
        method: str,
        target: str,
        version: str,
        headers: dict[str, str],
        body: bytes = b"",
    ) -> None:
        self.method = method
        self.target = target
        path, _, query = target.partition("?")
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        conn = headers.get("connection", "").lower()
        if version == "HTTP/1.0":
            self.keep_alive = "keep-alive" in conn
        else:
            self.keep_alive = "close" not in conn
        rid = headers.get("x-request-id")
        if rid and len(rid) <= 200 and rid.isascii() and rid.isprintable():
            self.request_id = rid
        else:
            self.request_id = secrets.token_hex(16)


class Response:
    """A complete response.

    ``truncate_to`` sends only that many body bytes (the declared
    ``Content-Length`` stays the full size) and then closes the connection.
    """

    __slots__ = ("body", "close", "content_type", "headers", "status", "truncate_to")

    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: list[tuple[str, str]] | None = None,
        close: bool = False,
        truncate_to: int | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers
        self.close = close
        self.truncate_to = truncate_to


class StreamResponse:
    """A chunked response made of pre-rendered events.

    ``delay`` seconds pass between events; with ``cut_after`` set, the
    connection is closed after that many events (no terminating chunk).
    """

    __slots__ = ("content_type", "cut_after", "delay", "events", "headers", "status")

    def __init__(
        self,
        events: list[bytes],
        status: int = 200,
        content_type: str = "text/event-stream; charset=utf-8",
        headers: list[tuple[str, str]] | None = None,
        delay: float = 0.0,
        cut_after: int | None = None,
    ) -> None:
        self.events = events
        self.status = status
        self.content_type = content_type
        self.headers = headers
        self.delay = delay
        self.cut_after = cut_after


class Abort:
    """Drop the connection without answering (``rst``: send a TCP reset)."""

    __slots__ = ("rst",)

    def __init__(self, rst: bool = True) -> None:
        self.rst = rst


Reply = Union[Response, StreamResponse, Abort]
Handler = Callable[[Request], Awaitable[Reply]]

_INTERNAL_ERROR = b'{"detail":"Unexpected server error"}'


class _BadRequest(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _DateCache:
    __slots__ = ("_second", "_value")

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def get(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = formatdate(now, usegmt=True)
        return self._value


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    text = head.decode("latin-1")
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise _BadRequest(400, "Invalid HTTP request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        if version.startswith("HTTP/"):
            raise _BadRequest(505, "HTTP Version Not Supported")
        raise _BadRequest(400, "Invalid HTTP request line")
    if not target.startswith("/") and target != "*":
        if "://" in target:  # absolute-form
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        else:
            raise _BadRequest(400, "Invalid request target")
    headers: dict[str, str] = {}
    count = 0
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise _BadRequest(400, "Invalid HTTP header")
        count += 1
        if count > MAX_HEADERS:
            raise _BadRequest(431, "Too many headers")
        key = name.lower()
        value = value.strip()
        prev = headers.get(key)
        headers[key] = value if prev is None else prev + ", " + value
    return method, target, version, headers


class HttpServer:
    """Serve ``handler`` over HTTP/1.1 on an asyncio loop."""

    def __init__(
        self,
        handler: Handler,
        static_headers: list[tuple[str, str]] | None = None,
        max_body: int = MAX_BODY_BYTES,
    ) -> None:
        self._handler = handler
        self._static = "".join(f"{k}: {v}\r\n" for k, v in (static_headers or []))
        self._max_body = max_body
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._date = _DateCache()
        self.host = ""
        self.port = 0

    async def start(self, host: str, port: int) -> int:
        """Bind and listen; returns the bound port."""
        self._server = await asyncio.start_server(
            self._connection, host, port, limit=MAX_HEADER_BYTES, reuse_address=True
        )
        sockets = self._server.sockets
        self.host = host
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        return self.port

    @property
    def connections(self) -> int:
        return len(self._writers)

    async def close(self) -> None:
        """Stop listening and drop every open connection."""
        server = self._server
        self._server = None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = [t for t in self._tasks if not t.done()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    # ------------------------------------------------------------------

    def _head(
        self,
        status: int,
        content_type: str,
        request_id: str,
        extra: list[tuple[str, str]] | None,
        keep_alive: bool,
        length: int | None,
        elapsed_ms: int,
        http10: bool = False,
    ) -> bytes:
        parts = [
            "HTTP/1.1 ",
            str(status),
            " ",
            _REASONS.get(status, "Unknown"),
            "\r\ndate: ",
            self._date.get(),
            "\r\ncontent-type: ",
            content_type,
            "\r\n",
        ]
        if length is None:
            parts.append("transfer-encoding: chunked\r\ncache-control: no-cache\r\n")
        else:
            parts.append(f"content-length: {length}\r\n")
        parts.append(f"x-request-id: {request_id}\r\n")
        parts.append(f"x-envoy-upstream-service-time: {elapsed_ms}\r\n")
        parts.append(self._static)
        if extra:
            for k, v in extra:
                parts.append(f"{k}: {v}\r\n")
        if not keep_alive:
            parts.append("connection: close\r\n")
        elif http10:
            parts.append("connection: keep-alive\r\n")
        parts.append("\r\n")
        return "".join(parts).encode("latin-1", "replace")

    async def _read_body(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]
    ) -> bytes:
        te = headers.get("transfer-encoding")
        cl = headers.get("content-length")
        if te is None and cl is None:
            return b""
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if te is not None:
            if te.lower() != "chunked":
                raise _BadRequest(501, "Unsupported transfer encoding")
            chunks: list[bytes] = []
            total = 0
            while True:
                line = await reader.readuntil(b"\r\n")
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError as exc:
                    raise _BadRequest(400, "Invalid chunk size") from exc
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    return b"".join(chunks)
                total += size
                if total > self._max_body:
                    raise _BadRequest(413, "Request body too large")
                data = await reader.readexactly(size + 2)
                chunks.append(data[:-2])
        assert cl is not None
        try:
            length = int(cl)
        except ValueError as exc:
            raise _BadRequest(400, "Invalid Content-Length") from exc
        if length < 0:
            raise _BadRequest(400, "Invalid Content-Length")
        if length > self._max_body:
            raise _BadRequest(413, "Request body too large")
        return await reader.readexactly(length) if length else b""

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        aborted = False
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    break
                except asyncio.LimitOverrunError:
                    await self._error(writer, 431, "Request header fields too large")
                    break
                try:
                    method, target, version, headers = _parse_head(head)
                    body = await self._read_body(reader, writer, headers)
                except _BadRequest as exc:
                    await self._error(writer, exc.status, exc.detail)
                    break
                except asyncio.LimitOverrunError:
                    await self._error(writer, 400, "Invalid chunked body")
                    break
                request = Request(method, target, version, headers, body)
                started = time.perf_counter()
                try:
                    reply = await self._handler(request)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("emulator handler failed for %s %s", method, target)
                    reply = Response(500, _INTERNAL_ERROR)
                elapsed = int((time.perf_counter() - started) * 1000)
                if isinstance(reply, Response):
                    keep = await self._send(writer, request, reply, elapsed)
                elif isinstance(reply, StreamResponse):
                    keep = await self._stream(writer, request, reply, elapsed)
                else:
                    self._abort(writer, reply.rst)
                    aborted = True
                    break
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        except Exception:  # pragma: no cover - defensive
            log.exception("emulator connection failed")
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            if not aborted:
                try:
                    writer.close()
                except Exception:  # pragma: no cover - defensive  # noqa: S110
                    pass

    async def _send(self, writer: asyncio.StreamWriter, request: Request, reply: Response, elapsed: int) -> bool:
        body = reply.body
        keep = request.keep_alive and not reply.close and reply.truncate_to is None
        head = self._head(
            reply.status,
            reply.content_type,
            request.request_id,
            reply.headers,
            keep,
            len(body),
            elapsed,
            request.version == "HTTP/1.0",
        )
        if reply.truncate_to is not None:
            writer.write(head + body[: reply.truncate_to])
            await writer.drain()
            return False
        writer.write(head + body)
        await writer.drain()
        return keep

    async def _stream(
        self, writer: asyncio.StreamWriter, request: Request, reply: StreamResponse, elapsed: int
    ) -> bool:
        chunked = request.version != "HTTP/1.0"
        keep = request.keep_alive and chunked and reply.cut_after is None
        if chunked:
            head = self._head(
                reply.status,
                reply.content_type,
                request.request_id,
                reply.headers,
                keep,
                None,
                elapsed,
            )
        else:
            head = self._head_close_delimited(reply, request, elapsed)

        def frame(event: bytes) -> bytes:
            if not chunked:
                return event
            return b"%x\r\n%b\r\n" % (len(event), event)

        events = reply.events
        if reply.delay <= 0 and reply.cut_after is None:
            payload = b"".join(frame(e) for e in events)
            writer.write(head + payload + (b"0\r\n\r\n" if chunked else b""))
            await writer.drain()
            return keep
        writer.write(head)
        for i, event in enumerate(events):
            if reply.cut_after is not None and i >= reply.cut_after:
                await writer.drain()
                return False
            if i and reply.delay > 0:
                await writer.drain()
                await asyncio.sleep(reply.delay)
            writer.write(frame(event))
        if chunked:
            writer.write(b"0\r\n\r\n")
        await writer.drain()
        return keep

    def _head_close_delimited(self, reply: StreamResponse, request: Request, elapsed: int) -> bytes:
        # HTTP/1.0 has no chunked encoding: the body ends when the connection does.
        head = self._head(reply.status, reply.content_type, request.request_id, reply.headers, False, 0, elapsed)
        return head.replace(b"content-length: 0\r\n", b"")

    async def _error(self, writer: asyncio.StreamWriter, status: int, detail: str) -> None:
        body = ('{"detail":"' + detail.replace('"', "'") + '"}').encode()
        head = self._head(status, "application/json", secrets.token_hex(16), None, False, len(body), 0)
        try:
            writer.write(head + body)
            await writer.drain()
        except ConnectionError:
            pass

    @staticmethod
    def _abort(writer: asyncio.StreamWriter, rst: bool) -> None:
        if rst:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:  # pragma: no cover - platform specific
                    pass
        writer.transport.abort()


__all__ = ["Abort", "Handler", "HttpServer", "Reply", "Request", "Response", "StreamResponse"]
