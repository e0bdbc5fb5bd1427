"""The CPU int8 kernel: torch's numbers, without the float model staying in memory.

transformers maps a safetensors checkpoint into memory; quantising reads every weight, and
those pages used to stay resident (the full-size captioner peaked at 3.46 GB instead of 1.6 GB).
"""

from __future__ import annotations

import shutil
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from longvid.models.hf_common import load_dtype, prepare_for_device, quantise_int8
from tests.test_hf_models import chunk


def _llama(
    directory: Path, hidden: int, layers: int, tied: bool, dtype: torch.dtype = torch.float32
) -> Path:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=256, hidden_size=hidden, intermediate_size=4 * hidden,
        num_hidden_layers=layers, num_attention_heads=8, num_key_value_heads=8,
        tie_word_embeddings=tied,
    )  # fmt: skip
    LlamaForCausalLM(config).to(dtype).save_pretrained(directory)
    return directory


def _load(directory: Path) -> LlamaForCausalLM:
    return LlamaForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()


@pytest.mark.parametrize("tied", [True, False])
def test_int8_gives_torch_quantize_dynamic_numbers(tmp_path: Path, tied: bool) -> None:
    directory = _llama(tmp_path / "llama", hidden=64, layers=2, tied=tied)
    reference, model = _load(directory), _load(directory)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.ao.quantization.quantize_dynamic(
            reference, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
        )
    quantise_int8(model)
    assert not any(type(m) is torch.nn.Linear for m in model.modules())
    assert [type(m) for m in model.modules()] == [type(m) for m in reference.modules()]
    tokens = torch.tensor([[1, 5, 9, 200, 17, 3]])
    with torch.inference_mode():  # a tied embedding read after its lm_head was quantised
        assert torch.equal(model(tokens).logits, reference(tokens).logits)
        generated = model.generate(tokens, max_new_tokens=5, do_sample=False)
        assert torch.equal(generated, reference.generate(tokens, max_new_tokens=5, do_sample=False))


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field}")


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
@pytest.mark.parametrize("stored", [torch.float32, torch.bfloat16])
def test_float_weights_do_not_stay_resident(tmp_path: Path, stored: torch.dtype) -> None:
    directory = _llama(tmp_path / "llama", hidden=1024, layers=2, tied=False, dtype=stored)
    model = LlamaForCausalLM.from_pretrained(directory, dtype=load_dtype("cpu", "int8"))
    # the weights are mapped from the file, not yet read
    fp32_mb = sum(
        m.weight.numel() * 4 for m in model.modules() if type(m) is torch.nn.Linear
    ) / 2**20
    before = _status_mb("VmRSS")
    prepare_for_device(model, "cpu", "int8")
    grown = _status_mb("VmRSS") - before
    # the int8 copy is a quarter of the fp32 weights; the float pages read were given back
    assert grown < 0.5 * fp32_mb, f"RSS grew {grown:.0f} MB for {fp32_mb:.0f} MB of fp32"


def test_a_bf16_checkpoint_captions_as_if_loaded_in_fp32(
    tiny_model: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import AutoModelForImageTextToText

    from longvid.models import hf_vlm
    from longvid.models.specs import parse_spec

    directory = tmp_path / "smolvlm-bf16"  # stored in bf16, as most video LLMs are published
    shutil.copytree(tiny_model("smolvlm"), directory)
    model = AutoModelForImageTextToText.from_pretrained(directory, dtype=torch.bfloat16)
    model.save_pretrained(directory)

    def captions() -> list[str]:
        captioner = hf_vlm.HFVideoCaptioner(
            parse_spec(str(directory)), "cpu", max_new_tokens=8, kernel="int8"
        )
        assert {p.dtype for p in captioner.model.parameters()} == {torch.float32}
        return captioner.caption([chunk(10.0), chunk(20.0, 2)])

    read_as_stored = captions()  # bf16 weights quantised, the rest then made fp32
    monkeypatch.setattr(hf_vlm, "load_dtype", lambda device, kernel: torch.float32)
    assert read_as_stored == captions()  # what widening the whole model to fp32 first gave
