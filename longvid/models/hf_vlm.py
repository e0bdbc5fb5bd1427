"""Video-LLM captioning with transformers: Qwen2-VL / Qwen2.5-VL / Qwen3-VL, SmolVLM2, LLaVA-OneVision.

Everything goes through the Auto classes and the checkpoint's own processor and chat template.
A chunk's frames are passed as one video whose metadata carries their exact times; the prompt
lists the times too and interleaves the chunk's speech and on-screen text.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any

from longvid.models.base import Captioner, CaptionRequest, ChatModel, ModelInfo
from longvid.models.hf_common import (
    ModelUnavailableError,
    cpu_kernel,
    load_dtype,
    load_or_explain,
    pick_device,
    prepare_for_device,
)
from longvid.models.prompts import caption_prompt
from longvid.models.specs import ModelSpec
from longvid.plan import CaptionCost

VIDEO_FAMILIES = (
    "qwen2_vl",
    "qwen2_5_vl",
    "qwen3_vl",
    "qwen3_vl_moe",
    "smolvlm",
    "llava_onevision",
)
# Processor options some families need (Qwen VL: cap pixels per frame as qwen-vl-utils does).
FAMILY_VIDEO_KWARGS: dict[str, dict[str, Any]] = {
    "qwen2_vl": {"cap_pixels_per_frame": True},
    "qwen2_5_vl": {"cap_pixels_per_frame": True},
    "qwen3_vl": {"cap_pixels_per_frame": True},
    "qwen3_vl_moe": {"cap_pixels_per_frame": True},
}
# Tokens kept free in the context for the prompt text and the caption.
_TEXT_RESERVE = 1024
# Frame size used to measure visual tokens per frame (16:9 at the default sampling size).
_PROBE_SIZE = (252, 448)


class HFVideoCaptioner(Captioner):
    """A transformers video LLM. ``max_frames`` comes from the model, capped by ``frame_cap``."""

    def __init__(
        self,
        spec: ModelSpec,
        device: str | None = None,
        frame_cap: int = 32,
        batch_size: int = 2,
        max_new_tokens: int = 256,
        trust_remote_code: bool = False,
        kernel: str = "auto",
    ) -> None:
        from transformers import AutoConfig, AutoModelForImageTextToText

        name = spec.name
        config = load_or_explain(
            "captioner",
            name,
            lambda: AutoConfig.from_pretrained(name, trust_remote_code=trust_remote_code),
        )
        if config.model_type == "idefics3":  # SmolVLM v1 (256M/500M/2.2B) and Idefics3
            raise ModelUnavailableError(
                f"'{name}' is SmolVLM v1 / Idefics3, which reads a few images, not a video",
                "use its video successor SmolVLM2 (e.g. HuggingFaceTB/SmolVLM2-500M-Video-Instruct,"
                " same size), or serve it and pass openai:MODEL@URL (frames then go as images)",
            )
        if config.model_type not in VIDEO_FAMILIES:
            raise ModelUnavailableError(
                f"'{name}' is a {config.model_type} model, not a supported video LLM",
                "use Qwen2-VL/2.5-VL/3-VL, SmolVLM2 or LLaVA-OneVision, or an openai: server",
            )
        self.device = pick_device(device)
        self.processor: Any = load_or_explain(
            "captioner", name, lambda: _load_processor(name, config, trust_remote_code)
        )
        self.processor.tokenizer.padding_side = "left"  # generation appends on the right
        self.model: Any = load_or_explain(
            "captioner",
            name,
            lambda: AutoModelForImageTextToText.from_pretrained(
                name, dtype=load_dtype(self.device, kernel), trust_remote_code=trust_remote_code
            ),
        )
        self.model = prepare_for_device(self.model, self.device, kernel)
        self.kernel = cpu_kernel(kernel) if self.device == "cpu" else "auto"
        self._cost: CaptionCost | None = None
        self.family = config.model_type
        self.batch_size = max(1, batch_size)
        self.max_new_tokens = max_new_tokens
        self.tokens_per_frame = self._measure_tokens_per_frame()
        context = int(getattr(config.get_text_config(), "max_position_embeddings", 32768))
        self.max_frames = max(1, min(frame_cap, (context - _TEXT_RESERVE) // self.tokens_per_frame))
        self.info = ModelInfo(
            str(spec),
            "transformers",
            {
                "family": self.family,
                "device": self.device,
                "max_frames": self.max_frames,
                "tokens_per_frame": self.tokens_per_frame,
            },
        )

    def caption_cost(self) -> CaptionCost | None:
        """Seconds a chunk costs on this CPU (measured once per machine, then remembered); None
        on a GPU, where the context window sets the budget."""
        if not self.device.startswith("cpu"):
            return None
        if self._cost is None:
            import torch

            from longvid.models.cpu_cost import remembered_cost

            key = f"{self.info.spec}|{self.kernel}|{torch.get_num_threads()}"
            self._cost = remembered_cost(key, self._timed_call)
        return self._cost

    def _timed_call(self, frames: int, new_tokens: int) -> None:
        import torch

        inputs = self._inputs([_probe_request(frames)]).to(self.device)
        with torch.inference_mode():
            self.model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                do_sample=False, use_cache=True)  # fmt: skip

    def as_chat(self) -> ChatModel:
        """The same loaded model as the answering LLM (no second copy in memory)."""
        from longvid.models.hf_llm import VisionLMChat

        return VisionLMChat(self.model, self.processor, self.info.spec)

    def caption(self, requests: Sequence[CaptionRequest]) -> list[str]:
        requests = [r.with_at_most(self.max_frames) for r in requests]
        captions: dict[int, str] = {}
        # Videos in one batch must have the same number and size of frames (some processors
        # stack them), so group by shape, then batch.
        order = sorted(range(len(requests)), key=lambda i: _shape(requests[i]))
        for _, group in groupby(order, key=lambda i: _shape(requests[i])):
            indices = list(group)
            for start in range(0, len(indices), self.batch_size):
                batch = indices[start : start + self.batch_size]
                for i, text in zip(
                    batch, self._generate([requests[i] for i in batch]), strict=True
                ):
                    captions[i] = text
        return [captions[i] for i in range(len(requests))]

    def _generate(self, batch: list[CaptionRequest]) -> list[str]:
        import torch

        inputs = self._inputs(batch).to(self.device)
        with torch.inference_mode():
            output = self.model.generate(  # use_cache: SmolVLM2's config turns the KV cache off,
                **inputs, max_new_tokens=self.max_new_tokens, do_sample=False, use_cache=True
            )  # which re-reads the whole prompt for every new token
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        texts = self.processor.batch_decode(new_tokens, skip_special_tokens=True)
        return [t.strip() for t in texts]

    def _inputs(self, batch: Sequence[CaptionRequest]) -> Any:
        import numpy as np

        prompts = [self._chat_text(caption_prompt(r)) for r in batch]
        videos = [np.stack([f.image for f in r.frames]) for r in batch]
        return self.processor(
            text=prompts,
            videos=videos,
            video_metadata=[_metadata(r) for r in batch],
            do_sample_frames=False,  # the frames are already chosen by the planner
            padding=True,
            return_tensors="pt",
            **FAMILY_VIDEO_KWARGS.get(self.family, {}),
        )

    def _chat_text(self, prompt: str) -> str:
        messages = [
            {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": prompt}]}
        ]
        return str(
            self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        )

    def _measure_tokens_per_frame(self) -> int:
        """Visual tokens one frame costs, measured with the model's own processor."""

        def tokens(count: int) -> int:
            return int(self._inputs([_probe_request(count)])["input_ids"].shape[1])

        return max(1, (tokens(4) - tokens(2)) // 2)


def _probe_request(frames: int) -> CaptionRequest:
    """``frames`` blank 16:9 frames, one a second, with a one-word instruction."""
    import numpy as np

    from longvid.media.frames import Frame

    images = [Frame(float(i), np.zeros((*_PROBE_SIZE, 3), np.uint8)) for i in range(frames)]
    return CaptionRequest(0.0, float(frames), images, instruction="x")


def _load_processor(name: str, config: Any, trust_remote_code: bool) -> Any:
    """The checkpoint's processor, also for snapshots naming a processor class since renamed.

    Qwen2.5-VL's first upload names ``Qwen2_5_VLImageProcessor``, which transformers 5 no longer
    has; the model type still says which processor to build, so load by that instead.
    """
    from transformers import AutoProcessor
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING

    try:
        return AutoProcessor.from_pretrained(name, trust_remote_code=trust_remote_code)
    except ValueError as error:
        if (
            "Unrecognized image processor" not in str(error)
            or type(config) not in PROCESSOR_MAPPING
        ):
            raise
    processor_class: Any = PROCESSOR_MAPPING[type(config)]
    return processor_class.from_pretrained(name, config=config)


def _shape(request: CaptionRequest) -> tuple[int, ...]:
    return (len(request.frames), *request.frames[0].image.shape)


def _metadata(request: CaptionRequest) -> Any:
    """Video metadata whose timestamps are the frames' real times (millisecond ticks).

    ``total_num_frames`` spans the chunk, so the sampled rate that Qwen2.5-VL derives from it
    is the chunk's real frame rate.
    """
    from transformers.video_utils import VideoMetadata

    ticks = [round(f.time * 1000) for f in request.frames]
    height, width = request.frames[0].image.shape[:2]
    return VideoMetadata(
        total_num_frames=ticks[-1] - ticks[0] + 1,
        fps=1000.0,
        width=width,
        height=height,
        duration=request.end,
        frames_indices=ticks,
    )
