"""``report``: HTML structure (parsed) and an end-to-end check in headless Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from longvid.memory.library import open_memory
from longvid.models.registry import LoadOptions, load
from longvid.pipeline.index import IndexModels, index_video
from longvid.pipeline.report import render_report

runner = CliRunner()


class Page(HTMLParser):
    """Collects the tags, attributes and text the tests look at."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, css: str | None = None) -> list[dict[str, str | None]]:
        return [
            a
            for t, a in self.tags
            if t == tag and (css is None or css in (a.get("class") or "").split())
        ]


@pytest.fixture(scope="module")
def report_store(
    facts_video: Path, tiny_model: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    root = tmp_path_factory.mktemp("report-store")
    captioner = load("captioner", str(tiny_model("smolvlm")), LoadOptions(frame_cap=4))
    captioner.max_new_tokens = 3
    models = IndexModels(
        embedder=load("embedder", str(tiny_model("sentence_transformer"))), captioner=captioner
    )
    index_video(facts_video, models, root)
    return root


def test_report_structure(report_store: Path, facts_video: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(
        app, ["report", str(facts_video), "-o", str(out), "--store", str(report_store)]
    )
    assert result.exit_code == 0, result.output
    page = Page()
    page.feed(out.read_text(encoding="utf-8"))
    memory = open_memory(report_store, str(facts_video))
    chunks = memory.chunks()
    articles = page.find("article", "chunk")
    assert [a["id"] for a in articles] == [f"c{c.index}" for c in chunks]
    assert len(page.find("a", "block")) == len(chunks)
    images = page.find("img")
    assert images and all((i["src"] or "").startswith("data:image/jpeg;base64,") for i in images)
    assert all(i["loading"] == "lazy" and i["alt"] for i in images)
    text = " ".join(page.text)
    assert "00:00:25.0 Captain Mira Okafor checks the engine before the crossing." in " ".join(
        text.split()
    )
    assert all(c.caption.strip()[:3] in text for c in chunks if c.caption.strip())
    assert page.find("input") and page.find("nav")
    assert not [
        a for _, a in page.tags if any(str(v).startswith("http") for v in a.values())
    ]  # offline


def test_cited_chunks_are_highlighted(report_store: Path, facts_video: Path) -> None:
    memory = open_memory(report_store, str(facts_video))
    page = Page()
    page.feed(render_report(memory, "x", question="Who?", answer="Okafor", cited=[(25.0, 28.0)]))
    cited = [a["id"] for a in page.find("article", "cited")]
    assert len(cited) == 1 and len(page.find("a", "cited")) == 1
    [chunk] = [c for c in memory.chunks() if f"c{c.index}" == cited[0]]
    assert chunk.start <= 25.0 < chunk.end


def test_report_in_headless_chromium(report_store: Path, facts_video: Path, tmp_path: Path) -> None:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("chromium and chromium-driver are not installed")
    from PIL import Image, ImageStat
    from selenium import webdriver
    from selenium.webdriver.common.by import By

    out = tmp_path / "r.html"
    runner.invoke(app, ["report", str(facts_video), "-o", str(out), "--store", str(report_store)])
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1100,900",
                 f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.get(out.resolve().as_uri())
        shot = tmp_path / "shot.png"
        driver.save_screenshot(str(shot))
        assert max(ImageStat.Stat(Image.open(shot).convert("L")).stddev) > 10  # not a blank page
        timeline = driver.find_element(By.ID, "timeline")
        assert timeline.is_displayed() and timeline.size["width"] > 500
        chunks = driver.find_elements(By.CSS_SELECTOR, "article.chunk")
        driver.find_element(By.ID, "search").send_keys("Okafor")
        visible = [c for c in chunks if c.is_displayed()]
        assert len(visible) == 1 and "Okafor" in visible[0].text
        assert "1 of" in driver.find_element(By.ID, "count").text
    finally:
        driver.quit()
