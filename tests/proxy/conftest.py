"""Fixtures for the proxy tests: proxies started with ``launch`` and a throwaway Redis, each stopped
with its whole process group when its module ends (also when a test or the start fails)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from typing import Iterator, List, Tuple

import pytest
from proxy_harness import Launch, Proxy, die_with_parent, free_port, missing_proxy_requirements, proxy_env, stop_group


@pytest.fixture(scope="session", autouse=True)
def _proxy_requirements() -> None:
    reason = missing_proxy_requirements()
    if reason:
        pytest.skip(f"{reason}: pip install 'litellm[proxy]' openai")


@pytest.fixture(scope="module")
def launch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launch]:
    """``launch(config_text, emu_base_url, workers=2, name=..., wait=True, **env)``: a proxy (ready
    unless ``wait=False``, then call ``wait_ready()``), stopped when the module ends."""
    started: List[Proxy] = []

    def _launch(
        config_text: str, emu_base_url: str, workers: int = 2, name: str = "proxy", wait: bool = True, **env: str
    ) -> Proxy:
        directory = tmp_path_factory.mktemp(name)
        config = directory / "config.yaml"
        config.write_text(config_text, encoding="utf-8")
        proxy = Proxy(config, proxy_env(emu_base_url, **env), workers, directory / "proxy.log")
        started.append(proxy)
        proxy.start()
        if wait:
            try:
                proxy.wait_ready()
            except BaseException:
                proxy.stop()
                raise
        return proxy

    yield _launch
    for proxy in started:
        proxy.stop()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[str, int]]:
    """A throwaway Redis on 127.0.0.1 (no persistence), as ``(host, port)``."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian/Ubuntu: apt-get install -y redis-server)")
    directory = tmp_path_factory.mktemp("redis")
    port = free_port()
    with open(directory / "redis.log", "wb") as log:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start:\n" + (directory / "redis.log").read_text())
            time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        stop_group(process, grace=5)
