"""What the default CPU captioner costs at its real size: seconds per video minute, peak RSS.

No real weights can be downloaded here, so this builds SmolVLM2-500M-Video-Instruct with random
weights from the real checkpoint's config (``tests/data/checkpoints``): every layer, width and the
49,280-token vocabulary are real; only the tokenizer is a small one holding the real special
tokens. Compute does not depend on the weights' values; random weights never stop early, so
decoding runs to the token limit (the worst case). The model is saved with ``save_pretrained``
and loaded through longvid's own captioner path (``HFVideoCaptioner``), as ``--captioner DIR``.

    python benchmarks/captioner_cost.py profile        # vision per frame, prefill per token, decode
    python benchmarks/captioner_cost.py setting fp32 8 256   # one setting, in its own process
    python benchmarks/captioner_cost.py all            # every setting, each in a fresh process

Each setting runs in its own process so its peak RSS is its own (``ru_maxrss``); the RSS after
loading is reported beside it.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODEL_DIR = Path(os.environ.get("LONGVID_BENCH_MODEL", "/tmp/longvid-bench/smolvlm2-500m-full"))
# (kernel, frames per chunk, new tokens): each kernel at the least useful view, then a richer one
SETTINGS = [
    ("fp32", 4, 96),
    ("bf16", 4, 96),
    ("int8", 4, 96),
    ("int8", 8, 128),
]


def build(directory: Path = MODEL_DIR) -> Path:
    """The full-size random-weight SmolVLM2-500M-Video in ``directory`` (built once)."""
    if (directory / "model.safetensors").exists():
        return directory
    from transformers import AutoConfig, AutoModelForImageTextToText

    from tests.real_checkpoints import REAL, _remap_token_ids, real_files, real_json, special_tokens
    from tests.tiny_models import tiny_tokenizer

    name = "smolvlm"
    source = real_files(name)
    work = directory.with_name(directory.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for file in ("preprocessor_config.json", "processor_config.json", "chat_template.json"):
        shutil.copy(source / file, work / file)
    real_ids = special_tokens(name)
    wiring = real_json(name, "tokenizer_config.json")
    named = {k: wiring[k] for k in ("eos_token", "pad_token", "bos_token") if wiring.get(k)}
    specials = list(dict.fromkeys(t for _, t in sorted(real_ids.items())))
    tok = tiny_tokenizer(specials, vocab_size=len(specials) + 300, **named)
    tok.save_pretrained(work)
    config = real_json(name, "config.json")
    _remap_token_ids(config, {i: tok.convert_tokens_to_ids(t) for i, t in real_ids.items()}, tok)
    (work / "config.json").write_text(json.dumps(config))  # sizes untouched: the real network
    model = AutoModelForImageTextToText.from_config(AutoConfig.from_pretrained(work))
    model.save_pretrained(work)
    shutil.rmtree(directory, ignore_errors=True)
    work.rename(directory)
    print(f"built {REAL[name]} at full size: {sum(p.numel() for p in model.parameters()):,} "
          f"parameters in {directory}", file=sys.stderr)  # fmt: skip
    return directory


def requests(chunks: int, frames: int) -> list[Any]:
    """Caption requests shaped as the index sends them: 640x360 frames, speech and screen text."""
    import numpy as np

    from longvid.media.frames import Frame
    from longvid.models.base import CaptionRequest, TimedText

    rng = np.random.default_rng(0)
    out = []
    for c in range(chunks):
        start, end = 30.0 * c, 30.0 * (c + 1)
        times = [start + (i + 0.5) * (end - start) / frames for i in range(frames)]
        images = [Frame(t, rng.integers(0, 255, (360, 640, 3), np.uint8)) for t in times]
        speech = [TimedText(start + 2, start + 6, "and then the ferry leaves the harbour")]
        out.append(CaptionRequest(start, end, images, transcript=speech))
    return out


def load(kernel: str, frames: int, tokens: int) -> Any:
    """The captioner through longvid's own path, with the kernel options of this setting."""
    from longvid.models.hf_vlm import HFVideoCaptioner
    from longvid.models.specs import parse_spec

    return HFVideoCaptioner(
        parse_spec(str(build())), "cpu", frame_cap=frames, batch_size=1,
        max_new_tokens=tokens, kernel=kernel,
    )  # fmt: skip


def run_setting(kernel: str, frames: int, tokens: int, chunks: int = 2) -> dict[str, Any]:
    """Caption ``chunks`` 30-second chunks; seconds per chunk and per video minute, peak RSS."""
    started = time.perf_counter()
    captioner = load(kernel, frames, tokens)
    load_s = time.perf_counter() - started
    loaded_mb = _rss_mb()  # the loaded model (and torch), before any activation
    captioner.caption(requests(1, frames))  # warm-up (first-call kernel selection)
    started, cpu = time.perf_counter(), _cpu_s()
    for request in requests(chunks, frames):
        captioner.caption([request])
    per_chunk = (time.perf_counter() - started) / chunks
    cpu_per_chunk = (_cpu_s() - cpu) / chunks / max(1, _threads())
    return {
        "kernel": kernel, "frames": frames, "new_tokens": tokens, "load_s": round(load_s, 1),
        "s_per_chunk": round(per_chunk, 1), "s_per_video_min_at_30s_chunks": round(2 * per_chunk, 1),
        # CPU seconds / threads: what the chunk costs an idle machine (others' jobs share this one)
        "cpu_s_per_chunk_per_thread": round(cpu_per_chunk, 1), "load_avg": os.getloadavg()[0],
        "rss_after_load_mb": loaded_mb,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }  # fmt: skip


def _rss_mb() -> int:
    """This process's resident memory now, in MB (Linux; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _threads() -> int:
    import torch

    return int(torch.get_num_threads())


def profile(kernel: str = "fp32") -> dict[str, Any]:
    """Vision tower per frame, prefill per token and decoding per token (the faster of 2)."""
    import torch

    captioner = load(kernel, 8, 96)
    model = captioner.model

    def timed(call: Any) -> float:
        samples = []
        for _ in range(2):
            started = time.perf_counter()
            with torch.inference_mode():
                call()
            samples.append(time.perf_counter() - started)
        return min(samples)

    out: dict[str, Any] = {"kernel": kernel, "threads": torch.get_num_threads(),
                           "attention": model.config._attn_implementation}  # fmt: skip
    for frames in (4, 8):
        inputs = captioner._inputs(requests(1, frames))
        pixels = inputs["pixel_values"]
        vision = timed(lambda p=pixels: model.model.get_image_features(pixel_values=p))
        out[f"vision_{frames}_frames_s"] = round(vision, 2)
        tokens = int(inputs["input_ids"].shape[1])
        full = timed(lambda i=inputs: model(**i, logits_to_keep=1))
        out[f"prefill_{frames}_frames_tokens"] = tokens
        out[f"prefill_{frames}_frames_s"] = round(full - vision, 2)
    out["vision_per_frame_s"] = round(out["vision_8_frames_s"] / 8, 3)
    out["prefill_per_token_ms"] = round(1000 * out["prefill_8_frames_s"] / out["prefill_8_frames_tokens"], 2)
    inputs = captioner._inputs(requests(1, 4))
    gen = {}
    for new in (8, 40):
        gen[new] = timed(lambda n=new: model.generate(**inputs, max_new_tokens=n, min_new_tokens=n,
                                                      do_sample=False, use_cache=True))  # fmt: skip
    out["decode_per_token_ms"] = round(1000 * (gen[40] - gen[8]) / 32, 1)
    out["visual_tokens_per_frame"] = captioner.tokens_per_frame
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return out


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "all"
    if command == "build":
        build()
    elif command == "profile":
        print(json.dumps(profile(*(argv[1:2] or ["fp32"]))))
    elif command == "setting":
        print(json.dumps(run_setting(argv[1], int(argv[2]), int(argv[3]))))
    else:
        build()
        for kernel, frames, tokens in SETTINGS:
            done = subprocess.run([sys.executable, __file__, "setting", kernel, str(frames), str(tokens)],
                                  capture_output=True, text=True, check=False)  # fmt: skip
            print(done.stdout.strip() or done.stderr.strip()[-400:], flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
