"""docs/proxy.md walks through the example config line by line, and can't drift from it."""

from __future__ import annotations

import re
from typing import List, Tuple

import yaml
from proxy_harness import EXAMPLE_CONFIG, ROOT

PAGE = ROOT / "docs" / "proxy.md"
EXCERPT = "<!-- excerpt: proxy_config.example.yaml -->"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def yaml_blocks() -> List[Tuple[bool, str]]:
    """``(is an excerpt of the example, code)`` for every yaml block of the page."""
    text = PAGE.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        if match.group(1) == "yaml":
            previous = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
            found.append((previous == EXCERPT, match.group(2)))
    return found


def test_every_yaml_block_parses() -> None:
    blocks = yaml_blocks()
    assert len(blocks) >= 7
    for _, code in blocks:
        only_comments = all(line.lstrip().startswith("#") for line in code.splitlines() if line.strip())
        assert only_comments or yaml.safe_load(code) is not None, code


def test_the_excerpts_are_the_example_config_and_cover_all_of_it() -> None:
    example = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    excerpts = [code for is_excerpt, code in yaml_blocks() if is_excerpt]
    for code in excerpts:
        assert code in example, code
    # Every line of the config (after its header comment) is shown and explained somewhere.
    body = example[example.index("model_list:") :]
    shown = {line for code in excerpts for line in code.splitlines()}
    missing = [line for line in body.splitlines() if line.strip() and line not in shown]
    assert missing == []


def test_the_scale_out_block_is_the_example_with_its_lines_uncommented() -> None:
    example = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    uncommented = re.sub(r"^  # (\w+: .*)$", r"  \1", example, flags=re.MULTILINE)
    expected = yaml.safe_load(uncommented)["router_settings"]
    assert set(expected) == {
        "fallbacks",
        "routing_strategy",
        "retry_policy",
        "redis_host",
        "redis_port",
        "redis_password",
    }
    documented = [yaml.safe_load(code) for is_excerpt, code in yaml_blocks() if not is_excerpt]
    assert {"router_settings": expected} in documented
