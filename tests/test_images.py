import hashlib
import io

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from campaigns import services
from campaigns.images import ImageRejected, image_prepare

from .factories import image_bytes


def test_png_named_jpg_is_accepted_as_png(db):
    asset = services.image_asset_create(
        name="Banner", data=image_bytes("PNG", (80, 40)), file_name="banner.jpg"
    )
    assert (asset.format, asset.width, asset.height) == ("PNG", 80, 40)
    assert asset.file.name.endswith(".png")
    assert asset.public_url.endswith(".png")
    assert len(asset.checksum) == 64


def test_text_file_named_png_is_rejected():
    with pytest.raises(ImageRejected, match="not a JPEG or PNG"):
        image_prepare(b"just some text pretending to be an image\n" * 10)


def test_svg_is_rejected():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    with pytest.raises(ImageRejected, match="not a JPEG or PNG"):
        image_prepare(svg)


def test_other_real_image_formats_are_rejected_by_name():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")
    with pytest.raises(ImageRejected, match="This is a GIF file"):
        image_prepare(buffer.getvalue())


def test_truncated_jpeg_is_rejected():
    data = image_bytes("JPEG", (400, 300))
    with pytest.raises(ImageRejected, match="damaged or incomplete"):
        image_prepare(data[: len(data) // 2])


def test_decompression_bomb_is_rejected_before_decoding(settings):
    # A tiny PNG that claims 20,000 × 20,000 pixels (400 megapixels).
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, format="PNG")
    data = buffer.getvalue()
    assert len(data) < 200_000
    with pytest.raises(ImageRejected, match="decompression bomb"):
        image_prepare(data)


def test_pixel_cap_is_configurable(settings):
    settings.IMAGE_MAX_PIXELS = 100
    with pytest.raises(ImageRejected, match="64×48 pixels; at most 100 pixels"):
        image_prepare(image_bytes("PNG", (64, 48)))


def test_byte_cap_is_configurable(settings):
    settings.IMAGE_MAX_BYTES = 100
    with pytest.raises(ImageRejected, match="at most 100 bytes"):
        image_prepare(image_bytes("PNG", (64, 48)))


def test_empty_file_is_rejected():
    with pytest.raises(ImageRejected, match="empty"):
        image_prepare(b"")


def test_public_route_serves_image_with_type_length_etag_and_caching(client, db):
    data = image_bytes("JPEG")
    asset = services.image_asset_create(name="Coupon", data=data, file_name="c.jpg")
    path = asset.public_url.removeprefix("https://campaigns.test")
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    stored = asset.file.read()
    assert response["Content-Length"] == str(len(stored))
    assert response["ETag"] == f'"{asset.checksum}"'
    assert "public" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == stored

    cached = client.get(path, headers={"if-none-match": f'"{asset.checksum}"'})
    assert cached.status_code == 304


def test_public_route_hides_everything_but_known_images(client, db):
    asset = services.image_asset_create(
        name="Coupon", data=image_bytes("JPEG"), file_name="c.jpg"
    )
    assert client.get(f"/images/{asset.public_id}.png").status_code == 404
    assert (
        client.get("/images/00000000-0000-0000-0000-000000000000.jpg").status_code
        == 404
    )
    assert client.post(f"/images/{asset.public_id}.jpg").status_code == 405


# --- What is stored is only the picture ----------------------------------------

RED, BLUE = (220, 20, 20), (20, 20, 220)
# The tags a phone writes: where the photo was taken, and how to turn it.
GPS_IFD, ORIENTATION, XMP_MARKER = 0x8825, 0x0112, b"http://ns.adobe.com/xap/1.0/"
ROTATE_90_CLOCKWISE = 6


def two_colour_photo(size=(60, 30)) -> Image.Image:
    """Left half red, right half blue, so a rotation shows in the pixels."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image


def phone_exif(orientation: int = ROTATE_90_CLOCKWISE) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD).update(
        {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    )
    return exif


def stored_bytes(asset) -> bytes:
    with asset.file.open("rb") as handle:
        return handle.read()


def close_to(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_a_phone_photo_is_stored_upright_without_location_or_other_metadata(db):
    buffer = io.BytesIO()
    two_colour_photo().save(
        buffer,
        format="JPEG",
        quality=95,
        exif=phone_exif(),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret</x:xmpmeta>',
        comment=b"taken at 12 Acacia Avenue",
    )
    upload = buffer.getvalue()
    assert Image.open(io.BytesIO(upload)).getexif().get_ifd(GPS_IFD)

    asset = services.image_asset_create(name="Photo", data=upload, file_name="p.jpg")

    data = stored_bytes(asset)
    for trace in (b"Exif\x00\x00", XMP_MARKER, b"Acacia", b"PhoneMaker"):
        assert trace not in data
    stored = Image.open(io.BytesIO(data))
    assert stored.format == "JPEG"
    assert not stored.getexif()
    assert "comment" not in stored.info and "xmp" not in stored.info
    # Orientation 6: the camera's left edge is the picture's top.
    assert stored.size == (30, 60) == (asset.width, asset.height)
    assert close_to(stored.getpixel((15, 10)), RED)
    assert close_to(stored.getpixel((15, 50)), BLUE)
    assert (asset.bytes, asset.checksum) == (
        len(data),
        hashlib.sha256(data).hexdigest(),
    )


def test_a_phone_cameras_mpo_is_accepted_as_its_first_frame(db):
    buffer = io.BytesIO()
    first, depth_map = two_colour_photo((80, 40)), Image.new("RGB", (20, 10), BLUE)
    first.save(buffer, format="MPO", save_all=True, append_images=[depth_map])
    upload = buffer.getvalue()
    assert Image.open(io.BytesIO(upload)).format == "MPO"

    asset = services.image_asset_create(name="Phone", data=upload, file_name="p.jpg")

    stored = Image.open(io.BytesIO(stored_bytes(asset)))
    assert (asset.format, stored.format) == ("JPEG", "JPEG")
    assert getattr(stored, "n_frames", 1) == 1
    assert stored.size == (80, 40)
    assert asset.file.name.endswith(".jpg")
    assert close_to(stored.getpixel((10, 20)), RED)


@pytest.mark.parametrize(
    "appended",
    [
        b"<html><script>alert(document.cookie)</script></html>",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00payload.exe",
    ],
    ids=["html", "zip"],
)
@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_data_appended_to_an_image_is_neither_stored_nor_served(
    client, db, image_format, appended
):
    upload = image_bytes(image_format, (40, 30)) + appended
    asset = services.image_asset_create(name="Sale", data=upload, file_name="s")

    data = stored_bytes(asset)
    assert appended[:4] not in data
    end_of_image = b"\xff\xd9" if image_format == "JPEG" else b"IEND\xaeB`\x82"
    assert data.endswith(end_of_image)
    served = client.get(asset.public_url.removeprefix("https://campaigns.test"))
    assert b"".join(served.streaming_content) == data


def test_a_png_stays_lossless_and_keeps_transparency_but_not_its_text(db):
    original = Image.new("RGBA", (32, 16), (0, 0, 0, 0))
    for x in range(32):
        original.putpixel((x, x % 16), (x * 8, 255 - x * 8, 7, 128 + x))
    text = PngInfo()
    text.add_text("Comment", "drawn at 51.5N 0.1W")
    exif = phone_exif(orientation=1)
    buffer = io.BytesIO()
    original.save(buffer, format="PNG", pnginfo=text, exif=exif)

    asset = services.image_asset_create(
        name="Logo", data=buffer.getvalue(), file_name="logo.png"
    )

    data = stored_bytes(asset)
    assert b"tEXt" not in data and b"eXIf" not in data and b"51.5N" not in data
    stored = Image.open(io.BytesIO(data))
    assert (stored.format, stored.mode) == ("PNG", "RGBA")
    assert stored.tobytes() == original.tobytes()


def test_a_jpeg_is_reencoded_at_high_quality():
    # A smooth gradient, where JPEG losses show first.
    gradient = Image.linear_gradient("L").resize((256, 256)).convert("RGB")
    buffer = io.BytesIO()
    gradient.save(buffer, format="JPEG", quality=100, subsampling=0)

    prepared = image_prepare(buffer.getvalue())

    stored = Image.open(io.BytesIO(prepared.data)).convert("L")
    difference = [
        abs(a - b)
        for a, b in zip(stored.tobytes(), gradient.convert("L").tobytes(), strict=True)
    ]
    assert max(difference) <= 6
    assert sum(difference) / len(difference) < 1.5


def test_a_jpeg_that_would_outgrow_the_limit_once_reencoded_is_stored_smaller(
    settings,
):
    noise = Image.effect_noise((300, 300), 80).convert("RGB")
    upload = io.BytesIO()
    noise.save(upload, format="JPEG", quality=75)
    at_90, at_75 = io.BytesIO(), io.BytesIO()
    noise_decoded = Image.open(io.BytesIO(upload.getvalue()))
    noise_decoded.save(at_90, format="JPEG", quality=90)
    noise_decoded.save(at_75, format="JPEG", quality=75)
    settings.IMAGE_MAX_BYTES = max(len(upload.getvalue()), at_75.tell())
    assert at_90.tell() > settings.IMAGE_MAX_BYTES

    prepared = image_prepare(upload.getvalue())

    assert prepared.format == "JPEG"
    assert prepared.bytes <= settings.IMAGE_MAX_BYTES
