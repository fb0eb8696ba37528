"""Saving images of the library: the file is stored by the save, not the form."""

import pytest

from campaigns import services
from campaigns.images import ImageRejected
from campaigns.models import ImageAsset

from ..factories import image_bytes

pytestmark = pytest.mark.django_db


def test_saving_an_upload_stores_it_under_its_real_format():
    asset = services.image_asset_save(
        asset=ImageAsset(name="Banner"),
        data=image_bytes("PNG", (80, 40)),
        file_name="banner.jpg",
    )
    asset.refresh_from_db()
    assert (asset.format, asset.width, asset.height) == ("PNG", 80, 40)
    assert asset.file.name.endswith(".png") and asset.file.storage.exists(
        asset.file.name
    )


@pytest.mark.parametrize(
    ("address", "image_format"),
    [
        ("https://cdn.example.com/sale.PNG", "PNG"),
        ("https://cdn.example.com/sale.jpeg", "JPEG"),
    ],
)
def test_a_hosted_image_takes_its_format_from_its_address(address, image_format):
    asset = services.image_asset_save(
        asset=ImageAsset(name="Hosted", external_url=address)
    )
    assert ImageAsset.objects.get(pk=asset.pk).format == image_format
    assert not asset.file


def test_renaming_an_image_keeps_its_file():
    asset = services.image_asset_create(
        name="Old", data=image_bytes("JPEG"), file_name="old.jpg"
    )
    stored = asset.file.name
    asset.name = "New"
    services.image_asset_save(asset=asset)
    asset.refresh_from_db()
    assert (asset.name, asset.file.name, asset.format) == ("New", stored, "JPEG")


def test_a_file_that_is_no_image_is_refused_and_nothing_is_saved(media_root):
    with pytest.raises(ImageRejected):
        services.image_asset_save(
            asset=ImageAsset(name="Fake"), data=b"not an image", file_name="a.png"
        )
    assert ImageAsset.objects.count() == 0
    assert not any(path.is_file() for path in media_root.rglob("*"))
