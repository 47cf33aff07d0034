"""The docs can't rot: every ```python block in docs/*.md runs against the emulator, and the models
page is generated from the catalog.

A block preceded by ``<!-- no-test -->`` on the line before its fence is skipped (snippets that only
make sense elsewhere, such as the real API's address in a "before" example); the rest run as they
are, each in a fresh namespace, with ``COMPACTIFAI_API_KEY`` / ``COMPACTIFAI_API_BASE`` pointing at
an in-process emulator.
"""

from __future__ import annotations

import copy
import importlib.util
import io
import os
import re
import subprocess
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List

import litellm
import pytest
import yaml

from litellm_compactifai import capabilities, catalog
from litellm_compactifai.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
KEY = "docs-example-key-3141"
NO_TEST = "<!-- no-test -->"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
# Pages this package's docs own (proxy.md is written separately, but its Python blocks run too).
OWN_PAGES = ["index.md", "sdk.md", "models.md", "errors.md", "migration.md", "troubleshooting.md", "changelog.md"]


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    language: str
    code: str
    skipped: bool

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(language: str) -> List[Block]:
    found = []
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match.group(1) != language:
                continue
            line = text.count("\n", 0, match.start()) + 1
            previous = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
            found.append(Block(path.name, line, language, match.group(2), previous == NO_TEST))
    return found


PYTHON = blocks("python")
RUNNABLE = [b for b in PYTHON if not b.skipped]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_keys={KEY}) as server:
        yield server


@pytest.fixture
def docs_env(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The emulator behind the two environment variables, and LiteLLM's model info restored afterwards
    (examples call register_model and refresh_models)."""
    emu.clear_requests()
    emu.clear_faults()
    monkeypatch.setenv("COMPACTIFAI_API_KEY", KEY)
    monkeypatch.setenv("COMPACTIFAI_API_BASE", emu.base_url)
    saved_cost = {k: copy.deepcopy(v) for k, v in litellm.model_cost.items() if k.startswith("compactifai/")}
    saved_known = copy.deepcopy(capabilities._known)
    try:
        yield emu
    finally:
        for key in [k for k in litellm.model_cost if k.startswith("compactifai/") and k not in saved_cost]:
            del litellm.model_cost[key]
        litellm.model_cost.update(saved_cost)
        capabilities._known.clear()
        capabilities._known.update(saved_known)


def test_the_docs_have_examples_to_run() -> None:
    assert len(RUNNABLE) >= 20, [b.id for b in RUNNABLE]
    # Only a few blocks of these pages may opt out, and each must be a deliberate one.
    assert len([b for b in PYTHON if b.skipped and b.page in OWN_PAGES]) <= 3


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_python_example_runs(block: Block, docs_env: Emulator) -> None:
    namespace: Dict[str, Any] = {"__name__": "__docs_example__"}
    out = io.StringIO()
    with redirect_stdout(out):
        exec(compile(block.code, f"docs/{block.id}", "exec"), namespace)  # noqa: S102 - the docs' own code
    # Every request the example made carried the CompactifAI key (or one the example passes itself),
    # never another provider's (conftest sets OPENAI_API_KEY and litellm.api_key to a sentinel).
    openai_key = os.environ["OPENAI_API_KEY"]
    for request in docs_env.requests:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ")
        assert sent != openai_key, (block.id, request.path)
        assert sent == KEY or f'"{sent}"' in block.code, (block.id, request.path, sent)
    # Examples print what they show; an example whose output is empty shows nothing.
    assert out.getvalue().strip(), f"{block.id} printed nothing"


def test_an_example_that_raises_fails_the_test(docs_env: Emulator) -> None:
    code = (
        'import litellm\nlitellm.completion(model="compactifai/nope-0b", messages=[{"role": "user", "content": "x"}])'
    )
    with pytest.raises(litellm.NotFoundError, match="nope-0b"):
        test_python_example_runs(Block("sdk.md", 0, "python", code, False), docs_env)


def test_no_test_marker_is_honoured() -> None:
    text = "intro\n<!-- no-test -->\n```python\nraise SystemExit\n```\n\n```python\nprint(1)\n```\n"
    skipped = [m for m in FENCE.finditer(text)]
    assert len(skipped) == 2
    first_previous = text[: skipped[0].start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
    second_previous = text[: skipped[1].start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
    assert first_previous == NO_TEST and second_previous != NO_TEST


@pytest.mark.parametrize("page", OWN_PAGES)
def test_yaml_blocks_parse(page: str) -> None:
    for block in [b for b in blocks("yaml") if b.page == page]:
        assert yaml.safe_load(block.code) is not None, block.id


# --- the two commands are the README's -----------------------------------------------------------------


def _command_after(text: str, marker: str) -> str:
    lines = text.splitlines()
    index = lines.index(marker)
    assert lines[index + 1] == "```bash", marker
    return lines[index + 2]


@pytest.mark.parametrize("marker", ["<!-- demo-command -->", "<!-- test-command -->"])
def test_index_commands_are_the_readme_commands(marker: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert _command_after(index, marker) == _command_after(readme, marker)


def _table_starting(text: str, header: str) -> List[str]:
    lines = text.splitlines()
    start = lines.index(header)
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    return table


def test_migration_comparison_is_the_readme_table() -> None:
    header = "| | this package | built-in `compactifai/` | `openai/` + `api_base` |"
    readme = _table_starting((ROOT / "README.md").read_text(encoding="utf-8"), header)
    migration = _table_starting((DOCS / "migration.md").read_text(encoding="utf-8"), header)
    assert len(readme) > 5 and migration == readme


# --- the models page ------------------------------------------------------------------------------------


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_models_page_is_generated_from_the_catalog() -> None:
    hooks = _hooks()
    source = (DOCS / "models.md").read_text(encoding="utf-8")
    assert source.count(hooks.MARKER) == 1
    assert not re.search(r"^\| `", source, re.MULTILINE), "models.md has a hand-written table row"

    class Page:
        class file:  # noqa: N801 - mimics mkdocs.structure.files.File
            src_uri = "models.md"

    rendered = hooks.on_page_markdown(source, page=Page, config=None, files=None)
    assert hooks.MARKER not in rendered
    assert catalog.markdown_table() in rendered
    for record in catalog.CATALOG.values():
        if record.mode == "chat":
            for source_text in record.sources.values():
                assert source_text.replace("|", "\\|") in rendered, (record.id, source_text)
    # Other pages pass through untouched, and a page that lost its marker is an error.
    Page.file.src_uri = "sdk.md"
    assert hooks.on_page_markdown(source, page=Page, config=None, files=None) == source
    with pytest.raises(ValueError, match="marker"):
        hooks.fill("no marker here")


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install -e '.[docs]')")
    pytest.importorskip("material", reason="mkdocs-material is not installed (pip install -e '.[docs]')")
    if not (DOCS / "proxy.md").exists():
        pytest.fail("docs/proxy.md is in the nav but does not exist yet")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    html = (site / "models" / "index.html").read_text(encoding="utf-8")
    for record in catalog.CATALOG.values():
        if record.mode == "chat":
            assert f"<td><code>{record.id}</code></td>" in html, record.id
    assert "<!-- models-table -->" not in html
    assert not (site / "hooks.py").exists()
