import io

import pytest
from PIL import Image

from campaigns import services
from campaigns.images import ImageRejected, image_inspect

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
        image_inspect(b"just some text pretending to be an image\n" * 10)


def test_svg_is_rejected():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    with pytest.raises(ImageRejected, match="not a JPEG or PNG"):
        image_inspect(svg)


def test_other_real_image_formats_are_rejected_by_name():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")
    with pytest.raises(ImageRejected, match="This is a GIF file"):
        image_inspect(buffer.getvalue())


def test_truncated_jpeg_is_rejected():
    data = image_bytes("JPEG", (400, 300))
    with pytest.raises(ImageRejected, match="damaged or incomplete"):
        image_inspect(data[: len(data) // 2])


def test_decompression_bomb_is_rejected_before_decoding(settings):
    # A tiny PNG that claims 20,000 × 20,000 pixels (400 megapixels).
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, format="PNG")
    data = buffer.getvalue()
    assert len(data) < 200_000
    with pytest.raises(ImageRejected, match="decompression bomb"):
        image_inspect(data)


def test_pixel_cap_is_configurable(settings):
    settings.IMAGE_MAX_PIXELS = 100
    with pytest.raises(ImageRejected, match="64×48 pixels; at most 100 pixels"):
        image_inspect(image_bytes("PNG", (64, 48)))


def test_byte_cap_is_configurable(settings):
    settings.IMAGE_MAX_BYTES = 100
    with pytest.raises(ImageRejected, match="at most 100 bytes"):
        image_inspect(image_bytes("PNG", (64, 48)))


def test_empty_file_is_rejected():
    with pytest.raises(ImageRejected, match="empty"):
        image_inspect(b"")


def test_public_route_serves_image_with_type_length_etag_and_caching(client, db):
    data = image_bytes("JPEG")
    asset = services.image_asset_create(name="Coupon", data=data, file_name="c.jpg")
    path = asset.public_url.removeprefix("https://campaigns.test")
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Length"] == str(len(data))
    assert response["ETag"] == f'"{asset.checksum}"'
    assert "public" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == data

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
