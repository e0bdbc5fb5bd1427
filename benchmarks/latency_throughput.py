"""Latency of the CLI and of ``ask`` without model time, and captioning throughput.

    python benchmarks/latency_throughput.py

(c) ``longvid --help`` wall time, and ``ask`` on a memory of a long video (1,500 chunks, about
    10 hours at 24 s a chunk) with zero-cost embedder and LLM: retrieval, evidence and prompt only.
(d) chunks/s captioned by a tiny random Qwen2-VL (batch 1 vs 4), and by an OpenAI-compatible
    server whose every request takes 0.25 s (a stand-in for a remote GPU), 1 vs 4 vs 8 in flight.
Run from the repository root (it borrows the test helpers that build tiny models and the server).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from longvid.media.frames import Frame
from longvid.memory.store import ChunkRecord, VideoMemory
from longvid.models.base import CaptionRequest, ChatModel, Embedder, ModelInfo, TimedText
from longvid.pipeline.ask import AskOptions, ask


class FreeEmbedder(Embedder):
    info, dimension = ModelInfo("free", "benchmark"), 384

    def embed(self, texts):  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(len(texts))
        vectors = rng.normal(size=(len(texts), self.dimension)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class FreeChat(ChatModel):
    info = ModelInfo("free", "benchmark")

    def chat(self, messages, json_schema=None):  # type: ignore[no-untyped-def]
        return '{"answer": "It is at [00:10:00].", "enough": true, "found": true}'


def help_latency() -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "longvid", "--help"], capture_output=True, check=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def ask_latency(chunks: int = 1500) -> float:
    with tempfile.TemporaryDirectory() as folder:
        memory = VideoMemory(Path(folder))
        embedder = FreeEmbedder()
        words = [
            "ferry",
            "harbour",
            "captain",
            "engine",
            "storm",
            "bread",
            "market",
            "lighthouse",
            "island",
            "gate",
            "passengers",
        ]
        rng = np.random.default_rng(0)
        for i in range(chunks):
            text = " ".join(rng.choice(words, 12))
            line = TimedText(i * 24.0 + 3, i * 24.0 + 6, text)
            record = ChunkRecord(
                i, i * 24.0, (i + 1) * 24.0, i, i, [i * 24.0 + 12], f"caption {i}", [line], [], text
            )
            memory.commit_chunk(record, embedder.embed([text])[0])
        memory.set_meta("video", {"duration": chunks * 24.0})
        memory.write_index()
        runs = []
        for question in [
            "when does the ferry leave the harbour?",
            "what does the captain check?",
        ] * 5:
            start = time.perf_counter()
            ask(
                "unused.mp4",
                question,
                memory,
                embedder,
                FreeChat(),
                None,
                AskOptions(inspect=False),
            )
            runs.append(time.perf_counter() - start)
        memory.close()
    return statistics.median(runs)


def requests(count: int) -> list[CaptionRequest]:
    rng = np.random.default_rng(1)
    return [
        CaptionRequest(
            10.0 * i,
            10.0 * i + 8,
            [
                Frame(10.0 * i + j, rng.integers(0, 255, (252, 448, 3), dtype=np.uint8))
                for j in range(8)
            ],
        )
        for i in range(count)
    ]


def throughput(captioner, count: int) -> float:  # type: ignore[no-untyped-def]
    batch = requests(count)
    start = time.perf_counter()
    captioner.caption(batch)
    return count / (time.perf_counter() - start)


def main() -> None:
    from longvid.models.openai_compat import OpenAICaptioner
    from longvid.models.registry import LoadOptions, load
    from longvid.models.specs import parse_spec
    from tests.fake_openai import FakeServer, serve
    from tests.tiny_models import build_qwen2_vl

    print(f"longvid --help: {help_latency() * 1000:.0f} ms (median of 5, new process each)")
    print(
        f"ask without model time, 1,500-chunk memory: {ask_latency() * 1000:.0f} ms (median of 10)"
    )
    with tempfile.TemporaryDirectory() as folder:
        tiny = load(
            "captioner", str(build_qwen2_vl(Path(folder) / "qwen")), LoadOptions(device="cpu")
        )
        tiny.max_new_tokens = 16
        for size in (1, 4):
            tiny.batch_size = size
            print(f"tiny Qwen2-VL, batch {size}: {throughput(tiny, 16):.1f} chunks/s")
    server = FakeServer(delay=0.25)
    with serve(server) as url:
        for in_flight in (1, 4, 8):
            remote = OpenAICaptioner(parse_spec(f"openai:vl@{url}"), concurrency=in_flight)
            print(f"OpenAI-compatible server (0.25 s a request), {in_flight} in flight: "
                  f"{throughput(remote, 16):.1f} chunks/s")  # fmt: skip


if __name__ == "__main__":
    main()
