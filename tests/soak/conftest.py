"""Soak tests: the ``soak`` marker, and the proxy tests' harness (``tests/proxy``) reused as it is.

``tests/proxy`` is put on the import path for ``proxy_harness``, and its conftest's fixtures
``launch`` (proxies stopped with their whole process group when the module ends) and
``_proxy_requirements`` (skip without ``litellm[proxy]`` / ``openai``) are re-exported here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

PROXY_TESTS = Path(__file__).resolve().parents[1] / "proxy"
if str(PROXY_TESTS) not in sys.path:
    sys.path.insert(0, str(PROXY_TESTS))

_spec = importlib.util.spec_from_file_location("_compactifai_proxy_tests_conftest", PROXY_TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
_proxy_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_proxy_conftest)

launch = _proxy_conftest.launch
_proxy_requirements = _proxy_conftest._proxy_requirements


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "soak: bounded load through the LiteLLM proxy (minutes); runs only with COMPACTIFAI_SOAK=1"
    )
