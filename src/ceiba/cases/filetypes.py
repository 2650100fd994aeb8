"""Recognize an uploaded file's type from its first bytes; names and browsers' labels lie.

Only the types service definitions may accept are recognized; programs and scripts are
recognized too, to refuse them with a clear message whatever their name says.
"""

from __future__ import annotations

from pathlib import PurePath

HEAD_BYTES = 2048

_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
]
_EXECUTABLES: list[tuple[bytes, str]] = [
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
    (b"\xfe\xed\xfa\xcf", "application/x-mach-binary"),
    (b"#!", "text/x-shellscript"),
]
EXTENSIONS: dict[str, str] = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
}


def sniff(head: bytes) -> str | None:
    """The media type the content is, or None when it is none that Ceiba knows."""
    for signature, media_type in _EXECUTABLES:
        if head.startswith(signature):
            return media_type
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def is_executable(media_type: str | None) -> bool:
    return media_type in {media for _, media in _EXECUTABLES}


def extension_type(name: str) -> str | None:
    """The media type a file name claims, when its extension is one Ceiba knows."""
    return EXTENSIONS.get(PurePath(name).suffix.lower())
