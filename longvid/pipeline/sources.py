"""Where a video comes from: a path as given, or a URL fetched once into the store's media cache."""

from __future__ import annotations

from pathlib import Path

from longvid.config import setting
from longvid.media.fetch import MediaCache, Progress, is_url
from longvid.memory.fingerprint import fingerprint
from longvid.memory.library import NotIndexedError


def media_cache(root: Path) -> MediaCache:
    cap = int(float(setting("media_cache_gb")) * 1e9)
    return MediaCache(root / "media", cap, identify=lambda path: fingerprint(path))


def local_video(
    video: str, root: Path, fetch: bool = True, progress: Progress | None = None
) -> str:
    """A local path for ``video``: itself, or for a URL its download (fetched when ``fetch``)."""
    if not is_url(video):
        return video
    cache = media_cache(root)
    if fetch:
        return str(cache.local(video, progress))
    known = cache.known(video)
    if known is None:
        raise NotIndexedError(f"{video}: not indexed", f"run: longvid index {video}")
    return str(known)
