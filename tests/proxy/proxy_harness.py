"""Helpers for the proxy tests.

The real LiteLLM proxy, as an operator runs it: the ``litellm`` CLI of this virtual environment,
started from ``proxy_config.example.yaml`` (copied into a directory of its own, so nothing next to
the config can stand in for the installed package), pointed at an in-process emulator through
``COMPACTIFAI_API_BASE`` / ``COMPACTIFAI_API_KEY``, offline, on free ports.

Every process started here runs in a session of its own and is stopped with its whole process
group (uvicorn workers included); on Linux the direct child also gets SIGTERM if pytest dies.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import httpx

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = ROOT / "proxy_config.example.yaml"
# The CompactifAI key the emulator accepts. It must never show up in the proxy's output or answers.
KEY = "cai-proxy-test-key-5b1e0c7d9a"
MASTER_KEY = "sk-proxy-master-4242"
OPENAI_SENTINEL = "sk-openai-sentinel-proxy-must-not-leak"
STARTUP_TIMEOUT = 180.0
LITELLM_CLI = Path(sys.executable).parent / "litellm"
# One line per worker: the proxy prints its success callbacks, whose repr names the worker's pid.
HANDLER_LINE = re.compile(r"litellm_compactifai\.proxy\.handler\(pid=(\d+), route=([\w-]+)\)")
STARTED_LINE = "Application startup complete."


def litellm_version() -> Tuple[int, ...]:
    from importlib.metadata import version

    return tuple(int(part) for part in re.findall(r"\d+", version("litellm"))[:3])


# LiteLLM 1.84.0 - 1.93.x resolve success_callback names only as files next to the config: there the
# example config's loader line is replaced by the worker startup hook, as docs/proxy.md says.
SUCCESS_CALLBACK_GAP = ((1, 84), (1, 94))
LOADER_LINE = '  success_callback: ["litellm_compactifai.proxy.handler"]\n'
STARTUP_HOOK = "litellm_compactifai:register"


def loads_through_success_callback() -> bool:
    return not (SUCCESS_CALLBACK_GAP[0] <= litellm_version()[:2] < SUCCESS_CALLBACK_GAP[1])


def example_config() -> Tuple[str, Dict[str, str]]:
    """The example config as this release runs it, and the environment it needs for that."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    assert text.count(LOADER_LINE) == 1
    if loads_through_success_callback():
        return text, {}
    return text.replace(LOADER_LINE, ""), {"LITELLM_WORKER_STARTUP_HOOKS": STARTUP_HOOK}


def missing_proxy_requirements() -> Optional[str]:
    missing = [m for m in ("fastapi", "uvicorn", "yaml", "openai", "backoff") if importlib.util.find_spec(m) is None]
    if missing:
        return f"the proxy tests need litellm[proxy] and openai (missing: {', '.join(missing)})"
    if not LITELLM_CLI.exists():
        return f"no `litellm` console script next to {sys.executable}"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli_supports(option: str) -> bool:
    spec = importlib.util.find_spec("litellm.proxy.proxy_cli")
    return bool(spec and spec.origin and option in Path(spec.origin).read_text(encoding="utf-8"))


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_group(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # Whatever is left of the group (workers that outlived their supervisor).
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if process.poll() is None:
        process.wait(timeout=5)


def redact(text: str) -> str:
    """``text`` without the CompactifAI key or any long piece of it (safe to print)."""
    return text.replace(KEY, "<COMPACTIFAI KEY>").replace(KEY[-12:], "<PART OF THE COMPACTIFAI KEY>")


def assert_contains(text: str, needle: str) -> None:
    """``needle in text``, reported without printing the key should ``text`` hold it."""
    found = needle in text
    assert found, f"{needle!r} not in: {redact(text)[-3000:]}"


def assert_lacks(text: str, needle: str) -> None:
    found = needle in text
    assert not found, f"{redact(needle)!r} is in the text"


class Proxy:
    """One ``litellm --config ...`` process group, its address and everything it printed."""

    def __init__(self, config: Path, env: Dict[str, str], workers: int, log_path: Path) -> None:
        self.config = config
        self.env = env
        self.workers = workers
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: Optional[subprocess.Popen[bytes]] = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        args = [str(LITELLM_CLI), "--config", str(self.config), "--host", "127.0.0.1", "--port", str(self.port)]
        args += ["--num_workers", str(self.workers)]
        if self.workers > 1 and _cli_supports("--timeout_worker_healthcheck"):
            # uvicorn >= 0.30 restarts a worker that has not answered its health check within 5 s;
            # importing the proxy takes longer than that on a small machine.
            args += ["--timeout_worker_healthcheck", "120"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                args,
                cwd=self.config.parent,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl, no locks
            )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def handler_lines(self) -> List[Tuple[int, str]]:
        return [(int(pid), route) for pid, route in HANDLER_LINE.findall(self.log())]

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Until ``/health/liveliness`` answers and every worker has finished its startup."""
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"the proxy exited with {self.process.returncode}:\n{self._tail()}")
                if self.log().count(STARTED_LINE) >= self.workers:
                    try:
                        if client.get(self.url + "/health/liveliness").status_code == 200:
                            return
                    except httpx.HTTPError:
                        pass
                time.sleep(0.25)
        raise RuntimeError(f"the proxy was not ready within {timeout:.0f} s:\n{self._tail()}")

    def _tail(self, lines: int = 60) -> str:
        return redact("\n".join(self.log().splitlines()[-lines:]))

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)

    def openai(self, **kwargs: Any) -> Any:
        import openai

        return openai.OpenAI(
            base_url=self.url + "/v1",
            api_key=kwargs.pop("api_key", MASTER_KEY),
            max_retries=0,
            http_client=httpx.Client(trust_env=False, timeout=kwargs.pop("timeout", 90.0)),
            **kwargs,
        )

    def http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {MASTER_KEY}"}, trust_env=False, timeout=90.0
        )


def proxy_env(emu_base_url: str, **extra: str) -> Dict[str, str]:
    """The proxy's environment: the emulator behind the two CompactifAI variables, offline, and no
    setting of the test runner's own (keys, bases, Redis, database) leaking in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COMPACTIFAI_", "LITELLM_", "REDIS_", "OPENAI_", "DATABASE_"))
        and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env.update(
        COMPACTIFAI_API_KEY=KEY,
        COMPACTIFAI_API_BASE=emu_base_url,
        LITELLM_MASTER_KEY=MASTER_KEY,
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        # Another provider's key in the environment, which must never reach CompactifAI.
        OPENAI_API_KEY=OPENAI_SENTINEL,
        PYTHONUNBUFFERED="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    env.update(extra)
    return env


Launch = Callable[..., Proxy]
