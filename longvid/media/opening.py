"""Open a media file with PyAV, turning every failure into a one-line LongvidError."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from longvid.errors import CorruptVideoError, InputError

if TYPE_CHECKING:
    import av.container

REMUX_HINT = "re-encode or re-mux it, e.g. ffmpeg -i IN -c:v libx264 OUT.mp4"


def check_readable(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a Path if it is a non-empty readable file, else raise InputError."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file", "check the path")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a video", "pass a video file")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: file is empty (0 bytes)", "re-copy or re-download it")
    if not os.access(p, os.R_OK):
        raise InputError(f"{p}: permission denied", "make the file readable")
    return p


def open_video(path: str | os.PathLike[str]) -> av.container.InputContainer:
    """Open ``path`` and check it has a video stream; raise a clear LongvidError if not."""
    import av

    p = check_readable(path)
    try:
        container = av.open(str(p), mode="r", metadata_errors="ignore")
    except av.error.InvalidDataError:
        if _looks_like_video_container(p):
            raise CorruptVideoError(
                f"{p}: video file is truncated or damaged (its index cannot be read)",
                "re-copy or re-download it; a partly written recording may be rescued with"
                " untrunc or by re-muxing",
            ) from None
        raise InputError(
            f"{p}: not a video file", "pass a video file (mp4, mkv, mov, avi, webm…)"
        ) from None
    except (av.error.FFmpegError, OSError) as exc:
        raise CorruptVideoError(f"{p}: cannot be opened ({exc})", REMUX_HINT) from None
    if not container.streams.video or _only_cover_art(container):
        container.close()
        kind = "an audio-only file" if container.streams.audio else "not a video file"
        raise InputError(f"{p}: {kind} (no video stream)", "pass a file that contains video")
    return container


# Leading bytes of common video containers: (offset, signature).
_SIGNATURES = ((4, b"ftyp"), (0, b"\x1a\x45\xdf\xa3"), (0, b"RIFF"), (0, b"OggS"), (0, b"FLV"))


def _looks_like_video_container(path: Path) -> bool:
    """True when the file starts like an MP4/MOV, Matroska/WebM, AVI, Ogg or FLV file."""
    with path.open("rb") as handle:
        head = handle.read(16)
    return any(head[offset : offset + len(sig)] == sig for offset, sig in _SIGNATURES)


def _only_cover_art(container: av.container.InputContainer) -> bool:
    """True when the only 'video' streams are attached pictures (album art in an mp3)."""
    from av.stream import Disposition

    return all(s.disposition & Disposition.attached_pic for s in container.streams.video)
