"""Static sites the CloudFront distribution serves, from the template's `Ninefold::Sites` metadata.

Each entry maps a URL path to a file or folder under the project root; the
longest matching path wins. Paths are rewritten as the distribution's
viewer-request function does: under a `spa` prefix a path whose last segment
has no dot is the SPA's index.html, a path ending in "/" gets index.html, and
anything else must be an existing file (no directory guessing, as in S3).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METADATA_KEY = "Ninefold::Sites"

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json",
    ".map": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}


@dataclass(frozen=True)
class SiteEntry:
    path: str
    source: Path
    spa: bool = False
    stack: str = ""
    logical_id: str = ""

    @property
    def is_file(self) -> bool:
        return self.source.is_file()

    def summary(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "source": str(self.source),
            "spa": self.spa,
            "exists": self.source.exists(),
            "stack": self.stack,
            "logical_id": self.logical_id,
        }


def content_type(path: Path) -> str:
    return _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class Sites:
    def __init__(self, entries: list[SiteEntry]) -> None:
        self.entries = sorted(entries, key=lambda e: len(e.path), reverse=True)

    @classmethod
    def from_metadata(cls, found: list[tuple[str, str, Any]], project_root: Path) -> Sites:
        """`found`: (stack, logical id, metadata value) for every resource carrying the key."""
        entries: list[SiteEntry] = []
        for stack, logical_id, value in found:
            for item in value if isinstance(value, list) else []:
                if not isinstance(item, dict) or "path" not in item or "source" not in item:
                    continue
                entries.append(
                    SiteEntry(
                        path=str(item["path"]),
                        source=(project_root / str(item["source"])).resolve(),
                        spa=bool(item.get("spa", False)),
                        stack=stack,
                        logical_id=logical_id,
                    )
                )
        return cls(entries)

    def exact_file(self, path: str) -> Path | None:
        """A file entry whose path is exactly this request path (wins over API routes)."""
        for entry in self.entries:
            if entry.path == path and entry.is_file:
                return entry.source
        return None

    def resolve(self, path: str) -> Path | None:
        for entry in self.entries:
            if entry.is_file:
                if entry.path == path:
                    return entry.source
                continue
            prefix = entry.path if entry.path.endswith("/") else entry.path + "/"
            if not path.startswith(prefix):
                continue
            relative = path[len(prefix) :]
            if entry.spa and "." not in relative.rsplit("/", 1)[-1]:
                return _index(entry.source)
            if relative == "" or relative.endswith("/"):
                relative += "index.html"
            return _within(entry.source, relative)
        return None


def _index(folder: Path) -> Path | None:
    index = folder / "index.html"
    return index if index.is_file() else None


def _within(folder: Path, relative: str) -> Path | None:
    candidate = (folder / relative).resolve()
    if folder != candidate and folder not in candidate.parents:
        return None  # ../ escapes the site folder
    return candidate if candidate.is_file() else None
