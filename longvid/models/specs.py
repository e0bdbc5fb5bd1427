"""Model specs: how users name a model on the command line or in ``LONGVID_*`` variables.

- ``Qwen/Qwen2.5-VL-7B-Instruct``  a Hugging Face hub id (downloaded once, then cached)
- ``/models/qwen``                 a local directory saved with ``save_pretrained``
- ``/models/smollm2.gguf``         a GGUF file (chat models)
- ``openai:MODEL@BASE_URL``        any OpenAI-compatible server (vLLM, SGLang, Ollama, llama.cpp)
- ``openai:MODEL@URL1,URL2,...``   a pool of such servers serving one model
- ``none``                         switch the channel off
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from longvid.errors import LongvidError

SPEC_HELP = "use a hub id, a local directory, a .gguf file, openai:MODEL@BASE_URL, or none"


class SpecError(LongvidError):
    """A model spec that cannot be understood."""


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec. ``kind`` is one of: hub, local, gguf, openai, none."""

    kind: str
    name: str = ""
    base_url: str = ""

    def __str__(self) -> str:
        if self.kind == "openai":
            return f"openai:{self.name}@{self.base_url}"
        return self.name or self.kind


def parse_spec(text: str) -> ModelSpec:
    """Parse a model spec string (see the module docstring for the forms)."""
    spec = text.strip()
    if not spec:
        raise SpecError("empty model spec", SPEC_HELP)
    if spec.lower() == "none":
        return ModelSpec("none")
    if spec.startswith("openai:"):
        model, sep, url = spec.removeprefix("openai:").partition("@")
        urls = [u.strip().rstrip("/") for u in url.split(",")]
        if not sep or not model or not all(u.startswith(("http://", "https://")) for u in urls):
            raise SpecError(
                f"bad server spec '{spec}'",
                "write openai:MODEL@BASE_URL (or @URL1,URL2 for a pool), e.g. "
                "openai:qwen2.5-vl@http://localhost:8000/v1",
            )
        return ModelSpec("openai", model, ",".join(urls))
    path = Path(spec).expanduser()
    if spec.lower().endswith(".gguf"):
        if not path.is_file():
            raise SpecError(f"GGUF file not found: {spec}", "check the path")
        return ModelSpec("gguf", str(path.resolve()))
    if path.is_dir():
        return ModelSpec("local", str(path.resolve()))
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise SpecError(f"model directory not found: {spec}", SPEC_HELP)
    return ModelSpec("hub", spec)
