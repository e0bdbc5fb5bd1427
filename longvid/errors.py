"""Typed errors. Every message says what went wrong and what to do next."""

from __future__ import annotations


class LongvidError(Exception):
    """Base class for every error longvid reports to users.

    ``what`` says what went wrong; ``fix`` says what to do about it. The CLI prints
    ``error: <what> — <fix>`` on one line.
    """

    def __init__(self, what: str, fix: str = "") -> None:
        self.what = what
        self.fix = fix
        super().__init__(f"{what} — {fix}" if fix else what)


class InputError(LongvidError):
    """A video path that cannot be used: missing, empty, not a video, unreadable."""


class CorruptVideoError(InputError):
    """The file is a video container but its data is damaged or cut short."""


class MissingDependencyError(LongvidError):
    """An optional package is not installed."""

    def __init__(self, package: str, extra: str | None = None) -> None:
        target = f"'longvid[{extra}]'" if extra else package
        super().__init__(
            f"the package '{package}' is not installed", f"install it with: pip install {target}"
        )


class NativeCrashError(LongvidError):
    """A native library (llama.cpp, faiss, onnxruntime, CTranslate2, ...) died by a signal."""

    def __init__(self, backend: str, signal_name: str, fix: str, during: str = "") -> None:
        self.backend = backend
        where = f" while {during}" if during else ""
        super().__init__(f"{backend} crashed ({signal_name}){where}", fix)
