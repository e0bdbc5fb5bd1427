"""JSON replies that match a schema, whatever the backend.

Each backend constrains its own decoding (llama.cpp: a grammar built from the schema;
transformers: xgrammar as a logits processor; servers: ``response_format``). This module holds
what they share: the schema in the prompt (small models need to know what the fields mean) and
``chat_json``, which validates the reply, retries once with the reason, then fails clearly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from longvid.errors import LongvidError
from longvid.models.base import ChatModel, Message


class StructuredOutputError(LongvidError):
    """A model's reply did not match the JSON schema it was asked for, twice."""


def json_instruction(schema: dict[str, Any]) -> str:
    return (
        "Reply with one JSON object, and nothing else, matching this JSON schema:\n"
        + json.dumps(schema)
    )


def with_schema(messages: Sequence[Message], schema: dict[str, Any] | None) -> list[Message]:
    """Messages with the JSON instruction added to (or as) the system message."""
    out = [dict(m) for m in messages]
    if schema is None:
        return out
    if out and out[0].get("role") == "system":
        out[0]["content"] = f"{out[0]['content']}\n\n{json_instruction(schema)}"
        return out
    return [{"role": "system", "content": json_instruction(schema)}, *out]


def first_json_object(text: str) -> str:
    """The first parseable ``{...}`` in ``text`` (re-serialised), or ``text`` if none parses.

    Only for replies that no grammar constrained (a server that refuses structured output).
    """
    decoder = json.JSONDecoder()
    for start, char in enumerate(text):
        if char == "{":
            try:
                value, _ = decoder.raw_decode(text[start:])
            except ValueError:
                continue
            return json.dumps(value, ensure_ascii=False)
    return text.strip()


def parse_reply(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The reply as a dict, or ValueError saying in a few words why it does not match."""
    import jsonschema

    try:
        value = json.loads(text, strict=False)  # llama.cpp lets raw newlines into strings
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at character {exc.pos})") from None
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "the reply"
        raise ValueError(f"{where}: {exc.message[:160]}") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def chat_json(
    llm: ChatModel, messages: Sequence[Message], schema: dict[str, Any]
) -> dict[str, Any]:
    """The model's reply parsed and validated against ``schema``; one retry, then an error."""
    text = llm.chat(messages, schema)
    try:
        return parse_reply(text, schema)
    except ValueError as exc:
        reason = str(exc)
    retry = [
        *messages,
        {"role": "assistant", "content": text},
        {
            "role": "user",
            "content": f"That reply is invalid ({reason}). Reply again with only one JSON object "
            "that matches the schema.",
        },
    ]
    text = llm.chat(retry, schema)
    try:
        return parse_reply(text, schema)
    except ValueError as exc:
        raise StructuredOutputError(
            f"{llm.info.spec} replied twice with JSON that does not match the schema ({exc})",
            "use a model or server with structured output (a .gguf file, a local model, or a "
            "server that accepts response_format)",
        ) from None
