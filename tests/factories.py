"""Small builders for test data; each returns saved rows with sensible defaults."""

import io
import itertools

from PIL import Image

from campaigns import services
from campaigns.models import Audience, Campaign, Contact, ImageAsset

_counter = itertools.count(1)


def image_bytes(format: str = "PNG", size=(64, 48), color=(115, 96, 242)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=format)
    return buffer.getvalue()


def make_image(name: str = "Spring sale", format: str = "JPEG") -> ImageAsset:
    return services.image_asset_create(
        name=name, data=image_bytes(format), file_name=f"{name}.{format.lower()}"
    )


def make_contact(phone: str | None = None, **fields) -> Contact:
    if phone is None:
        phone = f"+4479111{next(_counter):05d}"
    return Contact.objects.create(phone=phone, **fields)


def make_audience(name: str | None = None, contacts=()) -> Audience:
    audience = Audience.objects.create(name=name or f"Audience {next(_counter)}")
    audience.contacts.add(*contacts)
    return audience


def make_campaign(audiences=(), **fields) -> Campaign:
    defaults = {
        "name": f"Campaign {next(_counter)}",
        "sms_text": "Hi {first_name}, 2 for 1 today only!",
    }
    defaults.update(fields)
    if "image" not in defaults:
        defaults["image"] = make_image()
    campaign = Campaign.objects.create(**defaults)
    campaign.audiences.add(*audiences)
    return campaign


def campaign_form_data(image_id: int, **changes) -> dict:
    """What the campaign editor posts, with a valid default for each field."""
    return {
        "name": "New campaign",
        "image": image_id,
        "viber_template": "image",
        "fallback_time": 600,
        "sms_fallback_enabled": "on",
        "sms_text": "Hi",
        "message_type": "MKT",
        "max_send_rate": 20,
        **changes,
    }
