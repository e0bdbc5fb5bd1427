"""Model specs, settings precedence, and the registry's defaults and offline stand-ins."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from longvid.config import setting, store_root
from longvid.errors import LongvidError
from longvid.models import registry
from longvid.models.hf_common import ModelUnavailableError
from longvid.models.registry import LoadOptions, load, resolve
from longvid.models.specs import ModelSpec, SpecError, parse_spec


def test_spec_forms(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert parse_spec("Qwen/Qwen2.5-VL-7B-Instruct") == ModelSpec(
        "hub", "Qwen/Qwen2.5-VL-7B-Instruct"
    )
    assert parse_spec(str(tmp_path)) == ModelSpec("local", str(tmp_path.resolve()))
    assert parse_spec(str(gguf)).kind == "gguf"
    assert parse_spec(" NONE ") == ModelSpec("none")
    server = parse_spec("openai:qwen2.5-vl@http://127.0.0.1:8000/v1/")
    assert (server.kind, server.name, server.base_url) == (
        "openai",
        "qwen2.5-vl",
        "http://127.0.0.1:8000/v1",
    )
    assert str(server) == "openai:qwen2.5-vl@http://127.0.0.1:8000/v1"


@pytest.mark.parametrize(
    "bad",
    ["", "openai:model", "openai:@http://x", "openai:m@ftp://x", "./missing-dir", "/no/such.gguf"],
)
def test_bad_specs_say_what_to_write(bad: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(bad)
    assert caught.value.fix


def test_settings_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('captioner = "from-file/model"\nmax_frames = 12\n')
    monkeypatch.setenv("LONGVID_CONFIG", str(config))
    assert setting("captioner") == "from-file/model"
    assert setting("max_frames") == 12
    monkeypatch.setenv("LONGVID_CAPTIONER", "from-env/model")
    monkeypatch.setenv("LONGVID_MAX_FRAMES", "20")
    assert setting("captioner") == "from-env/model"
    assert setting("max_frames") == 20
    assert setting("captioner", "from-flag/model") == "from-flag/model"


def test_typed_environment_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGVID_TRUST_REMOTE_CODE", "0")
    assert setting("trust_remote_code") is False
    monkeypatch.setenv("LONGVID_TRUST_REMOTE_CODE", "true")
    assert setting("trust_remote_code") is True
    monkeypatch.setenv("LONGVID_MAX_FRAMES", "lots")
    with pytest.raises(LongvidError, match="not a whole number"):
        setting("max_frames")


def test_bad_config_file_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("captionr = 'typo'\n")
    monkeypatch.setenv("LONGVID_CONFIG", str(config))
    with pytest.raises(LongvidError, match="unknown setting"):
        setting("captioner")


def test_store_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert store_root(str(tmp_path / "flag")) == tmp_path / "flag"
    monkeypatch.setenv("LONGVID_HOME", str(tmp_path / "env"))
    assert store_root() == tmp_path / "env"


def test_defaults_by_device() -> None:
    cpu, cuda = LoadOptions(device="cpu"), LoadOptions(device="cuda")
    assert resolve("captioner", None, cuda) == ("Qwen/Qwen2.5-VL-7B-Instruct", False)
    assert "SmolVLM2" in resolve("captioner", None, cpu)[0]
    assert resolve("llm", None, cuda)[0] == "captioner"  # one model on a GPU
    assert resolve("asr", "none", cpu) == ("none", True)


def test_missing_default_falls_back_with_one_warning(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tiny_model: Callable[[str], Path],
) -> None:
    monkeypatch.setitem(
        registry.DEFAULTS, "embedder", {"cpu": "nobody/not-cached", "cuda": "nobody/not-cached"}
    )
    stand_in = str(tiny_model("sentence_transformer"))
    monkeypatch.setitem(registry.OFFLINE, "embedder", (lambda: stand_in, "nothing can be indexed"))
    with caplog.at_level(logging.WARNING, logger="longvid"):
        embedder = load("embedder", None, LoadOptions(device="cpu"))
    assert embedder.info.spec == stand_in
    [record] = [r for r in caplog.records if r.name == "longvid"]
    assert (
        "'nobody/not-cached': not cached" in record.getMessage() and stand_in in record.getMessage()
    )


def test_missing_default_captioner_switches_visual_captions_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(registry.DEFAULTS, "captioner", {"cpu": "nobody/vlm", "cuda": "nobody/vlm"})
    with caplog.at_level(logging.WARNING, logger="longvid"):
        assert load("captioner", None, LoadOptions(device="cpu")) is None
    assert "visual captions are skipped" in caplog.text


def test_explicit_model_that_cannot_load_is_an_error() -> None:
    with pytest.raises(ModelUnavailableError) as caught:
        load("captioner", "nobody/not-cached-vlm", LoadOptions(device="cpu"))
    assert "nobody/not-cached-vlm" in caught.value.what
    assert "openai:MODEL@URL" in caught.value.fix


def test_wrong_kind_for_channel(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(SpecError, match="cannot serve as captioner"):
        load("captioner", str(gguf))
    with pytest.raises(SpecError, match="cannot be none"):
        load("embedder", "none")
    assert load("asr", "none") is None


def test_heavy_libraries_load_only_when_a_model_does() -> None:
    code = (
        "import sys, longvid.models.registry, longvid.models.hf_vlm, longvid.models.asr; "
        "print(sorted({'torch', 'transformers', 'sentence_transformers', 'faster_whisper'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_unreachable_hub_switches_to_offline_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hub

    from longvid.models import hf_common

    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub, "ENDPOINT", "https://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    hf_common.go_offline_if_hub_unreachable.cache_clear()
    try:
        assert hf_common.go_offline_if_hub_unreachable() is True
        assert hub.HF_HUB_OFFLINE is True
    finally:
        hf_common.go_offline_if_hub_unreachable.cache_clear()


def test_trust_remote_code_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LoadOptions().trust_remote_code is False
    monkeypatch.setenv("LONGVID_TRUST_REMOTE_CODE", "1")
    assert LoadOptions().trust_remote_code is True
