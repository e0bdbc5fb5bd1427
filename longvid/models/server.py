"""What the OpenAI-compatible backends share: the client, one completion, and its errors.

Both ``openai_compat`` (captioner and chat) and ``endpoints`` (pools of servers) import this;
neither imports the other's internals.
"""

from __future__ import annotations

import os
from typing import Any

from longvid.errors import LongvidError
from longvid.models.specs import ModelSpec

UNAVAILABLE = {429, 502, 503, 504}
"""Statuses that say an endpoint is overloaded or down (another endpoint may serve the request)."""


class ServerError(LongvidError):
    """The server failed, timed out, or sent a reply that cannot be used."""

    def __init__(
        self, what: str, fix: str = "", status: int | None = None, unavailable: bool = False
    ) -> None:
        super().__init__(what, fix)
        self.status = status
        self.unavailable = unavailable or status in UNAVAILABLE  # another endpoint may serve it


def client(spec: ModelSpec, timeout: float, retries: int) -> Any:
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a core dependency
        from longvid.errors import MissingDependencyError

        raise MissingDependencyError("openai", "server") from None
    return openai.OpenAI(
        base_url=spec.base_url,
        api_key=os.environ.get("OPENAI_API_KEY") or "not-needed",
        timeout=timeout,
        max_retries=retries,
    )


def complete(client: Any, spec: ModelSpec, messages: list[dict[str, Any]], **extra: Any) -> str:
    """One chat completion; every failure becomes a one-line ServerError."""
    import openai

    where = f"{spec.base_url} (model {spec.name})"
    try:
        reply = client.chat.completions.create(model=spec.name, messages=messages, **extra)
    except openai.APITimeoutError:
        raise ServerError(
            f"{where} timed out",
            "check the server, or raise LONGVID_SERVER_TIMEOUT",
            unavailable=True,
        ) from None
    except openai.APIConnectionError:
        raise ServerError(
            f"cannot reach {where}", "start the server or fix the URL", unavailable=True
        ) from None
    except openai.APIStatusError as exc:
        raise ServerError(
            f"{where} answered HTTP {exc.status_code}: {short(exc.message)}",
            "check the model name and the server log",
            status=exc.status_code,
        ) from None
    except (openai.APIResponseValidationError, ValueError):
        raise ServerError(
            f"{where} sent a malformed reply", "check that it speaks the OpenAI API"
        ) from None
    try:
        text = reply.choices[0].message.content
    except (AttributeError, IndexError, TypeError):
        text = None
    if not isinstance(text, str):
        raise ServerError(
            f"{where} sent a reply with no text", "check that it speaks the OpenAI API"
        )
    return text.strip()


def short(text: str, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
