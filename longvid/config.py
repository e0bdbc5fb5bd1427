"""Settings in one table. Precedence: command-line flag > ``LONGVID_*`` variable > config file > default.

The config file is TOML at ``$LONGVID_CONFIG`` or ``<user config dir>/longvid/config.toml``, e.g.::

    captioner = "openai:qwen2.5-vl-7b@http://gpu-box:8000/v1"
    asr = "none"
    max_frames = 24
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from longvid.errors import LongvidError


@dataclass(frozen=True)
class Setting:
    env: str
    default: Any
    help: str


SETTINGS: dict[str, Setting] = {
    "home": Setting("LONGVID_HOME", None, "store root (default: the platform's user data dir)"),
    "cache": Setting(
        "LONGVID_CACHE", None, "derived model files: ONNX exports, measured CPU costs "
        "(default: the platform's user cache dir)"
    ),
    "device": Setting("LONGVID_DEVICE", "auto", "torch device: auto, cpu, cuda, cuda:1, mps"),
    "captioner": Setting("LONGVID_CAPTIONER", None, "video LLM spec, or none"),
    "llm": Setting("LONGVID_LLM", None, "answering LLM spec (default: the captioner on CUDA)"),
    "embedder": Setting("LONGVID_EMBEDDER", None, "sentence-transformers spec"),
    "asr": Setting("LONGVID_ASR", None, "speech model spec, or none"),
    "ocr": Setting("LONGVID_OCR", None, "on-screen text reader: rapidocr or none"),
    "visual_embedder": Setting(
        "LONGVID_VISUAL_EMBEDDER", None, "image–text encoder spec (SigLIP / CLIP), or none"
    ),
    "speakers": Setting(
        "LONGVID_SPEAKERS",
        None,
        "who speaks when: resemblyzer, a pyannote hub id or directory, or none "
        "(default: resemblyzer where installed and there is speech)",
    ),
    "captions": Setting(
        "LONGVID_CAPTIONS",
        "all",
        "when the video LLM captions chunks: all (while indexing), lazy (only the chunks "
        "questions need, when asked), background (lazy, then the rest in a background process)",
    ),
    "max_frames": Setting("LONGVID_MAX_FRAMES", 32, "most frames per chunk sent to the captioner"),
    "cpu_kernel": Setting(
        "LONGVID_CPU_KERNEL", "auto", "a local video LLM's weights on CPU: auto (int8), int8, fp32, bf16"
    ),
    "server_timeout": Setting(
        "LONGVID_SERVER_TIMEOUT",
        600,
        "seconds to wait for a model server's reply (a local 7B is slow)",
    ),
    "server_max_images": Setting(
        "LONGVID_SERVER_MAX_IMAGES", 0, "images a captioning server takes per request (0: learn it)"
    ),
    "media_cache_gb": Setting(
        "LONGVID_MEDIA_CACHE_GB", 20, "size cap of videos downloaded from URLs"
    ),
    "trust_remote_code": Setting(
        "LONGVID_TRUST_REMOTE_CODE", False, "let transformers run code shipped with a model (off)"
    ),
}


def config_path() -> Path:
    """Where the config file is read from."""
    if os.environ.get("LONGVID_CONFIG"):
        return Path(os.environ["LONGVID_CONFIG"]).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("longvid")) / "config.toml"


@cache
def _file_values(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise LongvidError(f"{path}: invalid config file ({exc})", "fix or remove it") from None
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        raise LongvidError(
            f"{path}: unknown setting(s) {', '.join(unknown)}", f"known: {', '.join(SETTINGS)}"
        )
    return values


def setting(name: str, flag: Any = None) -> Any:
    """The value of setting ``name``: ``flag`` if given, else env, else config file, else default."""
    entry = SETTINGS[name]
    if flag is not None:
        return flag
    if os.environ.get(entry.env):
        return _parse(os.environ[entry.env], entry)
    return _file_values(config_path()).get(name, entry.default)


def _parse(raw: str, entry: Setting) -> Any:
    """An environment variable's text as the setting's type."""
    if isinstance(entry.default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(entry.default, int):
        try:
            return int(raw)
        except ValueError:
            raise LongvidError(
                f"{entry.env}={raw!r} is not a whole number", f"set {entry.env} to e.g. 32"
            ) from None
    return raw


def store_root(flag: str | None = None) -> Path:
    """The store root: ``--store``, else ``LONGVID_HOME``/config, else the user data dir."""
    value = setting("home", flag)
    if value:
        return Path(value).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("longvid"))


def cached_record(name: str, key: str) -> Any:
    """The entry ``key`` of the JSON file ``name`` in the user cache (None: none, or unreadable)."""
    try:
        found = json.loads((cache_root() / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found.get(key) if isinstance(found, dict) else None


def keep_record(name: str, key: str, value: Any) -> None:
    """Set entry ``key`` of the JSON file ``name`` in the user cache (written to a temporary file,
    then renamed); a failure is ignored: the record is derived, made again next time."""
    file = cache_root() / name
    try:
        known = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    known[key] = value
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        work = file.with_suffix(f".{os.getpid()}.tmp")
        work.write_text(json.dumps(known), encoding="utf-8")
        os.replace(work, file)
    except OSError:
        pass


def cache_root() -> Path:
    """Derived model files, shared by every store: ``LONGVID_CACHE``/config, else the user cache dir."""
    value = setting("cache")
    if value:
        return Path(value).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("longvid"))
