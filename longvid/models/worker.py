"""A native backend in a child process: if it crashes, the caller gets an error, not a dead program.

``Worker("longvid.models.llamacpp:LlamaServer", {...})`` starts ``python -m longvid.models.worker``,
which builds that object and answers method calls sent as JSON lines on its stdin. The child's own
stdout is moved to stderr, so nothing a native library prints can corrupt the replies, and its
stderr (with Python's faulthandler dump) goes to a file that names the culprit if it dies.
"""

from __future__ import annotations

import atexit
import faulthandler
import importlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, TextIO

from longvid.crashes import BACKENDS, UNKNOWN, culprit, signal_name
from longvid.errors import LongvidError, NativeCrashError
from longvid.models.hf_common import ModelUnavailableError


class Worker:
    """Calls into an object that lives in a child process (one call at a time)."""

    def __init__(self, factory: str, args: dict[str, Any], backend: str, during: str = "") -> None:
        self.backend = backend
        self.during = during
        self._lock = threading.Lock()
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (lives as long as the worker)
            prefix="longvid-worker-", suffix=".log", delete=False
        )
        env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "longvid.models.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            encoding="utf-8",
            env=env,
        )
        atexit.register(self.close)
        self.meta: dict[str, Any] = self._exchange({"factory": factory, "args": args}, "loading")

    def call(self, method: str, **kwargs: Any) -> Any:
        """``method(**kwargs)`` on the child's object; its LongvidError is raised here."""
        with self._lock:
            return self._exchange({"method": method, "args": kwargs}, self.during)

    def _exchange(self, request: dict[str, Any], during: str) -> Any:
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            raise self._death(during)
        reply = json.loads(line)
        if "error" in reply:
            what, fix, kind = reply["error"]
            raise (ModelUnavailableError if kind == "unavailable" else LongvidError)(what, fix)
        return reply["ok"]

    def _death(self, during: str) -> LongvidError:
        code = self._proc.wait()
        dump = Path(self._log.name).read_text(encoding="utf-8", errors="replace")
        if code < 0:
            backend, fix = culprit(dump)
            if (backend, fix) == UNKNOWN:  # no known frame on top: the worker's own library
                backend = self.backend
                fix = next((f for b, f in BACKENDS.values() if b == backend), fix)
            return NativeCrashError(backend, signal_name(code), fix, during)
        last = dump.strip().splitlines()[-1:] or [f"exit code {code}"]
        return LongvidError(
            f"the {self.backend} worker ended unexpectedly ({last[0][:160]})",
            "rerun with LONGVID_DEBUG=1; longvid doctor checks each model",
        )

    def close(self) -> None:
        """Stop the child (it also stops by itself when this process ends)."""
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.close()
                self._proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)


def _serve(requests: TextIO, replies: TextIO) -> None:
    """The child's loop: build the object named by the first request, then answer calls."""
    target: Any = None
    for line in requests:
        request = json.loads(line)
        try:
            if target is None:
                module, name = request["factory"].split(":")
                target = getattr(importlib.import_module(module), name)(**request["args"])
                result = getattr(target, "meta", {})
            else:
                result = getattr(target, request["method"])(**request["args"])
            reply: dict[str, Any] = {"ok": result}
        except LongvidError as exc:
            kind = "unavailable" if isinstance(exc, ModelUnavailableError) else ""
            reply = {"error": [exc.what, exc.fix, kind]}
        except Exception as exc:
            reply = {"error": [f"{type(exc).__name__}: {exc}", "rerun with LONGVID_DEBUG=1", ""]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> None:
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # what native code prints goes to the log, never into the replies
    faulthandler.enable(all_threads=True)
    _serve(sys.stdin, replies)


if __name__ == "__main__":
    main()
