"""``longvid doctor``: one tiny real call per channel, each in its own worker process.

A model that loads can still crash on its first real call (a llama.cpp built for another CPU
died on its *second* chat call), so every check loads the channel's model in a worker and makes
the calls a command would make. A crash there is a finding, not the end of the check.
"""

from __future__ import annotations

import platform
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from longvid.crashes import LLAMA_CPP_REBUILD
from longvid.errors import LongvidError
from longvid.models.worker import Worker

# CPU features that decide which native code paths can run here.
CPU_FEATURES = ("sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512_vnni",
                "avx512_bf16", "amx_tile", "amx_int8", "neon", "asimd")  # fmt: skip
# Instruction sets a portable llama.cpp build leaves out (a -march=native build may use them).
NATIVE_ONLY = ("AVX512", "AMX_INT8", "AVX512_VNNI", "AVX512_BF16", "AVX_VNNI")


@dataclass
class ChannelHealth:
    """One channel's check: ok, stand-in (a packaged model replaced the default), off or error."""

    channel: str
    status: str
    loaded: str | None = None
    backend: str | None = None
    seconds: float | None = None
    note: str | None = None
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cpu_report() -> dict[str, Any]:
    """This machine's CPU: model name, architecture and the features native builds care about."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    name = re.search(r"model name\s*:\s*(.+)", text)
    listed = re.search(r"^(?:flags|Features)\s*:\s*(.+)$", text, re.M)
    flags = set(listed.group(1).split()) if listed else set()
    return {
        "model": name.group(1).strip() if name else platform.processor() or platform.machine(),
        "arch": platform.machine(),
        "features": [f for f in CPU_FEATURES if f in flags],
    }


def llama_cpp_build() -> dict[str, Any]:
    """The installed llama.cpp's version and compiled-in CPU features (read in a worker)."""
    from importlib.util import find_spec

    if find_spec("llama_cpp") is None:
        return {"installed": False}
    try:
        worker = Worker("longvid.models.health:LlamaBuild", {}, "llama.cpp", "starting")
    except LongvidError as exc:
        return {"installed": True, "error": exc.what, "fix": exc.fix}
    worker.close()
    info = dict(worker.meta)
    used = [f for f in NATIVE_ONLY if re.search(rf"\b{f} = 1", info["system_info"])]
    info["portable"] = not used
    if used:
        info["fix"] = f"built for this CPU only ({', '.join(used)}); portable: {LLAMA_CPP_REBUILD}"
    return {"installed": True, **info}


class LlamaBuild:
    """Worker side of ``llama_cpp_build``."""

    def __init__(self) -> None:
        import llama_cpp

        raw = llama_cpp.llama_print_system_info()
        self.meta = {
            "version": llama_cpp.__version__,
            "system_info": raw.decode() if isinstance(raw, bytes) else str(raw),
        }


def check_channel(
    channel: str, spec: str | None, device: str | None, captioner: str | None = None
) -> ChannelHealth:
    """Load ``channel``'s model in a worker and make one small real call with it (an ``llm`` of
    ``captioner`` is the video LLM ``captioner`` names, answering)."""
    try:
        worker = Worker(
            "longvid.models.health:ChannelProbe",
            {"channel": channel, "spec": spec, "device": device, "captioner": captioner},
            backend=channel,
            during=f"checking the {channel}",
        )
    except LongvidError as exc:
        return ChannelHealth(channel, "error", note=exc.what, fix=exc.fix)
    try:
        meta = worker.meta
        if meta["loaded"] is None:
            return ChannelHealth(channel, "off", note=meta["note"])
        seconds = worker.call("probe")
    except LongvidError as exc:
        return ChannelHealth(channel, "error", meta["loaded"], meta["backend"], None, exc.what, exc.fix)
    finally:
        worker.close()
    status = "stand-in" if meta["note"] else "ok"
    return ChannelHealth(channel, status, meta["loaded"], meta["backend"], seconds, meta["note"])


class ChannelProbe:
    """Worker side of ``check_channel``: the model as a command would load it."""

    def __init__(
        self, channel: str, spec: str | None, device: str | None, captioner: str | None
    ) -> None:
        import logging

        from longvid.config import setting
        from longvid.models.registry import LoadOptions, load, load_chat, resolve

        notes: list[str] = []
        handler = logging.Handler(logging.WARNING)
        handler.emit = lambda record: notes.append(record.getMessage())  # type: ignore[method-assign]
        logging.getLogger("longvid").addHandler(handler)
        options = LoadOptions(device=setting("device", device), frame_cap=int(setting("max_frames")))
        if channel == "llm":
            shared = resolve("llm", spec, options)[0] == "captioner"
            video_llm = load("captioner", captioner, options) if shared else None
            self.model = load_chat(spec, video_llm, options)
        else:
            self.model = load(channel, spec, options)
        self.channel = channel
        info = self.model.info if self.model is not None else None
        self.meta = {
            "loaded": info.spec if info else None,
            "backend": info.backend if info else None,
            "note": notes[-1] if notes else None,
        }

    def probe(self) -> float:
        """Seconds for the channel's small real call(s)."""
        import numpy as np

        from longvid.media.frames import Frame
        from longvid.models.base import CaptionRequest

        started = time.perf_counter()
        model: Any = self.model
        if self.channel == "llm":  # two calls and a JSON reply: the crash came on the second
            model.chat([{"role": "user", "content": "Reply with the word OK."}])
            schema = {"type": "object", "properties": {"ok": {"type": "boolean"}},
                      "required": ["ok"]}  # fmt: skip
            model.chat([{"role": "user", "content": 'Reply {"ok": true}.'}], json_schema=schema)
        elif self.channel == "captioner":
            frames = [Frame(t, np.full((224, 224, 3), 128, np.uint8)) for t in (0.0, 1.0)]
            model.caption([CaptionRequest(0.0, 2.0, frames)])
        elif self.channel == "embedder":
            model.embed(["a harbour at dawn"])
        elif self.channel == "asr":
            model.transcribe(np.zeros(16_000, np.float32))
        elif self.channel == "ocr":
            model.read(np.zeros((64, 256, 3), np.uint8))
        elif self.channel == "visual_embedder":
            model.embed_images([np.zeros((224, 224, 3), np.uint8)])
            model.embed_texts(["a harbour at dawn"])
        return round(time.perf_counter() - started, 2)
