"""Checks an uploaded image by its content, the way Viber will decode it."""

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG", "PNG"}


class ImageRejected(ValueError):
    """The file cannot be used as a campaign image; the message says why."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    bytes: int
    checksum: str


def _human_bytes(count: int) -> str:
    return (
        f"{count / (1024 * 1024):.1f} MB" if count >= 1024 * 1024 else f"{count} bytes"
    )


def image_inspect(data: bytes) -> ImageInfo:
    """Decode `data` fully and describe it, or raise ImageRejected.

    The file name and the browser's content type are ignored on purpose: only
    what Pillow decodes counts, so a PNG named .jpg is a PNG and a text file
    named .png is refused.
    """
    max_bytes = settings.IMAGE_MAX_BYTES
    max_pixels = settings.IMAGE_MAX_PIXELS
    if not data:
        raise ImageRejected("The file is empty.")
    if len(data) > max_bytes:
        raise ImageRejected(
            f"The file is {_human_bytes(len(data))}; images may be at most "
            f"{_human_bytes(max_bytes)}."
        )

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format = image.format
                width, height = image.size
                if image_format not in ACCEPTED_FORMATS:
                    raise ImageRejected(
                        f"This is a {image_format or 'non-image'} file; only JPEG "
                        "and PNG images can be sent on Viber."
                    )
                if width * height > max_pixels:
                    raise ImageRejected(
                        f"The image is {width}×{height} pixels; at most "
                        f"{max_pixels:,} pixels are accepted. Resize it and upload "
                        "again."
                    )
                # Decoding every pixel is what finds truncated or corrupt files.
                image.load()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(
            "The image is far too large once decoded (it looks like a "
            "decompression bomb) and was refused."
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(
            "This file is not a JPEG or PNG image (SVG, PDF and other formats "
            "cannot be sent on Viber)."
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(
            "The image is damaged or incomplete (for example a half-finished "
            "download) and cannot be shown. Export it again and upload the new file."
        ) from exc
    return ImageInfo(
        format=image_format,
        width=width,
        height=height,
        bytes=len(data),
        checksum=hashlib.sha256(data).hexdigest(),
    )
