"""Beyond English: words in any script, full-text search without spaces, answers kept in any language."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

import longvid
from longvid import words
from longvid.memory.language import content_language
from longvid.memory.library import open_memory
from longvid.memory.store import SCHEMA, VideoMemory
from longvid.models import packaged
from longvid.models.registry import MULTILINGUAL_EMBEDDER, load
from longvid.pipeline.ask import ask, is_whole_video_question
from longvid.pipeline.chapters import title_of
from longvid.pipeline.index import IndexModels, index_video
from longvid.pipeline.summarize import summarize_memory
from longvid.recall.retrieve import Evidence, query_terms
from longvid.recall.support import grounded
from tests.fake_openai import FakeServer, completion, serve
from tests.fakes import ScriptedChat
from tests.media import H264, ffmpeg, shots_video

runner = CliRunner()
SCENE_S = 3.0

# One sentence per scene; each query below names words of exactly one scene (1-4 characters).
CHINESE = [
    "警察在公园的长椅下面发现了一个黑色的钱包。",
    "火车晚点了四十分钟，乘客们都很着急。",
    "她在厨房里做了一碗热腾腾的牛肉面。",
    "老人每天早上在河边打太极拳。",
    "孩子们在操场上放风筝。",
    "医生说他需要休息三天。",
    "银行门口排着很长的队。",
    "我们坐飞机去了上海。",
    "小猫躲在沙发后面睡觉。",
    "会议室的投影仪坏了。",
    "他把雨伞忘在出租车上了。",
    "图书馆周末开到晚上九点。",
    "市场上的西瓜很便宜。",
    "船长检查了发动机。",
    "新闻说明天有台风。",
    "她用手机拍了一张照片。",
    "学生们在考试前复习数学。",
    "邮局在超市的旁边。",
    "消防员救出了一只狗。",
    "钢琴比赛的冠军是一个女孩。",
]
QUERIES = {
    "钱包": 0, "警察": 0, "长椅": 0, "火车": 1, "晚点": 1, "四十分钟": 1, "牛肉面": 2, "太极拳": 3,
    "风筝": 4, "医生": 5, "银行": 6, "上海": 7, "猫": 8, "沙发": 8, "投影仪": 9, "雨伞": 10,
    "出租车": 10, "图书馆": 11, "西瓜": 12, "船长": 13, "台风": 14, "手机": 15, "数学": 16,
    "邮局": 17, "消防员": 18, "钢琴": 19, "冠军": 19,
}  # fmt: skip


def _srt(lines: list[str]) -> str:
    def stamp(t: float) -> str:
        return f"00:{int(t // 60):02d}:{int(t % 60):02d},{int(t * 1000) % 1000:03d}"

    return "".join(
        f"{i + 1}\n{stamp(i * SCENE_S + 0.2)} --> {stamp(i * SCENE_S + SCENE_S - 0.2)}\n{line}\n\n"
        for i, line in enumerate(lines)
    )


def _subtitled(folder: Path, name: str, lines: list[str]) -> Path:
    video = shots_video(folder / f"{name}.mp4", [SCENE_S] * len(lines))
    (folder / f"{name}.srt").write_text(_srt(lines), encoding="utf-8")
    return video


@pytest.fixture(scope="module")
def chinese(tmp_path_factory: pytest.TempPathFactory, tiny_model: Callable[[str], Path]):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("zh")
    video = _subtitled(folder, "zh", CHINESE)
    store = folder / "store"
    index_video(video, IndexModels(embedder=load("embedder", str(tiny_model("sentence_transformer")))), store)
    return video, store


def _scene(start: float) -> int:
    return int((start + 0.5) // SCENE_S)


def test_terms_in_any_script() -> None:
    assert query_terms("火车晚点了多久？") == ["火车", "车晚", "晚点"]
    assert query_terms("警察在哪里发现了钱包") == ["警察", "发现", "钱包"]
    assert query_terms("四十分钟") == query_terms("４０分钟") == ["40", "分钟"]
    assert words.normalize("一百零五页，二〇二六年") == "105页,2026年"
    assert "財布" in query_terms("警察はどこで財布を見つけましたか")
    assert query_terms("¿Cuánto tiempo se retrasó el tren?") == ["tiempo", "retrasó", "tren"]
    assert query_terms('What time does the "green key" open?') == ["green key", "time", "green", "key", "open"]


def test_every_chinese_query_finds_its_scene_by_full_text_alone(chinese) -> None:  # type: ignore[no-untyped-def]
    video, store = chinese
    memory = open_memory(store, str(video))
    try:
        chunks = {c.index: c for c in memory.chunks()}
        misses = []
        for query, scene in QUERIES.items():
            hits = memory.lexical(query_terms(query), 5)
            scenes = {_scene(t.start) for i, _ in hits for t in chunks[i].transcript if query in t.text
                      or words.normalize(query) in words.normalize(t.text)}  # fmt: skip
            if scene not in scenes:
                misses.append(query)
        assert not misses, f"not in the top 5 by full text: {misses}"
    finally:
        memory.close()


def test_chinese_search_through_the_cli_and_the_library(chinese) -> None:  # type: ignore[no-untyped-def]
    video, store = chinese
    for query, scene in list(QUERIES.items())[::3]:
        for where in ([str(video)], ["--all"]):
            done = runner.invoke(app, ["search", *where, query, "--json", "--store", str(store)])
            assert done.exit_code == 0, done.output
            moments = [json.loads(line) for line in done.output.splitlines() if line.startswith("{")]
            at = scene * SCENE_S + 1.0
            assert any(m["start"] <= at < m["end"] for m in moments[:5]), (query, where, done.output)


def test_a_chinese_answer_the_evidence_holds_is_kept(chinese, tiny_model) -> None:  # type: ignore[no-untyped-def]
    video, store = chinese
    memory = open_memory(store, str(video))
    embedder = load("embedder", str(tiny_model("sentence_transformer")))
    # A small model's flags are noise: it says not enough and not found, then gives up.
    chat = ScriptedChat([
        {"answer": "四十分钟 [00:00:03]", "enough": False, "found": False},
        {"tool": "answer", "answer": "not found in the video", "citations": [], "confidence": "low",
         "found": False},
    ])  # fmt: skip
    try:
        result = ask(str(video), "火车晚点了多久？", memory, embedder, chat)
    finally:
        memory.close()
    assert result.answer.startswith("四十分钟") and result.found, result.answer


@pytest.mark.parametrize(
    ("answer", "evidence", "held"),
    [
        ("40分钟", "火车晚点了四十分钟。", True),
        ("四十分钟", "火车晚点了40分钟。", True),
        ("５０分钟", "火车晚点了四十分钟。", False),
        ("財布です", "警察が公園で黒い財布を見つけました。", True),
        ("Cuarenta minutos", "El tren llegó con cuarenta minutos de retraso.", True),
        ("una llave verde", "El tren llegó con cuarenta minutos de retraso.", False),
        ("7:15 every morning", "The ferry leaves at 7.15 every morning.", True),  # Whisper's "7.15"
    ],
)
def test_grounding_in_any_script(answer: str, evidence: str, held: bool) -> None:
    assert grounded({"answer": answer}, [Evidence(0.0, 3.0, evidence, 1.0, "transcript")]) is held


def test_japanese_and_spanish_scenes_are_found(tmp_path: Path, tiny_model) -> None:  # type: ignore[no-untyped-def]
    lines = ["警察が公園で黒い財布を見つけました。", "電車は四十分遅れました。", "猫がソファの後ろで寝ています。",
             "El tren llegó con cuarenta minutos de retraso.", "La policía encontró una cartera negra en el parque."]  # fmt: skip
    video = _subtitled(tmp_path, "mixed", lines)
    embedder = load("embedder", str(tiny_model("sentence_transformer")))
    index_video(video, IndexModels(embedder=embedder), tmp_path / "store")
    memory = open_memory(tmp_path / "store", str(video))
    try:
        for query, scene in {"財布": 0, "電車": 1, "猫": 2, "ソファ": 2, "retraso": 3, "cartera": 4}.items():
            chunk = memory.chunk(memory.lexical(query_terms(query), 1)[0][0])
            assert chunk is not None and any(words.matches(t.text, words.terms(query)[:1])
                                             and _scene(t.start) == scene for t in chunk.transcript), query  # fmt: skip
    finally:
        memory.close()


def test_an_older_memory_gains_the_any_script_index_without_reindexing(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    db = sqlite3.connect(folder / "memory.sqlite", isolation_level=None)
    for number, script in enumerate(SCHEMA[:6], start=1):
        db.executescript(script)
        db.execute(f"PRAGMA user_version = {number}")
    db.execute("INSERT INTO chunks VALUES (0, 0, 3, 0, 0, '[]', '', '[]', '[]', ?, NULL)",
               ("警察发现了一个黑色的钱包",))  # fmt: skip
    db.close()
    memory = VideoMemory(folder)
    try:
        assert memory.lexical(["钱包"], 5) == [(0, pytest.approx(memory.lexical(["钱包"], 5)[0][1]))]
        assert memory.chunks()[0].text == "警察发现了一个黑色的钱包"  # the stored text, untouched
    finally:
        memory.close()


CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # Debian's fonts-wqy-zenhei
SIGNS = ["出口在左边", "禁止吸烟", "北京南站"]


def test_chinese_on_screen_text_is_read_and_searchable(tmp_path: Path, tiny_model) -> None:  # type: ignore[no-untyped-def]
    reader = load("ocr", "rapidocr")
    if reader is None or not CJK_FONT.is_file():
        pytest.skip("needs rapidocr-onnxruntime and fonts-wqy-zenhei")
    draw = []
    for i, sign in enumerate(SIGNS):  # a slide of three signs, one line each
        (tmp_path / f"{i}.txt").write_text(sign, encoding="utf-8")
        draw.append(f"drawtext=fontfile={CJK_FONT}:textfile={tmp_path / f'{i}.txt'}:fontsize=56:"
                    f"fontcolor=black:x=80:y={40 + 110 * i}")  # fmt: skip
    video = tmp_path / "signs.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=white:size=640x360:rate=25:duration=3", "-vf", ",".join(draw),
           *H264, str(video))  # fmt: skip
    embedder = load("embedder", str(tiny_model("sentence_transformer")))
    index_video(video, IndexModels(embedder=embedder, reader=reader), tmp_path / "store")
    memory = open_memory(tmp_path / "store", str(video))
    try:
        read = [t.text for c in memory.chunks() for t in c.screen_text]
        assert all(sign in read for sign in SIGNS), read
        for query in ("出口", "左边", "吸烟", "北京", "南站"):
            assert memory.lexical(query_terms(query), 1), query
        assert not memory.lexical(query_terms("上海"), 1)
    finally:
        memory.close()


def test_the_content_language_is_told_from_the_stored_text(chinese) -> None:  # type: ignore[no-untyped-def]
    video, store = chinese
    memory = open_memory(store, str(video))
    try:
        assert content_language(memory) == "zh"
    finally:
        memory.close()
    assert words.language("El tren llegó con cuarenta minutos de retraso.") == "es"
    assert words.language("電車は四十分遅れました。警察が財布を見つけました。") == "ja"
    assert words.language("ok") is None


def test_chapter_titles_end_at_a_chinese_full_stop() -> None:
    assert title_of("火车晚点了四十分钟，乘客们都很着急。[00:01:32] 然后警察来了。") == "火车晚点了四十分钟，乘客们都很着急"
    long = title_of("警察在公园的长椅下面发现了一个黑色的钱包，然后他把钱包交给了派出所的值班警察和所长。")
    assert long.endswith("…") and len(long) <= 31


def test_index_warns_once_when_an_english_only_embedder_meets_chinese(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    minilm = packaged.minilm_dir()
    if minilm is None:
        pytest.skip("needs the packaged MiniLM (longvid[offline])")
    video = _subtitled(tmp_path, "zh", CHINESE[:4])
    settings = {"store": tmp_path / "store", "captioner": "none", "asr": "none", "ocr": "none",
                "embedder": minilm, "visual_embedder": "none", "speakers": "none"}  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="longvid"):
        indexed = longvid.index(str(video), **settings)
    [line] = [r.getMessage() for r in caplog.records if "reads English only" in r.getMessage()]
    assert "'zh'" in line and MULTILINGUAL_EMBEDDER in line
    assert indexed.info()["memories"][0]["language"] == "zh"


def test_answers_in_the_question_language_and_summaries_in_the_video_language(chinese, tiny_model) -> None:  # type: ignore[no-untyped-def]
    video, store = chinese
    memory = open_memory(store, str(video))
    embedder = load("embedder", str(tiny_model("sentence_transformer")))
    chat = ScriptedChat([{"answer": "四十分钟 [00:00:03]", "enough": True, "found": True}])
    writer = ScriptedChat(["火车晚点了四十分钟。[00:00:03]"])
    try:
        ask(str(video), "火车晚点了多久？", memory, embedder, chat)
        summary = summarize_memory(memory, writer)
        in_english = summarize_memory(memory, writer, language="en")
    finally:
        memory.close()
    assert chat.calls[0][-1]["content"].endswith("Write your answer in Chinese.")
    assert all(call[0]["content"].endswith(" Write in Chinese.") for call in writer.calls[:-1])
    assert summary.summary.startswith("火车晚点了四十分钟") and not in_english.cached
    assert "Write in" not in writer.calls[-1][0]["content"]  # --language en: the prompt as it was


@pytest.mark.parametrize("question", ["这个视频讲了什么？", "请概括这部影片", "この動画の要約は？",
                                      "¿De qué trata el video?", "Worum geht es in dem Video?"])  # fmt: skip
def test_whole_video_questions_in_other_languages_go_to_the_summary(question: str) -> None:
    assert is_whole_video_question(question)
    assert not is_whole_video_question("火车晚点了多久？")


def test_summarize_language_through_the_cli(chinese) -> None:  # type: ignore[no-untyped-def]
    video, store = chinese
    server = FakeServer(script=[lambda body: (200, completion("El tren llegó tarde [00:00:03]."))] * 5)
    with serve(server) as url:
        done = runner.invoke(app, ["summarize", str(video), "--language", "es", "--json",
                                   "--llm", f"openai:llm@{url}", "--store", str(store)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["summary"].startswith("El tren llegó tarde")
    assert all(r["messages"][0]["content"].endswith(" Write in Spanish.") for r in server.requests)


def test_an_english_only_embedder_does_not_rank_a_chinese_query() -> None:
    from types import SimpleNamespace

    from longvid.recall.retrieve import reads

    english = SimpleNamespace(info=SimpleNamespace(spec="sentence-transformers/all-MiniLM-L6-v2"))
    multilingual = SimpleNamespace(info=SimpleNamespace(spec=MULTILINGUAL_EMBEDDER))
    assert not reads(english, "钱包") and not reads(english, "猫")  # type: ignore[arg-type]
    assert reads(english, "Where is the wallet?") and reads(multilingual, "钱包")  # type: ignore[arg-type]
