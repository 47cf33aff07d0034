"""``litellm-compactifai doctor`` against the emulator: what it reports, its exit status, what reached the wire."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import litellm
import pytest

from litellm_compactifai import catalog, doctor
from litellm_compactifai.emulator import Emulator

KEY = "sk-cai-doctor-good-key-4821"
WRONG_KEY = "sk-cai-doctor-wrong-key-9917"
BASE_CHECKS = ["api_key", "api_base", "key_accepted", "litellm", "route", "tool_gating"]
CONFIG_CHECKS = ["config_file", "config_models", "config_callbacks"]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_keys={KEY}) as server:
        yield server


@pytest.fixture(autouse=True)
def _env(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emu.clear_requests()
    emu.clear_faults()
    monkeypatch.setenv("COMPACTIFAI_API_KEY", KEY)
    monkeypatch.setenv("COMPACTIFAI_API_BASE", emu.base_url)


@pytest.fixture
def closed_base() -> Iterator[str]:
    """A base URL on a local port that refuses connections (bound, never listening)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        sock.close()


def run_text(capsys: pytest.CaptureFixture[str], *argv: str) -> Tuple[int, str, Dict[str, str]]:
    """Exit status, stdout, and each check's status by name (parsed from the text report)."""
    status = doctor.main(list(argv))
    out = capsys.readouterr().out
    statuses = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("PASS", "FAIL", "WARN", "SKIP"):
            statuses[parts[1]] = parts[0].lower()
    return status, out, statuses


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Tuple[int, Dict[str, Any]]:
    status = doctor.main([*argv, "--json"])
    out = capsys.readouterr().out
    return status, json.loads(out)


def check(report: Dict[str, Any], name: str) -> Dict[str, Any]:
    matches = [c for c in report["checks"] if c["name"] == name]
    assert len(matches) == 1, report
    return matches[0]


def chat_requests(emu: Emulator) -> List[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


def write_config(tmp_path: Path, models: List[str], settings: str) -> str:
    entries = "".join(
        f"  - model_name: m{i}\n    litellm_params:\n      model: {m}\n      api_key: os.environ/COMPACTIFAI_API_KEY\n"
        for i, m in enumerate(models)
    )
    path = tmp_path / "config.yaml"
    path.write_text(f"model_list:\n{entries}\n{settings}", encoding="utf-8")
    return str(path)


GOOD_SETTINGS = 'litellm_settings:\n  success_callback: ["litellm_compactifai.proxy.handler"]\n'


# --- a good setup ----------------------------------------------------------------------------------


def test_good_setup_passes_every_check(emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, statuses = run_text(capsys)
    assert status == 0, out
    assert statuses == {name: "pass" for name in BASE_CHECKS}, out
    assert "doctor: no check failed" in out
    assert f"****{KEY[-4:]}" in out and KEY not in out
    assert emu.base_url in out and "registration path" in out

    # What reached the emulator: the key on GET /v1/models, then exactly one 1-token chat on the
    # cheapest live model; the gated tool call never arrived.
    listing = [r for r in emu.requests if r.path == "/v1/models"]
    assert listing and all(r.headers["authorization"] == f"Bearer {KEY}" for r in listing)
    chats = chat_requests(emu)
    assert len(chats) == 1
    assert chats[0].body["model"] == "cai-mistral-small-3-1-slim"
    assert chats[0].body["max_tokens"] == 1
    assert chats[0].headers["authorization"] == f"Bearer {KEY}"
    assert not any("tools" in (r.body or {}) for r in emu.requests if isinstance(r.body, dict))


def test_route_uses_the_cheapest_model_the_live_list_has() -> None:
    # Published input + output prices: cai-mistral-small-3-1-slim (0.05 + 0.08) beats hypernova-60b (0.04 + 0.14).
    assert doctor.cheapest_chat_model(["hypernova-60b", "cai-mistral-small-3-1-slim", "glm-5-2"]) == (
        "cai-mistral-small-3-1-slim"
    )
    assert doctor.cheapest_chat_model(["glm-5-2", "hypernova-60b"]) == "hypernova-60b"
    # Unpriced and unknown models only when nothing priced is live; audio models never.
    assert doctor.cheapest_chat_model(["cai-whisper-large-v3-turbo-slim", "brand-new-7b"]) == "brand-new-7b"
    assert doctor.cheapest_chat_model(["cai-whisper-large-v3-turbo-slim"]) is None


def test_route_failure_is_reported_with_the_server_words(emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    emu.inject("server_error", model="cai-mistral-small-3-1-slim")
    status, out, statuses = run_text(capsys)
    assert status == 1
    assert statuses["route"] == "fail" and statuses["key_accepted"] == "pass"
    route_line = next(line for line in out.splitlines() if line.startswith("FAIL  route"))
    assert "InternalServerError" in route_line and "compactifai/cai-mistral-small-3-1-slim" in route_line


# --- key problems ------------------------------------------------------------------------------------


def test_wrong_key_is_rejected_and_never_printed(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMPACTIFAI_API_KEY", WRONG_KEY)
    status, out, statuses = run_text(capsys)
    assert status == 1
    assert statuses["api_key"] == "pass" and statuses["key_accepted"] == "fail"
    assert statuses["route"] == "skip"
    line = next(line for line in out.splitlines() if "key_accepted" in line)
    assert "rejected" in line and "401" in line and f"****{WRONG_KEY[-4:]}" in line
    assert "fix: Copy the current key" in out
    assert WRONG_KEY not in out and WRONG_KEY[:-4] not in out
    assert not chat_requests(emu)  # no completion was attempted with a rejected key

    status, report = run_json(capsys)
    assert status == 1 and report["ok"] is False
    assert WRONG_KEY not in json.dumps(report)
    assert check(report, "key_accepted")["data"]["key"] == f"****{WRONG_KEY[-4:]}"


def test_missing_key(emu: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("COMPACTIFAI_API_KEY")
    status, out, statuses = run_text(capsys)
    assert status == 1
    assert statuses["api_key"] == "fail"
    assert "COMPACTIFAI_API_KEY is not set" in out
    # conftest sets OPENAI_API_KEY: the doctor says it is never used, and it never reaches the server.
    assert "OPENAI_API_KEY is set, but other providers' keys are never sent" in out
    assert statuses["api_base"] == "pass"  # the base is still probed, without a key
    assert statuses["key_accepted"] == "skip" and statuses["route"] == "skip"
    assert emu.requests and all("authorization" not in r.headers for r in emu.requests)


def test_blank_key(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COMPACTIFAI_API_KEY", "   ")
    status, out, statuses = run_text(capsys)
    assert status == 1 and statuses["api_key"] == "fail"
    assert "is set but blank" in out


def test_mask_key_shows_at_most_the_last_four_characters() -> None:
    assert doctor.mask_key("sk-cai-abcdefgh1234") == "****1234"
    assert doctor.mask_key("  sk-cai-abcdefgh1234\n") == "****1234"
    assert doctor.mask_key("short-key") == "****"  # too short: showing 4 would show most of it
    assert doctor.mask_key(None) == "(none)"


# --- base problems -----------------------------------------------------------------------------------


def test_unreachable_base(
    emu: Emulator, closed_base: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMPACTIFAI_API_BASE", closed_base)
    status, out, statuses = run_text(capsys)
    assert status == 1
    assert statuses["api_base"] == "fail"
    assert f"cannot reach {closed_base}" in out and "ConnectError" in out
    assert "fix: Check COMPACTIFAI_API_BASE" in out
    assert statuses["key_accepted"] == "skip" and statuses["route"] == "skip"
    # Gating needs no network, so it is still checked.
    assert statuses["tool_gating"] == "pass"
    assert not emu.requests


def test_invalid_base_url(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COMPACTIFAI_API_BASE", "api.compactif.ai/v1")
    status, out, statuses = run_text(capsys)
    assert status == 1 and statuses["api_base"] == "fail"
    assert "is not a usable CompactifAI base URL" in out


def test_base_that_is_not_compactifai(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMPACTIFAI_API_BASE", emu.url)  # without /v1: GET /models is a 404
    status, out, statuses = run_text(capsys)
    assert status == 1
    assert statuses["api_base"] == "pass" and statuses["key_accepted"] == "fail"
    assert "HTTP 404" in out and "should end in /v1" in out


# --- tool gating -------------------------------------------------------------------------------------


def test_gating_failure_is_detected_without_any_request(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # With drop_params forced on, tools are dropped instead of refused: the doctor must say so,
    # and its probe still never reaches a server (it is aimed at a closed local port).
    monkeypatch.setattr(litellm, "drop_params", True)
    status, out, statuses = run_text(capsys)
    assert status == 1
    assert statuses["tool_gating"] == "fail"
    assert "were not refused by the gating" in out
    assert len(chat_requests(emu)) == 1  # only the route check's call


def test_gating_is_skipped_when_no_model_is_marked_without_tools(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(doctor.capabilities, "supports_tools", lambda model: True)
    status, _, statuses = run_text(capsys)
    assert status == 0 and statuses["tool_gating"] == "skip"


# --- a proxy config ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _success_callback_works(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Config tests describe a release where success_callback imports the package (all but 1.84 - 1.93);
    the release-specific test below sets the version itself."""
    if "release" not in request.node.name:
        monkeypatch.setattr(doctor, "_SUCCESS_CALLBACK_FILE_ONLY", ((0, 0, 0), (0, 0, 0)))


def test_good_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(
        tmp_path,
        ["compactifai/hypernova-60b", "compactifai/cai-mistral-small-3-1-slim", "compactifai/*"],
        GOOD_SETTINGS,
    )
    status, out, statuses = run_text(capsys, "--config", path)
    assert status == 0, out
    assert [statuses[n] for n in CONFIG_CHECKS] == ["pass", "pass", "pass"]
    assert "3 compactifai/ entries, all known to the catalog or the live list" in out


def test_config_naming_an_unknown_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, ["compactifai/hypernova-60b", "compactifai/hypernova-70b"], GOOD_SETTINGS)
    status, out, statuses = run_text(capsys, "--config", path)
    assert status == 1
    assert statuses["config_models"] == "fail" and statuses["config_callbacks"] == "pass"
    line = next(line for line in out.splitlines() if line.startswith("FAIL  config_models"))
    assert (
        "model_list[1] (m1): compactifai/hypernova-70b is in neither the catalog nor the live list "
        "(did you mean compactifai/hypernova-60b?)"
    ) in line
    assert "model_list[0]" not in line  # the good entry is not blamed


def test_config_model_known_only_to_the_live_list(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from litellm_compactifai.emulator import EmulatedModel

    assert catalog.get("doctor-live-only-9b") is None
    emu.add_model(EmulatedModel(id="doctor-live-only-9b"))
    try:
        path = write_config(tmp_path, ["compactifai/doctor-live-only-9b"], GOOD_SETTINGS)
        status, out, statuses = run_text(capsys, "--config", path)
    finally:
        emu.remove_model("doctor-live-only-9b")
    assert status == 0, out
    assert statuses["config_models"] == "pass"


def test_config_with_a_retired_model_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, ["compactifai/llama-3-3-70b"], GOOD_SETTINGS)
    status, out, statuses = run_text(capsys, "--config", path)
    assert status == 0  # known to the catalog: a warning, not a failure
    assert statuses["config_models"] == "warn"
    assert "model_list[0] (m0): compactifai/llama-3-3-70b is retired 2026-06" in out
    assert "its pair" not in out  # cai-llama-3-3-70b-slim is retired too: not worth suggesting


def test_config_without_the_package_callback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, ["compactifai/hypernova-60b"], "litellm_settings:\n  drop_params: false\n")
    status, out, statuses = run_text(capsys, "--config", path)
    assert status == 1
    assert statuses["config_callbacks"] == "fail"
    assert 'success_callback: ["litellm_compactifai.proxy.handler"]' in out  # the fix, ready to paste


def test_config_callbacks_key_depends_on_the_litellm_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    callbacks = write_config(
        tmp_path, ["compactifai/hypernova-60b"], "litellm_settings:\n  callbacks: litellm_compactifai.proxy.handler\n"
    )
    monkeypatch.setattr(doctor, "_litellm_version", lambda: "1.100.0")
    status, _, statuses = run_text(capsys, "--config", callbacks)
    assert status == 0 and statuses["config_callbacks"] == "pass"
    for old_release in ("1.76.3", "1.90.0"):
        monkeypatch.setattr(doctor, "_litellm_version", lambda v=old_release: v)
        status, out, statuses = run_text(capsys, "--config", callbacks)
        assert status == 1 and statuses["config_callbacks"] == "fail"
        assert "as a file next to the config" in out


def test_success_callback_on_the_release_gap_needs_the_startup_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(doctor, "_litellm_version", lambda: "1.90.0")
    with_callback = write_config(tmp_path, ["compactifai/hypernova-60b"], GOOD_SETTINGS)
    status, out, statuses = run_text(capsys, "--config", with_callback)
    assert status == 1 and statuses["config_callbacks"] == "fail"
    assert "LITELLM_WORKER_STARTUP_HOOKS=litellm_compactifai:register" in out
    without = write_config(tmp_path, ["compactifai/hypernova-60b"], "litellm_settings:\n  drop_params: false\n")
    monkeypatch.setenv("LITELLM_WORKER_STARTUP_HOOKS", "litellm_compactifai:register")
    status, out, statuses = run_text(capsys, "--config", without)
    assert statuses["config_callbacks"] == "pass", out


def test_config_that_does_not_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("model_list: [\n", encoding="utf-8")
    status, out, statuses = run_text(capsys, "--config", str(broken))
    assert status == 1
    assert statuses["config_file"] == "fail" and "is not valid YAML" in out
    assert statuses["config_models"] == "skip" and statuses["config_callbacks"] == "skip"
    status, _, statuses = run_text(capsys, "--config", str(tmp_path / "missing.yaml"))
    assert status == 1 and statuses["config_file"] == "fail"


# --- --json ------------------------------------------------------------------------------------------


def test_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, ["compactifai/nope-1b"], GOOD_SETTINGS)
    status, report = run_json(capsys, "--config", path)
    assert status == 1
    assert set(report) == {"ok", "version", "litellm_version", "registration_path", "api_base", "counts", "checks"}
    assert report["ok"] is False
    assert report["registration_path"] in ("builtin-replaced", "custom-provider")
    assert report["litellm_version"] == check(report, "litellm")["data"]["litellm_version"]
    assert [c["name"] for c in report["checks"]] == BASE_CHECKS + CONFIG_CHECKS
    for item in report["checks"]:
        assert set(item) == {"name", "status", "ok", "summary", "fix", "data"}
        assert item["status"] in ("pass", "fail", "warn", "skip")
        assert item["ok"] is (item["status"] != "fail")
        assert (item["fix"] is None) is (item["status"] in ("pass", "skip"))
    assert report["counts"] == {"pass": 8, "fail": 1, "warn": 0, "skip": 0}
    models = check(report, "config_models")
    assert models["status"] == "fail" and models["data"]["unknown"] == ["model_list[0] (m0): compactifai/nope-1b"]
    assert check(report, "route")["data"]["model"] == "cai-mistral-small-3-1-slim"
    assert "cai-mistral-small-3-1-slim" in check(report, "key_accepted")["data"]["models"]


def test_json_is_the_only_thing_on_stdout_when_litellm_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # LiteLLM prints "Give Feedback / Get Help" banners on stdout for some failures: --json stays parseable.
    def noisy_completion(**kwargs: Any) -> Any:
        print("Give Feedback / Get Help: https://github.com/BerriAI/litellm/issues/new")
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor.litellm, "completion", noisy_completion)
    status, report = run_json(capsys)
    assert status == 1
    route = check(report, "route")
    assert route["status"] == "fail" and route["summary"].endswith("RuntimeError: boom")
    assert check(report, "tool_gating")["status"] == "fail"


def test_config_retired_model_with_an_available_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, ["compactifai/llama-4-scout"], GOOD_SETTINGS)
    status, out, statuses = run_text(capsys, "--config", path)
    assert status == 0 and statuses["config_models"] == "warn"
    # llama-4-scout's slim pair is only unlisted, not available: no suggestion either.
    assert "its pair" not in out


def test_config_flags_openai_routes_pointing_at_compactifai(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "model_list:\n"
        "  - model_name: slim\n"
        "    litellm_params:\n"
        "      model: openai/cai-mistral-small-3-1-slim\n"
        "      api_base: https://api.compactif.ai/v1\n"
        "  - model_name: tools\n"
        "    litellm_params: {model: compactifai/hypernova-60b}\n" + GOOD_SETTINGS,
        encoding="utf-8",
    )
    status, out, statuses = run_text(capsys, "--config", str(path))
    assert status == 0 and statuses["config_models"] == "warn"
    assert "model_list[0] (slim): openai/cai-mistral-small-3-1-slim with a CompactifAI api_base" in out
    assert "use compactifai/<id>" in out


def test_wiring_into_a_subcommand_parser(capsys: pytest.CaptureFixture[str]) -> None:
    # Exactly what cli.build_parser adds: `doctor.configure_parser(sub.add_parser("doctor", ...))`.
    import argparse

    parser = argparse.ArgumentParser(prog="litellm-compactifai")
    sub = parser.add_subparsers(dest="command", required=True)
    doctor.configure_parser(sub.add_parser("doctor", help="check the setup"))
    args = parser.parse_args(["doctor", "--json"])
    assert args.config is None and args.json is True
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
