"""A native backend that dies by a signal: one clear line naming it and the fix, exit 1, store intact.

The crashes are real segfaults (``ctypes.string_at(0)``) in stand-ins for the native libraries,
put first on PYTHONPATH of the ``longvid`` processes the tests start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from longvid.crashes import culprit
from longvid.errors import NativeCrashError
from longvid.models.llamacpp import LlamaCppChat
from longvid.models.specs import parse_spec

runner = CliRunner()

FAKE_LLAMA = '''
import ctypes
__version__ = "0.0-test"
def llama_print_system_info():
    return b"CPU : AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 |"
class Llama:
    calls = 0
    def __init__(self, **kwargs):
        self.metadata = {"llama.context_length": "2048"}
    def create_chat_completion(self, **kwargs):
        Llama.calls += 1
        if Llama.calls == 2:  # the real one died on its second call
            ctypes.string_at(0)
        content = '{"answer": "fine", "enough": true, "found": true}' if kwargs.get("response_format") else "fine"
        return {"choices": [{"message": {"content": content}}], "usage": {}}
'''

CRASHING_FAISS = '''
import ctypes
def read_index(*args, **kwargs):
    ctypes.string_at(0)
'''
# Patches the real faiss so reading a vector index segfaults inside a file under a faiss/ folder.
SITECUSTOMIZE = '''
import sys, faiss
sys.path.insert(0, {folder!r})
import crash
faiss.read_index = crash.read_index
'''


@pytest.fixture
def fake_llama(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "fakes"
    (root / "llama_cpp").mkdir(parents=True)
    (root / "llama_cpp" / "__init__.py").write_text(FAKE_LLAMA)
    monkeypatch.setenv("PYTHONPATH", f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    return gguf


def test_a_crash_in_the_llm_worker_is_an_error_and_the_program_goes_on(fake_llama: Path) -> None:
    llm = LlamaCppChat(parse_spec(str(fake_llama)))
    assert llm.chat([{"role": "user", "content": "hi"}]) == "fine"
    with pytest.raises(NativeCrashError) as caught:
        llm.chat([{"role": "user", "content": "again"}])
    assert caught.value.what == "llama.cpp crashed (SIGSEGV) while answering"
    assert "GGML_NATIVE=OFF" in caught.value.fix and "--no-cache-dir" in caught.value.fix
    again = LlamaCppChat(parse_spec(str(fake_llama)))  # this process is alive and can start anew
    assert again.chat([{"role": "user", "content": "hi"}]) == "fine"


@pytest.fixture
def indexed(tiny_model: Callable[[str], Path], facts_video: Path, tmp_path: Path) -> tuple[Path, Path]:
    video = tmp_path / "harbour.mkv"
    shutil.copy(facts_video, video)
    store = tmp_path / "store"
    embedder = str(tiny_model("sentence_transformer"))
    result = runner.invoke(app, ["index", str(video), "--captioner", "none", "--asr", "none",
                                 "--ocr", "none", "--embedder", embedder, "--store", str(store)])  # fmt: skip
    assert result.exit_code == 0, result.output
    return video, store


def _longvid(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "longvid", *args], capture_output=True, text=True,
                          env=env or dict(os.environ), timeout=300)  # fmt: skip


def test_ask_with_a_crashing_llama_cpp_says_so_in_one_line(
    indexed: tuple[Path, Path], fake_llama: Path
) -> None:
    video, store = indexed
    questions = "Where does the ferry go?\nWho checks the engine?\n"
    done = subprocess.run([sys.executable, "-m", "longvid", "ask", str(video), "-", "--llm",
                           str(fake_llama), "--no-agent", "--store", str(store)],
                          input=questions, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [line for line in done.stderr.splitlines() if "crash" in line]
    assert len(errors) == 1 and errors[0].startswith("error: llama.cpp crashed (SIGSEGV)")
    assert "CMAKE_ARGS=" in errors[0] and "Traceback" not in done.stderr
    assert "fine" in done.stdout  # the first question was answered before the crash


def test_a_crash_in_the_main_process_names_the_library_and_keeps_the_store(
    indexed: tuple[Path, Path], tmp_path: Path
) -> None:
    video, store = indexed
    folder = tmp_path / "crashing" / "faiss"
    folder.mkdir(parents=True)
    (folder / "crash.py").write_text(CRASHING_FAISS)
    (tmp_path / "crashing" / "sitecustomize.py").write_text(SITECUSTOMIZE.format(folder=str(folder)))
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'crashing'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = _longvid("search", str(video), "ferry", "--store", str(store), env=env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: faiss crashed (SIGSEGV) — ")
    assert "Fatal Python error" not in done.stderr and "Segmentation fault" not in done.stderr
    listed = _longvid("list", "--json", "--store", str(store))
    assert listed.returncode == 0 and '"complete"' in listed.stdout
    found = _longvid("search", str(video), "ferry", "--json", "--store", str(store))
    assert found.returncode == 0 and found.stdout.strip()


def test_the_culprit_is_the_innermost_known_library_of_the_crashing_thread() -> None:
    dump = (
        "Fatal Python error: Segmentation fault\n\n"
        "Thread 0x01 (most recent call first):\n"
        '  File "/v/site-packages/faiss/__init__.py", line 3 in search\n\n'
        "Current thread 0x02 (most recent call first):\n"
        '  File "/v/site-packages/llama_cpp/_internals.py", line 9 in decode\n'
        '  File "/v/site-packages/longvid/models/llamacpp.py", line 5 in chat\n'
    )
    assert culprit(dump)[0] == "llama.cpp"
    assert culprit("nothing useful")[0] == "a native library"
