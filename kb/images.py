"""The images imported texts show: copied into the database at import, served from there.

The bytes live in the database (``StoredImage``, keyed by their SHA-256) rather than under
``var/``: every node behind the proxy serves them without a shared disk, an import's images
commit or roll back with its revisions, and a file replaced on disk after the import (by a
symbolic link to a key, say) changes nothing served.
"""

import hashlib
import os
from pathlib import Path

from django.conf import settings

from kb.models import Revision, StoredImage
from kb.rendering import IMAGE_TYPES


class ImageError(Exception):
    """An image the import cannot take: the file and the reason in words."""

    def __init__(self, path: Path, message: str):
        super().__init__(message)
        self.path, self.message = path, message


def store_all(found: dict) -> dict:
    """{name in the URL: file} as the renderer found them → {name: sha256}, each stored."""
    return {name: store(Path(path)) for name, path in found.items()}


def store(path: Path) -> str:
    data = read_image(path)
    digest = hashlib.sha256(data).hexdigest()
    StoredImage.objects.get_or_create(
        sha256=digest, defaults={"content_type": IMAGE_TYPES[path.suffix.lower()], "data": data, "size": len(data)}
    )
    return digest


def read_image(path: Path) -> bytes:
    """The file's bytes, refusing one that is now a symbolic link (the renderer resolved it:
    one found there since was put there after the check) or that is too large."""
    limit = settings.KB_IMAGE_MAX_BYTES
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise ImageError(path, f"cannot read image: {exc.strerror}") from exc
    with os.fdopen(descriptor, "rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ImageError(path, f"image larger than {megabytes(limit)} (KB_IMAGE_MAX_BYTES): refused")
    return data


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def drop_unused():
    """Delete the stored images no revision shows any more (after a purge)."""
    used = {digest for images in Revision.objects.values_list("images", flat=True) for digest in images.values()}
    unused = [digest for digest in StoredImage.objects.values_list("sha256", flat=True) if digest not in used]
    for start in range(0, len(unused), 500):  # SQLite bounds the parameters of one query
        StoredImage.objects.filter(sha256__in=unused[start : start + 500]).delete()
