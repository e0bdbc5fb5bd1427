"""Videos by URL (yt-dlp's generic extractor) from a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import functools
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

pytest.importorskip("yt_dlp", reason="pip install 'longvid[urls]'")
runner = CliRunner()
VTT = """WEBVTT

00:00:00.500 --> 00:00:02.500
The lighthouse keeper rings the bell at noon.
"""


@pytest.fixture
def site(cuts_video: Path, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A page with an HTML5 video and its English subtitle track; yields (base URL, GET log)."""
    folder = tmp_path / "site"
    folder.mkdir()
    shutil.copy(cuts_video, folder / "talk.mp4")
    (folder / "talk.vtt").write_text(VTT, encoding="utf-8")
    (folder / "talk.html").write_text(
        '<html><head><title>Talk</title></head><body><video controls src="talk.mp4">'
        '<track kind="subtitles" srclang="en" label="English" src="talk.vtt"></video></body></html>'
    )
    (folder / "nothing.html").write_text("<html><body>No video here.</body></html>")
    gets: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            gets.append(self.path)
            super().do_GET()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", gets
    finally:
        server.shutdown()
        server.server_close()


def test_index_a_page_url_with_its_subtitles(
    site: tuple[str, list[str]], tiny_model: Callable[[str], Path], tmp_path: Path
) -> None:
    base, gets = site
    store = ["--store", str(tmp_path / "store")]
    models = ["--captioner", "none", "--asr", "none", "--ocr", "none", "--embedder",
              str(tiny_model("sentence_transformer"))]  # fmt: skip
    url = f"{base}/talk.html"
    first = runner.invoke(app, ["index", url, "--json", *models, *store])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) | {} and json.loads(first.stdout)["status"] == "indexed"
    assert "/talk.mp4" in gets and "/talk.vtt" in gets
    found = runner.invoke(app, ["search", url, "lighthouse bell", "--json", *store])
    assert found.exit_code == 0, found.output
    assert "lighthouse keeper rings the bell" in json.loads(found.stdout.splitlines()[0])["text"]
    media = [g for g in gets if g.endswith(".mp4")]
    again = runner.invoke(app, ["index", url, *models, *store])
    assert again.exit_code == 0 and "up to date" in again.stdout
    assert [g for g in gets if g.endswith(".mp4")] == media  # not downloaded twice
    scenes = runner.invoke(
        app, ["scenes", url, "--json"], env={"LONGVID_HOME": str(tmp_path / "store")}
    )
    assert scenes.exit_code == 0 and len(json.loads(scenes.stdout)["scenes"]) == 4


def test_unusable_urls_are_one_line_errors(site: tuple[str, list[str]], tmp_path: Path) -> None:
    base, _ = site
    for url, words in ((f"{base}/nothing.html", "cannot download"),
                       ("http://127.0.0.1:9/talk.mp4", "cannot download")):  # fmt: skip
        result = runner.invoke(app, ["scenes", url], env={"LONGVID_HOME": str(tmp_path / "store")})
        assert result.exit_code == 1, result.output
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"error: {words} {url}") and "check the URL" in line
