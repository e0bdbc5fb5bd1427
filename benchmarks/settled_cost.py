"""What the agent costs when its first answer settles the question, on a real OpenAI-compatible server.

llama-cpp-python's own server (the packaged SmolLM2-135M GGUF, ``chatml-function-calling``) on a
loopback port; ``examples/demo.mp4`` indexed with the offline stand-ins. Each question is asked
with the agent (``agent=True``, as a server of unknown size gets by default) and with one
retrieval (``agent=False``), alternating which goes first, on one engine (models loaded once):
a question whose first answer the evidence supports should cost the agent one model call, about
the baseline's time.

    python benchmarks/settled_cost.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = ["When does the ferry leave?", "Who checks the engine before the crossing?",
             "Where does the ferry go?"]  # fmt: skip


def main() -> None:
    import longvid
    from tests.llama_server import llama_server

    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.update({"HF_HUB_OFFLINE": "1", "LONGVID_SPEAKERS": "none"})
    work = Path(tempfile.mkdtemp(prefix="settled-"))
    with llama_server(work, "--chat_format", "chatml-function-calling") as (url, _):
        video = longvid.index(str(ROOT / "examples" / "demo.mp4"), store=str(work / "store"),
                              llm=f"openai:smollm2@{url}")  # fmt: skip
        rows = []
        for question in QUESTIONS:
            times: dict[bool, list[float]] = {True: [], False: []}
            steps, answers = [], set()
            for n in range(args.rounds):
                for agent in (True, False) if n % 2 == 0 else (False, True):
                    answer = video.ask(question, agent=agent)
                    times[agent].append(answer.elapsed_s)
                    if agent:
                        steps.append(len(answer.steps))
                    answers.add((agent, answer.answer))
            agent_s, base_s = statistics.median(times[True]), statistics.median(times[False])
            rows.append((question, agent_s, base_s, statistics.mean(steps), sorted(answers)))
    load = os.getloadavg()[0]
    print(f"load average {load:.1f}; median of {args.rounds} per way\n")
    print("| question | agent s | one retrieval s | agent / baseline | agent model calls |\n|---|---|---|---|---|")
    for question, agent_s, base_s, calls, _ in rows:
        print(f"| {question} | {agent_s:.1f} | {base_s:.1f} | {agent_s / base_s:.2f} | {calls:.1f} |")
    print()
    for question, *_, answers in rows:
        print(question, answers)


if __name__ == "__main__":
    main()
