"""The embedder chosen by the content: subtitles not in English (known before indexing) get the
registry's multilingual default unless you chose one; one that cannot be loaded gives way."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

import longvid.engine.models as engine_models
from longvid.engine import Engine, Video, index
from longvid.media.subtitles import subtitle_language
from longvid.models import registry
from tests.fake_openai import FakeServer, completion, serve
from tests.media import ffmpeg
from tests.test_languages import CHINESE, SCENE_S, _srt, _subtitled

runner = CliRunner()
ENGLISH = ["The police found a black wallet under a bench in the park.",
           "The train was forty minutes late and the passengers were worried.",
           "She cooked a bowl of hot beef noodles in the kitchen.",
           "Every morning the old man practises tai chi by the river.",
           "The children are flying kites on the playground."]  # fmt: skip
OFF = {"captioner": "none", "asr": "none", "ocr": "none", "visual_embedder": "none", "speakers": "none"}


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory, tiny_model: Callable[[str], Path]) -> dict[str, Path]:
    """A Chinese and an English video (sidecar subtitles; other lengths, so other contents), and
    two tiny embedders: one stands for the multilingual default, a copy (another spec) for the
    default."""
    folder = tmp_path_factory.mktemp("language-defaults")
    multilingual = tiny_model("sentence_transformer")
    default = shutil.copytree(multilingual, folder / "default-embedder")
    return {"zh": _subtitled(folder, "zh", CHINESE[:4]), "en": _subtitled(folder, "en", ENGLISH),
            "multilingual": multilingual, "default": default}  # fmt: skip


@pytest.fixture
def rule(videos: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The registry's defaults pointed at the tiny embedders (no downloads)."""
    specs = {"multilingual": str(videos["multilingual"]), "default": str(videos["default"])}
    monkeypatch.setitem(registry.BY_LANGUAGE, "embedder", specs["multilingual"])
    monkeypatch.setitem(registry.DEFAULTS, "embedder", {"cpu": specs["default"], "cuda": specs["default"]})
    return specs


def _muxed(folder: Path, lines: list[str], tag: str | None) -> Path:
    """A video whose subtitles are a stream in the container (tagged ``tag``, or not)."""
    srt = folder / "subs.srt"
    srt.write_text(_srt(lines), encoding="utf-8")
    out = folder / f"muxed-{tag}.mp4"
    language = ["-metadata:s:s:0", f"language={tag}"] if tag else []
    ffmpeg("-f", "lavfi", "-i", f"color=c=gray:size=160x90:rate=10:duration={SCENE_S * len(lines)}",
           "-i", str(srt), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:s", "mov_text", *language, str(out))  # fmt: skip
    return out


def test_the_subtitles_language_is_known_before_indexing(videos: dict[str, Path], tmp_path: Path) -> None:
    assert subtitle_language(videos["zh"]) == "zh"  # a sidecar: by its text
    assert subtitle_language(videos["en"]) == "en"
    assert subtitle_language(_muxed(tmp_path, CHINESE[:4], "chi")) == "zh"  # a stream: by its tag
    assert subtitle_language(_muxed(tmp_path, CHINESE[:4], "jpn")) == "ja"
    assert subtitle_language(_muxed(tmp_path, CHINESE[:4], None)) == "zh"  # untagged: by its text
    plain = tmp_path / "plain.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=160x90:rate=10:duration=1", "-c:v", "libx264", str(plain))
    assert subtitle_language(plain) is None  # speech's language is known only after recognition


def test_a_chinese_video_gets_the_multilingual_default_and_search_and_ask_use_it(
    videos: dict[str, Path], rule: dict[str, str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    queried: list[str] = []
    real = engine_models.load_query_embedder

    def spy(spec: str, *args: Any) -> Any:
        queried.append(spec)
        return real(spec, *args)

    monkeypatch.setattr(engine_models, "load_query_embedder", spy)
    engine = Engine(tmp_path / "store", **OFF)
    with caplog.at_level(logging.INFO, logger="longvid"):
        index(videos["zh"], engine)
        index(videos["en"], engine)  # the same engine, the same store: the default for English
        assert index(videos["zh"], engine).status == "up-to-date"  # the same choice, the same memory
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("embedder:")]
    assert said == [f"embedder: {rule['multilingual']} for subtitles not in English (the multilingual default)"]
    zh, en = Video(videos["zh"], engine), Video(videos["en"], engine)
    assert zh.settings["embedder"] == rule["multilingual"]
    assert en.settings["embedder"] == rule["default"]

    assert zh.search("钱包")[0].start < SCENE_S and queried == [rule["multilingual"]]
    server = FakeServer(script=[lambda body: (200, completion(json.dumps(
        {"answer": "四十分钟 [00:00:04]", "enough": True, "found": True})))] * 4)  # fmt: skip
    with serve(server) as url:
        asked = Video(videos["zh"], Engine(tmp_path / "store", llm=f"openai:llm@{url}"))
        answer = asked.ask("火车晚点了多久？", agent=False, inspect=False)
    assert answer.answer.startswith("四十分钟") and queried[-1] == rule["multilingual"]

    queried.clear()
    done = runner.invoke(app, ["search", "--all", "钱包", "--json", "--store", str(tmp_path / "store")])
    assert done.exit_code == 0, done.output
    found = [json.loads(line) for line in done.output.splitlines() if line.startswith("{")]
    assert Path(found[0]["video"]).name == "zh.mp4" and found[0]["start"] < SCENE_S
    assert set(queried) == {rule["multilingual"], rule["default"]}  # each memory its own


def test_without_the_multilingual_model_the_index_falls_back_with_one_warning(
    videos: dict[str, Path], rule: dict[str, str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    monkeypatch.setitem(registry.BY_LANGUAGE, "embedder", registry.MULTILINGUAL_EMBEDDER)  # offline
    engine = Engine(tmp_path / "store", **OFF)
    second = _subtitled(tmp_path, "zh2", CHINESE[4:10])
    with caplog.at_level(logging.WARNING, logger="longvid"):
        index(videos["zh"], engine)
        index(second, engine)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert registry.MULTILINGUAL_EMBEDDER in warnings[0] and "hf download" in warnings[0]
    assert Video(videos["zh"], engine).settings["embedder"] == rule["default"]
    assert Video(videos["zh"], engine).search("钱包")  # full text still finds it


def test_an_embedder_you_chose_is_never_overridden(
    videos: dict[str, Path], rule: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in OFF.items()]
    done = runner.invoke(app, ["index", str(videos["zh"]), "--embedder", rule["default"], "--store", str(store),
                               "--json", *flags])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert Video(videos["zh"], Engine(store)).settings["embedder"] == rule["default"]
    monkeypatch.setenv("LONGVID_EMBEDDER", rule["default"])  # so are the variable and config file
    assert registry.language_default("embedder", "zh", None, registry.LoadOptions()) is None
    monkeypatch.delenv("LONGVID_EMBEDDER")
    assert registry.language_default("embedder", "zh", None, registry.LoadOptions()) == rule["multilingual"]
    assert registry.language_default("embedder", "en", None, registry.LoadOptions()) is None
    assert registry.language_default("embedder", None, None, registry.LoadOptions()) is None
