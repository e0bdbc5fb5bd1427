"""What the transformers backends share: device and dtype choice, and load errors users can act on."""

from __future__ import annotations

import ctypes
import mmap
import os
import shutil
import socket
from collections import Counter
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


def load_dtype(device: str, kernel: str = "auto") -> Any:
    """The dtype to load a model in for ``prepare_for_device``: the checkpoint's own ("auto") when
    the CPU int8 kernel will quantise it (a bf16 checkpoint is not widened to a whole fp32 copy
    first; its other weights become fp32 after), else ``pick_dtype``."""
    if device == "cpu" and cpu_kernel(kernel) == "int8":
        return "auto"
    return pick_dtype(device, kernel)


def prepare_for_device(model: Any, device: str, kernel: str = "auto") -> Any:
    """Move ``model`` to ``device`` for inference; on CPU, quantise Linear layers to int8 when
    ``kernel`` is ``int8`` (then the rest to fp32) and use one thread per physical core."""
    import torch

    model = model.to(device).eval()
    if device != "cpu":
        return model
    torch.set_num_threads(physical_cores())
    if cpu_kernel(kernel) == "int8":
        quantise_int8(model)
        model = model.float()  # bf16 -> fp32 is exact: the numbers of an fp32 load
    return model


def quantise_int8(model: Any) -> None:
    """Dynamic int8 on every Linear layer, in place, one layer at a time (what
    ``quantize_dynamic`` does, same numbers), giving each float weight's memory back as soon as
    its int8 copy exists.

    transformers maps a safetensors checkpoint into memory: reading a weight to quantise it makes
    its pages resident, and they would stay so (the whole float model, counted in the process's
    RSS) for as long as any tensor of the file lives. So the pages of each weight no other
    module shares are released once quantised; the peak is the int8 model plus one float layer.
    """
    import warnings
    from itertools import chain

    import torch
    from torch.ao.nn.quantized.dynamic import Linear as Int8Linear
    from torch.ao.quantization import default_dynamic_qconfig, swap_module

    tensors = chain(model.named_parameters(remove_duplicate=False), model.named_buffers())
    users = Counter(t.untyped_storage().data_ptr() for _, t in tensors)  # tied weights: 2
    mapped = _file_mappings()
    swapped: dict[int, Any] = {}
    with warnings.catch_warnings():  # torch's notice that its quantized dtypes will move
        warnings.simplefilter("ignore")
        for parent in model.modules():  # not a list: a replaced layer must die at once
            linears: list[tuple[str, Any]] = [
                (name, child)
                for name, child in parent.named_children()
                if type(child) is torch.nn.Linear  # exactly, as quantize_dynamic
            ]
            for name, child in linears:
                if id(child) not in swapped:
                    stored = child.weight.untyped_storage()
                    child.qconfig = default_dynamic_qconfig  # what swap_module reads
                    swapped[id(child)] = swap_module(  # from fp32, as from a model loaded so
                        child.float(), {torch.nn.Linear: Int8Linear}, {}
                    )
                    if users[stored.data_ptr()] == 1:
                        _release_pages(stored, mapped)
                setattr(parent, name, swapped[id(child)])
    _trim_heap()


def _file_mappings() -> list[tuple[int, int]]:
    """Address ranges of this process's file-backed memory maps (Linux; else none)."""
    ranges = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].startswith("/"):
                    low, high = fields[0].split("-")
                    ranges.append((int(low, 16), int(high, 16)))
    except OSError:
        pass
    return ranges


def _release_pages(storage: Any, mapped: list[tuple[int, int]]) -> None:
    """Drop the resident pages of a dead tensor read from a memory-mapped file (whole pages
    inside it only, so its neighbours keep theirs; reading them again would re-read the file)."""
    start = storage.data_ptr()
    end = start + storage.nbytes()
    if not any(low <= start and end <= high for low, high in mapped):
        return  # ordinary memory: freed with the tensor
    first, last = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE, end // mmap.PAGESIZE * mmap.PAGESIZE
    if last > first:
        _libc().madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), mmap.MADV_DONTNEED)


def _trim_heap() -> None:
    """Give the C heap's free memory back to the system (glibc keeps freed blocks otherwise)."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


@cache
def _libc() -> Any:
    """The C library's symbols, or None where they cannot be had this way (Windows)."""
    try:
        return ctypes.CDLL(None)
    except (OSError, TypeError):
        return None


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
