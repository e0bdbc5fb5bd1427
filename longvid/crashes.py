"""Native crashes: which library died, and the command that fixes it.

A native backend that dies by a signal takes its process with it; no Python ``except`` sees it.
longvid runs such work where the death can be watched (the CLI's command in a child process, the
llama.cpp LLM in a worker process), reads Python's ``faulthandler`` dump of the dead process, and
names the library whose frames were on top. Stdlib only: the ``longvid`` entry point imports it.
"""

from __future__ import annotations

import os
import re
import signal

# The portable llama.cpp build (see README): no -march=native, so no AVX-512 / AMX code paths.
LLAMA_CPP_FLAGS = (
    "-DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON "
    "-DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF"
)
LLAMA_CPP_VERSION = "0.3.36"
LLAMA_CPP_REBUILD = (
    f'CMAKE_ARGS="{LLAMA_CPP_FLAGS}" pip install --no-cache-dir --force-reinstall '
    f"llama-cpp-python=={LLAMA_CPP_VERSION}"
)

_CTRANSLATE2 = (
    "CTranslate2 (speech recognition)",
    "reinstall it: pip install --force-reinstall ctranslate2, or pass --asr none",
)
# module path fragment -> (backend, fix); the first match from the top of the stack wins.
BACKENDS: dict[str, tuple[str, str]] = {
    "llama_cpp": (
        "llama.cpp",
        f"rebuild it for any x86-64 CPU: {LLAMA_CPP_REBUILD} (longvid doctor checks it)",
    ),
    "faiss": ("faiss", "reinstall it: pip install --force-reinstall faiss-cpu (then longvid doctor)"),
    "onnxruntime": (
        "onnxruntime",
        "reinstall it: pip install --force-reinstall onnxruntime (then longvid doctor)",
    ),
    "ctranslate2": _CTRANSLATE2,
    "faster_whisper": _CTRANSLATE2,  # its Python frames are the ones on top
    "rapidocr": ("RapidOCR", "reinstall rapidocr-onnxruntime, or pass --ocr none"),
    "torch": ("PyTorch", "check the torch install (longvid doctor), or pass --device cpu"),
    "av": ("FFmpeg (PyAV)", "re-encode or re-mux the video (ffmpeg -i IN -c copy OUT.mkv)"),
    "decord": ("decord", "pip uninstall decord (longvid then reads frames with PyAV)"),
}
UNKNOWN = ("a native library", "run longvid doctor to find which one; LONGVID_DEBUG=1 shows more")

IN_CHILD = "LONGVID_CHILD_CRASH_LOG"
"""Set in a watched process: where its faulthandler dump goes."""
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT}
_FRAME = re.compile(r'File "([^"]+)"')


def signal_name(returncode: int) -> str:
    """``-11`` (a process killed by a signal) as ``SIGSEGV``."""
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def is_crash(returncode: int) -> bool:
    """True when a process ended by a signal that means it crashed (not one a user sent)."""
    return returncode < 0 and -returncode in CRASH_SIGNALS


def culprit(dump: str) -> tuple[str, str]:
    """(backend, fix) named by a faulthandler dump: the crashing thread's innermost known frame."""
    blocks = re.split(r"\n(?=(?:Current thread|Thread) 0x)", dump)
    current = [b for b in blocks if "Current thread" in b] or blocks
    for path in _FRAME.findall(current[0]):
        parts = re.split(r"[\\/]", path)
        for fragment, found in BACKENDS.items():
            if fragment in parts:
                return found
    return UNKNOWN


def record_crashes() -> None:
    """In the child: let a fatal signal write the Python stack to the watcher's log."""
    import faulthandler

    log = os.environ.pop(IN_CHILD, None)  # not for the processes this one starts
    if log:
        faulthandler.enable(open(log, "w", encoding="utf-8"), all_threads=True)  # noqa: SIM115
