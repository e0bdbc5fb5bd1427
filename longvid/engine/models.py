"""The engine's settings, resolved once, and the models they name, loaded once (thread-safe).

Every door (the CLI, the Python API, the MCP server, ``eval``, Ray tasks) builds one ``Engine``
and asks it for models and options, so the same video gets the same memory key, the same
models and the same devices whichever door it came in by.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from longvid.config import setting, store_root
from longvid.errors import LongvidError
from longvid.media.shots import ShotOptions
from longvid.models.base import Captioner, ChatModel, Embedder, VisualEmbedder
from longvid.models.cpu_cost import cpu_name
from longvid.models.deferred import deferred, remember_plan
from longvid.models.registry import (
    LoadOptions,
    language_default,
    load,
    load_chat,
    load_embedder,
    load_query_embedder,
    reads_english_only,
    resolve,
)
from longvid.models.speakers import Diarizer, load_diarizer, speakers_spec
from longvid.pipeline.build import IndexModels, IndexOptions
from longvid.pipeline.index import ModelChoice, load_index_models
from longvid.plan import FrameBudget

log = logging.getLogger("longvid")
T = TypeVar("T")

CHANNELS = ("captioner", "llm", "embedder", "asr", "ocr", "visual_embedder")
CAPTIONS = ("all", "lazy", "background")
"""When chunks are captioned: while indexing; when a question needs them; in a background process."""
VISUAL_EVERY_S = {"gpu": 2.0, "cpu": 8.0}
"""Seconds between frames of the visual memory: on a CPU the image encoder is the costly part."""


class Engine:
    """Settings (flag > ``LONGVID_*`` > config file > default) and the models they name.

    ``Engine(captioner="none", store="/tmp/store")``; any spec left None is the configured
    default. Models load on first use, once, even when several threads ask at the same time.
    """

    def __init__(
        self,
        store: str | Path | None = None,
        *,
        captioner: str | None = None,
        llm: str | None = None,
        embedder: str | None = None,
        asr: str | None = None,
        ocr: str | None = None,
        visual_embedder: str | None = None,
        device: str | None = None,
        max_frames: int | None = None,
        visual_every: float | None = None,
        speakers: str | None = None,
        captions: str | None = None,
    ) -> None:
        self.store = store_root(str(store) if store else None)
        self.specs: dict[str, str | None] = {
            "captioner": captioner, "llm": llm, "embedder": embedder, "asr": asr, "ocr": ocr,
            "visual_embedder": visual_embedder, "speakers": speakers,
        }  # fmt: skip
        self.device: str | None = setting("device", device)
        self.max_frames = int(setting("max_frames", max_frames))
        self.visual_every = visual_every
        self.captions = str(setting("captions", captions))
        if self.captions not in CAPTIONS:
            raise LongvidError(f"unknown captions mode '{self.captions}'",
                               f"use one of: {', '.join(CAPTIONS)}")  # fmt: skip
        self.options = LoadOptions(device=self.device, frame_cap=self.max_frames)
        self._lock = threading.Lock()
        self._loading: dict[Any, threading.Lock] = {}
        self._loaded: dict[Any, Any] = {}
        self._noted: set[str] = set()

    @classmethod
    def from_choice(cls, choice: ModelChoice, store: Path) -> Engine:
        """The engine a Ray task builds from the driver's ``choice()``: the same models."""
        return cls(store, captioner=choice.captioner, asr=choice.asr, ocr=choice.ocr,
                   embedder=choice.embedder, visual_embedder=choice.visual, device=choice.device,
                   max_frames=choice.max_frames, speakers=choice.speakers)  # fmt: skip

    def channels(self) -> dict[str, dict[str, str]]:
        """Each channel's spec and who chose it ("you": a flag, env or config file; "default")."""
        out = {}
        for channel in CHANNELS:
            spec, explicit = resolve(channel, self.specs[channel], self.options)
            out[channel] = {"spec": spec, "chosen_by": "you" if explicit else "default"}
        return out

    def resolved(self, channel: str) -> str:
        """The spec ``channel`` resolves to (flag, env, config file or the device's default)."""
        return resolve(channel, self.specs[channel], self.options)[0]

    def _once(self, key: Any, make: Callable[[], T]) -> T:
        """``make()`` the first time ``key`` is asked for; every later call (any thread) reuses it."""
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]  # type: ignore[no-any-return,unused-ignore]
            lock = self._loading.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                if key in self._loaded:
                    return self._loaded[key]  # type: ignore[no-any-return,unused-ignore]
            value = make()
            with self._lock:
                self._loaded[key] = value
            return value

    # --- indexing ----------------------------------------------------------------------------

    def choice(self) -> ModelChoice:
        """The index models as specs (what a Ray task needs to load the same ones)."""
        s = self.specs
        return ModelChoice(s["captioner"], s["asr"], s["ocr"], s["embedder"], s["visual_embedder"],
                           self.device, self.max_frames, s["speakers"])  # fmt: skip

    def index_models(self) -> IndexModels:
        """Every model indexing needs, loaded once."""

        def make() -> IndexModels:
            spec = self.resolved("captioner")
            plan_key = "|".join(map(str, (spec, self.device, self.max_frames, setting("cpu_kernel"),
                                          os.cpu_count(), cpu_name())))  # fmt: skip
            later = deferred(plan_key, lambda: self.captioner(spec))
            if later is not None:  # plan with the record; load the model when a chunk needs it
                models = load_index_models(replace(self.choice(), captioner="none"), self.store)
                models.captioner = later
                return models
            models = load_index_models(self.choice(), self.store)
            if models.captioner is None and setting("captioner", self.specs["captioner"]) == "none":
                log.info("visual captions are off (--captioner none): indexing speech, subtitles "
                         "and on-screen text only")  # fmt: skip
            elif models.captioner is not None and models.captioner.info.backend == "transformers":
                remember_plan(plan_key, models.captioner)  # later runs plan without loading it
            return models

        return self._once("index", make)

    def index_models_for(self, language: str | None) -> IndexModels:
        """``index_models()`` for a video whose content is in ``language`` (its subtitles', known
        before indexing; None: unknown): with the registry's embedder for that language where you
        chose none (loaded once). One that cannot be loaded gives way to the default, said once."""
        models = self.index_models()
        spec = language_default("embedder", language, self.specs["embedder"], self.options)
        if spec is None:
            return models

        def make() -> Embedder:
            try:
                embedder = load_embedder(spec, self.options)
            except LongvidError as exc:
                default = models.embedder.info.spec
                limit = ", which reads English only" if reads_english_only(default) else ""
                log.warning("subtitles not in English call for the multilingual embedder, but %s; "
                            "indexing with the default %s%s (full-text search still matches any "
                            "language) — download it once while online: hf download %s (or pass "
                            "--embedder)", exc.what, default, limit, spec)  # fmt: skip
                return models.embedder
            log.info("embedder: %s for subtitles not in English (the multilingual default)", spec)
            return embedder

        return replace(models, embedder=self._once(("embedder for", spec), make))

    def index_options(self, shots: ShotOptions | None = None, gpu: bool | None = None) -> IndexOptions:
        """How videos are cut and sampled: part of each memory's key, so decided here only.

        ``gpu`` says where frames will be embedded (a Ray task's GPU); by default, where this
        engine's image–text encoder runs.
        """
        if gpu is None:
            visual = self.index_models().visual
            gpu = visual is not None and str(visual.info.details.get("device", "cpu")).startswith("cuda")
        every = self.visual_every or VISUAL_EVERY_S["gpu" if gpu else "cpu"]
        return IndexOptions(shots=shots or ShotOptions(), budget=FrameBudget(max_frames=self.max_frames),
                            visual_every_s=every, lazy_captions=self.captions != "all")  # fmt: skip

    def speakers_chosen(self) -> bool:
        """Whether the user named the speakers backend (flag, ``LONGVID_SPEAKERS``, config)."""
        return speakers_spec(self.specs["speakers"])[1]

    def note(self, line: str) -> None:
        """Say ``line`` on the log once per engine (a batch of videos says it once)."""
        with self._lock:
            if line in self._noted:
                return
            self._noted.add(line)
        log.info(line)

    def speakers_choice(self, has_speech: bool) -> tuple[str | None, str]:
        """The speakers backend for a video (None: off) and why, in one line.

        The one place that owns the default: a spec the user gave (flag, ``LONGVID_SPEAKERS``,
        config file) is used as given; otherwise resemblyzer, offline, where its package is
        installed and the video has speech, else none.
        """
        import importlib.util

        spec, explicit = speakers_spec(self.specs["speakers"])
        if spec == "none":
            return None, "speakers: off (--speakers none)"
        if explicit:
            return spec, f"speakers: {spec}"
        if importlib.util.find_spec("resemblyzer") is None:
            return None, ("speakers: off — the resemblyzer package is not installed "
                          "(pip install 'longvid[speakers]', or pass --speakers)")  # fmt: skip
        if not has_speech:
            return None, "speakers: off — no speech in this video"
        return spec, f"speakers: {spec} (the offline default where there is speech)"

    def diarizer(self, spec: str) -> Diarizer:
        """The speakers backend ``spec`` names (loaded once, on the engine's device)."""

        def make() -> Diarizer:
            found = load_diarizer(spec, self.device)
            if found is None:
                raise LongvidError(f"speakers backend '{spec}' is off",
                                   "pass --speakers resemblyzer or a pyannote pipeline")  # fmt: skip
            return found

        return self._once(("speakers", spec), make)

    # --- answering ---------------------------------------------------------------------------

    def query_embedder(self, spec: str) -> Embedder:
        """The embedder a memory was built with (its ONNX copy when there is one: no torch)."""
        return self._once(("embedder", spec), lambda: load_query_embedder(spec))

    def visual(self, spec: str | None) -> VisualEmbedder | None:
        """The image–text encoder a memory's frames were embedded with (None if it has none)."""
        if not spec or spec == "none":
            return None
        return self._once(("visual", spec), lambda: load("visual_embedder", spec, self.options))

    def looker(self, indexed_with: str) -> Captioner | None:
        """The video LLM for closer looks: the one named, else the one that indexed the video."""
        return self.captioner(self.specs["captioner"] or indexed_with)

    def captioner(self, spec: str) -> Captioner | None:
        """The video LLM ``spec`` names (None for ``none``): a memory's own, for its late captions."""
        if spec == "none":
            return None
        return self._once(("captioner", spec), lambda: load("captioner", spec, self.options))

    def llm(self, captioner: Captioner | None = None) -> ChatModel:
        """The answering LLM (the loaded video LLM itself when the spec says ``captioner``)."""

        def make() -> ChatModel:
            chat = load_chat(self.specs["llm"], captioner, self.options)
            if chat is None:
                raise LongvidError("no answering LLM is available",
                                   "pass --llm (a hub id, .gguf file or openai:MODEL@URL)")  # fmt: skip
            return chat

        return self._once(("llm", resolve("llm", self.specs["llm"], self.options)[0]), make)

    def answer_way(self, llm: ChatModel, agent: bool | None, max_steps: int) -> tuple[bool, int]:
        """(the engine's checks, tool steps) for ``llm``: as asked (``--agent`` / ``--no-agent``),
        else what the figures decided (``longvid.agent.default``)."""
        from longvid.agent.default import answer_way

        checks, steps, why = answer_way(llm.info, agent, max_steps)
        if why and checks and not steps:
            log.info("answering in one call (%s) — pass --agent for tool steps", why)
        return checks, steps
