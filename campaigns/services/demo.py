"""A demo workspace for a first run: an image, an audience covering every
sandbox outcome, and a draft campaign with SMS fallback. Idempotent."""

import io

from django.db import transaction
from PIL import Image, ImageDraw

from ..models import Audience, Campaign, Contact, ImageAsset
from .workspace import image_asset_create

DEMO_IMAGE_NAME = "Demo: spring sale banner"
DEMO_AUDIENCE_NAME = "Demo: sandbox outcomes"
DEMO_CAMPAIGN_NAME = "Demo: spring sale"
# The sandbox decides each outcome by the last digit; two numbers per digit.
DEMO_PHONES = [f"+4479111230{i:02d}" for i in range(20)]
DEMO_NAMES = ["Ana Lima", "Ben Okafor", "Chen Wei", "Dara Byrne", "Eva Novak"]


def _banner_png() -> bytes:
    image = Image.new("RGB", (800, 600), (115, 96, 242))
    draw = ImageDraw.Draw(image)
    draw.rectangle([40, 40, 760, 560], outline=(255, 255, 255), width=8)
    draw.text((90, 250), "SPRING SALE  -  2 FOR 1", fill=(255, 255, 255))
    draw.text((90, 300), "Viber campaigns demo", fill=(230, 230, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@transaction.atomic
def demo_workspace_ensure() -> Campaign:
    image = ImageAsset.objects.filter(name=DEMO_IMAGE_NAME).first()
    if image is None:
        image = image_asset_create(
            name=DEMO_IMAGE_NAME, data=_banner_png(), file_name="spring-sale.png"
        )
    audience, _ = Audience.objects.get_or_create(
        name=DEMO_AUDIENCE_NAME,
        defaults={"description": "Sandbox numbers: one outcome per last digit."},
    )
    for index, phone in enumerate(DEMO_PHONES):
        name = DEMO_NAMES[index % len(DEMO_NAMES)]
        contact, _ = Contact.objects.get_or_create(
            phone=phone,
            defaults={"name": name, "attributes": {"first_name": name.split()[0]}},
        )
        audience.contacts.add(contact)
    campaign = Campaign.objects.filter(name=DEMO_CAMPAIGN_NAME).first()
    if campaign is None:
        campaign = Campaign.objects.create(
            name=DEMO_CAMPAIGN_NAME,
            image=image,
            fallback_time=600,
            sms_fallback_enabled=True,
            sms_text="Hi {first_name}! Spring sale: 2 for 1 on everything today.",
            max_send_rate=20,
        )
        campaign.audiences.add(audience)
    return campaign
