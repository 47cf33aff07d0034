"""MkDocs hook: fill ``<!-- models-table -->`` in models.md from ``litellm_compactifai.catalog``.

The table is ``catalog.markdown_table()`` (the one the README is checked against), followed by the
source of every fact, so nothing about a model is ever copied into the docs by hand.
Loaded by ``hooks:`` in mkdocs.yml; tests/docs/test_docs_examples.py calls it directly too.
"""

from __future__ import annotations

import os
from typing import Any

# Importing the package imports LiteLLM, which would otherwise fetch its cost map over the network.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from litellm_compactifai import catalog  # noqa: E402

MARKER = "<!-- models-table -->"
PAGE = "models.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def sources_markdown() -> str:
    """Where each fact of each chat model comes from (catalog ``sources`` and ``notes``)."""
    rows = ["| model | fact | source |", "|---|---|---|"]
    for record in catalog.CATALOG.values():
        if record.mode != "chat":
            continue
        for fact, source in record.sources.items():
            rows.append(f"| `{record.id}` | {_cell(fact)} | {_cell(source)} |")
        for note in record.notes:
            rows.append(f"| `{record.id}` | note | {_cell(note)} |")
    return "\n".join(rows)


def models_markdown() -> str:
    """What replaces the marker: the catalog table, then its sources."""
    return (
        catalog.markdown_table()
        + "\n\n## Where each fact comes from\n\n"
        + "Generated from the `sources` and `notes` of each record in `litellm_compactifai/catalog.py`.\n\n"
        + sources_markdown()
        + "\n"
    )


def fill(markdown: str) -> str:
    """``markdown`` with the marker replaced; a page without the marker is an error, not a silent no-op."""
    if MARKER not in markdown:
        raise ValueError(f"{PAGE} lost its {MARKER} marker: the models table would be missing")
    return markdown.replace(MARKER, models_markdown(), 1)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any, **kwargs: Any) -> str:
    if page.file.src_uri == PAGE:
        return fill(markdown)
    return markdown
