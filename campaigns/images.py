"""Checks an uploaded image by its content, the way Viber will decode it, and
re-encodes it so that what we publish is only the picture."""

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

# What Pillow may decode an upload as, and the format it is published in. A
# phone camera's MPO (a JPEG followed by depth or stereo frames) is published
# as its first frame, a plain JPEG.
PUBLISHED_FORMAT = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG"}
# Re-encoding quality: 90 looks the same as the upload to the eye. The lower
# ones are tried, in order, only when a file that fitted IMAGE_MAX_BYTES as
# uploaded (say a photo exported at quality 75) would no longer fit at 90.
JPEG_QUALITIES = (90, 85, 80, 75)
# PNG stays lossless; maximum compression is tried only when needed to fit.
PNG_OPTIONS = ({}, {"optimize": True})


class ImageRejected(ValueError):
    """The file cannot be used as a campaign image; the message says why."""


@dataclass(frozen=True)
class PreparedImage:
    """An accepted image as it will be stored and published: `data` holds the
    pixels only (no EXIF, GPS, XMP or comments, nothing after the image), turned
    upright as the camera's orientation tag said."""

    data: bytes
    format: str
    width: int
    height: int

    @property
    def bytes(self) -> int:
        return len(self.data)

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _human_bytes(count: int) -> str:
    return (
        f"{count / (1024 * 1024):.1f} MB" if count >= 1024 * 1024 else f"{count} bytes"
    )


def image_prepare(data: bytes) -> PreparedImage:
    """Decode `data` fully, check it and re-encode it, or raise ImageRejected.

    The file name and the browser's content type are ignored on purpose: only
    what Pillow decodes counts, so a PNG named .jpg is a PNG and a text file
    named .png is refused. The same `data` always gives the same result, so a
    form may check an upload and the service store it later.
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
                image_format = PUBLISHED_FORMAT.get(image.format)
                width, height = image.size
                if image_format is None:
                    raise ImageRejected(
                        f"This is a {image.format or 'non-image'} file; only JPEG "
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
                return _reencode(image, image_format, max_bytes=max_bytes)
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


def _reencode(
    image: Image.Image, image_format: str, *, max_bytes: int
) -> PreparedImage:
    """The decoded `image` upright and encoded afresh, keeping only its pixels,
    its transparency and its colour profile (without which colours shift)."""
    kept = {
        key: image.info[key]
        for key in ("icc_profile", "transparency")
        if image.info.get(key) is not None
    }
    if image_format == "JPEG":
        # Keep the upload's chroma subsampling: a banner saved without it
        # (4:4:4) has small coloured text that 4:2:0 would blur.
        kept["subsampling"] = JpegImagePlugin.get_sampling(image)
        attempts = [{"quality": quality} for quality in JPEG_QUALITIES]
    else:
        attempts = list(PNG_OPTIONS)
    upright = ImageOps.exif_transpose(image)
    # Nothing read from the upload (EXIF, XMP, comments, text chunks) is
    # written back unless named in `kept`.
    upright.info = {}
    for options in attempts:
        buffer = io.BytesIO()
        upright.save(buffer, format=image_format, **kept, **options)
        if buffer.tell() <= max_bytes:
            return PreparedImage(
                data=buffer.getvalue(),
                format=image_format,
                width=upright.width,
                height=upright.height,
            )
    raise ImageRejected(
        f"Once re-encoded without its metadata the image is more than "
        f"{_human_bytes(max_bytes)}. Resize it and upload again."
    )
