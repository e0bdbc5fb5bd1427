"""Videos named by URL: downloaded once through yt-dlp into the store's media cache.

yt-dlp knows thousands of sites and, with its generic extractor, any direct media URL; it
resumes interrupted downloads (``.part`` files) and fetches the site's subtitles, which land
beside the video as ``NAME.LANG.vtt`` and feed the speech channel like any sidecar. Each URL is
recorded with the downloaded file and its fingerprint, so the same URL is not fetched again and
finds its memory. The cache is capped: the least recently used downloads go first.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from longvid.errors import InputError, MissingDependencyError

Progress = Callable[[float, float | None], None]
"""Called with (bytes downloaded, total bytes if known)."""

_REGISTRY = "urls.json"


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


class MediaCache:
    """Downloaded videos under ``folder``, at most ``cap_bytes`` in all (LRU).

    ``identify`` names a downloaded file's content (the store's fingerprint), recorded with it.
    """

    def __init__(self, folder: Path, cap_bytes: int, identify: Callable[[Path], str]) -> None:
        self.folder = folder
        self.cap_bytes = cap_bytes
        self.identify = identify

    def known(self, url: str) -> Path | None:
        """The file already downloaded for ``url``, if any (nothing is fetched)."""
        entry = self._registry().get(url)
        return Path(entry["path"]) if entry and Path(entry["path"]).is_file() else None

    def local(self, url: str, progress: Progress | None = None) -> Path:
        """The downloaded file for ``url`` (fetching it the first time)."""
        known = self.known(url)
        if known is not None:
            os.utime(known)  # recently used
            return known
        path = _download(url, self.folder, progress)
        registry = self._registry()
        registry[url] = {
            "path": str(path),
            "fingerprint": self.identify(path),
            "fetched": time.time(),
        }
        self._save(registry)
        self._evict(keep=path)
        return path

    def _registry(self) -> dict[str, Any]:
        try:
            return dict(json.loads((self.folder / _REGISTRY).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return {}

    def _save(self, registry: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".{_REGISTRY}.tmp"
        temporary.write_text(json.dumps(registry, indent=1), encoding="utf-8")
        os.replace(temporary, self.folder / _REGISTRY)

    def _evict(self, keep: Path) -> None:
        """Remove least recently used downloads (with their subtitles) until under the cap."""
        registry = self._registry()
        files = sorted(
            (Path(entry["path"]) for entry in registry.values() if Path(entry["path"]).is_file()),
            key=lambda p: p.stat().st_mtime,
        )
        total = sum(p.stat().st_size for p in files)
        for path in files:
            if total <= self.cap_bytes:
                break
            if path == keep:
                continue
            total -= path.stat().st_size
            for companion in path.parent.glob(f"{path.stem}.*"):
                companion.unlink(missing_ok=True)
        self._save({u: e for u, e in registry.items() if Path(e["path"]).is_file()})


def _download(url: str, folder: Path, progress: Progress | None) -> Path:
    try:
        import yt_dlp
    except ImportError:
        raise MissingDependencyError("yt-dlp", "urls") from None

    def hook(status: dict[str, Any]) -> None:
        if progress and status.get("status") == "downloading":
            progress(float(status.get("downloaded_bytes") or 0), status.get("total_bytes"))

    options = {
        "outtmpl": str(folder / "%(extractor)s-%(id)s.%(ext)s"),
        "format": "bv*[height<=1080]+ba/b[height<=1080]/bv*+ba/b",
        "continuedl": True,  # resume a .part file left by an interrupted run
        "writesubtitles": True,
        "subtitleslangs": ["en.*", "en"],
        "subtitlesformat": "vtt/srt/best",
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "progress_hooks": [hook],
        "logger": _Silent(),  # failures come back as one InputError line, not yt-dlp's own
        "retries": 3,
    }
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with yt_dlp.YoutubeDL(options) as downloader:
            info = downloader.extract_info(url, download=True)
            path = Path(downloader.prepare_filename(info))
    except yt_dlp.utils.DownloadError as exc:
        reason = " ".join(str(exc).removeprefix("ERROR: ").split()).split(" (caused by")[0][:200]
        raise InputError(f"cannot download {url}: {reason}",
                         "check the URL (a video page or a direct media link) and the network") from None  # fmt: skip
    merged = path.with_suffix(".mkv")  # when video and audio came apart and were merged
    if not path.is_file() and merged.is_file():
        path = merged
    if not path.is_file():
        raise InputError(f"cannot download {url}: no media file came back", "check the URL")
    return path


class _Silent:
    """A yt-dlp logger that says nothing (errors still raise DownloadError)."""

    def debug(self, message: str) -> None:
        pass

    warning = info = error = debug
