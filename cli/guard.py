"""The ``longvid`` entry point: the command runs in a child process that this one watches.

A native library that dies by a signal (a segfault in llama.cpp, faiss, onnxruntime, CTranslate2)
kills its process before any ``except`` runs. Here that becomes one line naming the library and
the fix, and exit code 1 (memories are committed chunk by chunk, so nothing indexed is lost).
Stdlib only, so the watch costs one interpreter start (tens of milliseconds).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from longvid.crashes import IN_CHILD, culprit, is_crash, signal_name


def main() -> None:
    """Run the command in a child; a crash by signal becomes an ``error:`` line and exit 1."""
    if os.environ.get(IN_CHILD) is not None or os.environ.get("LONGVID_NO_WATCH"):
        from longvid_cli.app import main as run

        run()
        return
    fd, log = tempfile.mkstemp(prefix="longvid-crash-", suffix=".log")
    os.close(fd)
    try:
        sys.exit(_watch([sys.executable, "-m", "longvid_cli", *sys.argv[1:]], log))
    finally:
        Path(log).unlink(missing_ok=True)


def _die_with_parent() -> None:
    """In the child, before exec: a watcher killed (even by SIGKILL) takes its command with it."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the watcher died before that took effect
            os._exit(1)


def _watch(command: list[str], log: str) -> int:
    child = subprocess.Popen(command, env={**os.environ, IN_CHILD: log}, preexec_fn=_die_with_parent)
    forward = lambda signum, _frame: child.send_signal(signum)  # noqa: E731
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    signal.signal(signal.SIGINT, lambda *_: None)  # the terminal sends Ctrl-C to the child too
    code = child.wait()
    if is_crash(code):
        backend, fix = culprit(Path(log).read_text(encoding="utf-8", errors="replace"))
        sys.stdout.flush()
        print(f"error: {backend} crashed ({signal_name(code)}) — {fix}", file=sys.stderr)
        return 1
    return 128 - code if code < 0 else code
