"""What real checkpoints' processors and chat templates do with longvid's frames.

The tiny models keep each real checkpoint's processor configs, chat template and special tokens
(tests/data/checkpoints, SOURCES.md); only the network is shrunk. Frames are longvid's default
size for 16:9 video: 448 x 252 (``DEFAULT_MAX_SIDE``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from longvid.media.frames import DEFAULT_MAX_SIDE, Frame
from longvid.models.base import CaptionRequest
from longvid.models.hf_vlm import _TEXT_RESERVE
from longvid.models.registry import LoadOptions, load
from tests.real_checkpoints import build, real_json

HEIGHT, WIDTH = 252, DEFAULT_MAX_SIDE
FRAMES = 4
START = 3725.0  # 01:02:05


def visual_tokens_per_frame(family: str) -> float:
    """The arithmetic each real config implies for one 448 x 252 frame."""
    if family == "qwen2_5_vl":
        pre = real_json(family, "preprocessor_config.json")
        factor = pre["patch_size"] * pre["merge_size"]  # 14 * 2 = 28: 252 = 9*28, 448 = 16*28
        assert pre["min_pixels"] <= HEIGHT * WIDTH <= pre["max_pixels"] == 12845056  # no resize
        grid = (HEIGHT // factor) * (WIDTH // factor)  # 9 * 16 merged patches per frame pair
        return grid / pre["temporal_patch_size"]  # 144 tokens per 2 frames = 72
    if family == "qwen3_vl":
        video = real_json(family, "video_preprocessor_config.json")
        factor = video["patch_size"] * video["merge_size"]  # 16 * 2 = 32
        height = round(HEIGHT / factor) * factor  # 252 -> 256
        assert video["size"]["shortest_edge"] <= height * WIDTH  # 4096 px floor
        return (height // factor) * (WIDTH // factor) / video["temporal_patch_size"]  # 8*14/2 = 56
    if family == "smolvlm":
        config = real_json(family, "config.json")
        processor = real_json(family, "processor_config.json")
        side = config["vision_config"]["image_size"] // config["vision_config"]["patch_size"]  # 32
        assert processor["image_seq_len"] == side**2 // config["scale_factor"] ** 2 == 64
        return processor["image_seq_len"]  # each frame is one 512 x 512 image, no splitting
    if family == "llava_onevision":
        pre = real_json(family, "preprocessor_config.json")
        side = (
            pre["size"]["height"] // real_json(family, "config.json")["vision_config"]["patch_size"]
        )
        pooled = -(-side // 2)  # 27 x 27 patches, 2x2 bilinear pooling for video -> 14 x 14
        return pooled * pooled  # 196 (+1 newline token per video)
    raise AssertionError(family)


def request(frames: int = FRAMES) -> CaptionRequest:
    rng = np.random.default_rng(0)
    images = [
        Frame(START + 0.5 * i, rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8))
        for i in range(frames)
    ]
    return CaptionRequest(START, START + 0.5 * frames, images, instruction="describe")


@pytest.fixture(scope="module", params=["qwen2_5_vl", "qwen3_vl", "smolvlm", "llava_onevision"])
def real(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory = build(request.param, tmp_path_factory.mktemp("real") / request.param)
    return load("captioner", str(directory), LoadOptions(frame_cap=100_000))


def placeholder_count(model: Any, inputs: Any) -> int:
    token = {"smolvlm": "<image>", "llava_onevision": "<video>"}.get(model.family, "<|video_pad|>")
    token_id = model.processor.tokenizer.convert_tokens_to_ids(token)
    return int((inputs["input_ids"][0] == token_id).sum())


def test_video_placeholder_expands_to_what_the_real_config_implies(real: Any) -> None:
    per_frame = visual_tokens_per_frame(real.family)
    newline = 1 if real.family == "llava_onevision" else 0
    assert placeholder_count(real, real._inputs([request()])) == FRAMES * per_frame + newline


def test_frame_budget_follows_from_tokens_per_frame_and_the_real_context(real: Any) -> None:
    context = real.model.config.get_text_config().max_position_embeddings
    assert context == {"qwen2_5_vl": 128000, "qwen3_vl": 262144, "smolvlm": 8192,
                       "llava_onevision": 32768}[real.family]  # fmt: skip
    # Each frame also costs its time stamps in the text (ours, and the processor's own).
    assert visual_tokens_per_frame(real.family) < real.tokens_per_frame
    assert real.tokens_per_frame < visual_tokens_per_frame(real.family) + 40
    assert real.max_frames == (context - _TEXT_RESERVE) // real.tokens_per_frame


def test_frames_are_neither_dropped_nor_resampled(real: Any) -> None:
    inputs = real._inputs([request(6)])
    if "video_grid_thw" in inputs:  # Qwen: temporal patches of 2 frames
        assert int(inputs["video_grid_thw"][0][0]) * 2 == 6
    else:
        key = "pixel_values" if real.family == "smolvlm" else "pixel_values_videos"
        assert tuple(inputs[key].shape[:2]) == (1, 6)


def test_prompt_carries_the_chunks_real_times(real: Any) -> None:
    prompt = real.processor.batch_decode(real._inputs([request()])["input_ids"])[0]
    for stamp in ("[01:02:05.0]", "[01:02:05.5]", "[01:02:06.0]", "[01:02:06.5]"):
        assert stamp in prompt  # ours
    if real.family == "qwen3_vl":  # the processor's: one per 2-frame patch, their mean time
        assert re.findall(r"<([\d.]+) seconds>", prompt) == ["3725.2", "3726.2"]
    if real.family == "smolvlm":  # the processor's: one line per frame, in minutes:seconds
        assert re.findall(r"Frame from (\d+:\d\d):", prompt) == ["62:05", "62:05", "62:06", "62:06"]


def test_qwen2_5_vl_template_adds_its_system_prompt(real: Any) -> None:
    if real.family != "qwen2_5_vl":
        pytest.skip("Qwen2.5-VL only")
    text = real._chat_text("describe")
    assert text.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n")
    assert "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>describe" in text


def test_an_older_qwen2_5_vl_snapshot_still_loads(tmp_path: Path) -> None:
    """The first upload names Qwen2_5_VLImageProcessor, which transformers 5 rejects."""
    directory = build("qwen2_5_vl", tmp_path / "old", "preprocessor_config.2025-01-26.json")
    model = load("captioner", str(directory), LoadOptions(frame_cap=8))
    assert model.processor.video_processor.size.longest_edge == 12845056
    assert placeholder_count(model, model._inputs([request()])) == FRAMES * 72
