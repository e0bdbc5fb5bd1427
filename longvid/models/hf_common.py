"""What the transformers backends share: device and dtype choice, and load errors users can act on."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from longvid.errors import LongvidError, MissingDependencyError


class ModelUnavailableError(LongvidError):
    """A model could not be loaded (not cached and the hub unreachable, bad files, ...)."""


def pick_device(requested: str | None = None) -> str:
    """``requested`` if given, else ``cuda`` when available, else ``cpu``."""
    if requested and requested != "auto":
        return requested
    if not nvidia_driver_present():  # no driver, no CUDA: skip importing torch (about 2 s)
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def nvidia_driver_present() -> bool:
    """Whether this machine has an NVIDIA driver (the precondition of any CUDA device)."""
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


# CPU kernels for a model's weights: "fp32", "bf16", or "int8" (dynamic int8 on Linear layers).
# int8 won on a 2-core EPYC (benchmarks/RESULTS.md): half the prefill, about half the decoding.
CPU_KERNELS = ("fp32", "bf16", "int8")
CPU_DEFAULT_KERNEL = "int8"


def cpu_kernel(requested: str | None) -> str:
    """The CPU kernel to use: ``requested`` if it names one, else the default."""
    if requested in CPU_KERNELS:
        return str(requested)
    if requested not in (None, "", "auto"):
        raise LongvidError(f"unknown CPU kernel '{requested}'", "use auto, int8, fp32 or bf16")
    return CPU_DEFAULT_KERNEL


def pick_dtype(device: str, kernel: str = "auto") -> Any:
    """bfloat16 on CUDA (float16 where bf16 is unsupported); on CPU float32 unless ``kernel``
    asks for bf16."""
    import torch

    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if device == "cpu" and cpu_kernel(kernel) == "bf16" else torch.float32


def prepare_for_device(model: Any, device: str, kernel: str = "auto") -> Any:
    """Move ``model`` to ``device`` for inference; on CPU, quantise Linear layers to int8 when
    ``kernel`` is ``int8`` and use one thread per physical core."""
    import torch

    model = model.to(device).eval()
    if device != "cpu":
        return model
    torch.set_num_threads(physical_cores())
    if cpu_kernel(kernel) == "int8":
        import warnings

        with warnings.catch_warnings():  # torch's notice that its quantized dtypes will move
            warnings.simplefilter("ignore")
            torch.ao.quantization.quantize_dynamic(  # in place: one copy of the weights at a time
                model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
            )
    return model


@cache
def physical_cores() -> int:
    """Physical CPU cores (hyper-threads share one core's arithmetic units), at least 1."""
    pairs, physical = set(), "0"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("physical id"):
                physical = line.split(":")[1].strip()
            elif line.startswith("core id"):
                pairs.add((physical, line.split(":")[1].strip()))
    except OSError:
        pass
    return max(1, min(len(pairs) or os.cpu_count() or 1, len(os.sched_getaffinity(0))))


_NOT_CACHED = (
    "couldn't connect",
    "cached snapshot",
    "offline mode",
    "local_files_only",
    "not cached",
)


@cache
def go_offline_if_hub_unreachable() -> bool:
    """Switch huggingface_hub to offline mode when its endpoint cannot be reached in 3 s.

    Without this, every load of an uncached model retries the network for half a minute
    before failing. Returns True when offline (already, or now).
    """
    import huggingface_hub.constants as hub

    if hub.HF_HUB_OFFLINE:
        return True
    endpoint = urlparse(hub.ENDPOINT)
    try:
        socket.create_connection((endpoint.hostname or "", endpoint.port or 443), timeout=3).close()
        return False
    except OSError:
        os.environ["HF_HUB_OFFLINE"] = "1"
        hub.HF_HUB_OFFLINE = True
        return True


def fail_fast_if_uncached(what: str, name: str) -> None:
    """For a hub id: raise ModelUnavailableError at once when it is neither cached nor reachable.

    Saves importing transformers (about 2 s) only to learn that a default cannot load.
    """
    if "/" not in name or Path(name).exists() or not go_offline_if_hub_unreachable():
        return  # a size name (faster-whisper's "small") or a path: the backend decides
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(name, "config.json")
    except ValueError:  # not a valid repo id: let the backend say what is wrong
        return
    if not isinstance(cached, str):
        raise ModelUnavailableError(
            f"cannot load {what} '{name}': not cached and the hub is unreachable", _LOAD_HINT
        )


_LOAD_HINT = (
    "download it once while online (hf download NAME), pass a local directory,"
    " or point at a server with openai:MODEL@URL"
)


def load_or_explain(what: str, name: str, load: Callable[[], Any]) -> Any:
    """Run ``load`` quietly; turn a missing/unreachable model into a ModelUnavailableError."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # weight-loading bars; the CLI shows its own progress
    if not Path(name).exists():
        go_offline_if_hub_unreachable()
    try:
        return load()
    except ImportError as exc:
        raise MissingDependencyError(exc.name or str(exc)) from None
    except (OSError, ValueError) as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        reason = (
            "not cached and the hub is unreachable"
            if any(marker in text.lower() for marker in _NOT_CACHED)
            else text[:160]
        )
        raise ModelUnavailableError(f"cannot load {what} '{name}': {reason}", _LOAD_HINT) from None
