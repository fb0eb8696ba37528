import pytest
from django.db import IntegrityError, transaction

from campaigns.models import Campaign, ChannelAttempt, Contact, ImageAsset, Recipient

from .factories import make_campaign, make_contact, make_image

pytestmark = pytest.mark.django_db


def make_recipient(campaign, contact, external_id, **fields):
    return Recipient.objects.create(
        campaign=campaign,
        contact=contact,
        phone=contact.phone,
        external_id=external_id,
        **fields,
    )


def test_duplicate_contact_phone_is_refused_by_the_database():
    make_contact("+447911123456")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(phone="+447911123456")


def test_non_e164_phone_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(phone="07911 123456")


def test_one_recipient_per_campaign_and_contact():
    campaign, contact = make_campaign(), make_contact()
    make_recipient(campaign, contact, "ext-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_recipient(campaign, contact, "ext-2")


def test_external_id_is_unique_across_campaigns():
    contact = make_contact()
    make_recipient(make_campaign(), contact, "ext-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_recipient(make_campaign(), contact, "ext-1")


def test_reference_id_is_unique_when_set_and_may_be_missing_many_times():
    campaign = make_campaign()
    make_recipient(campaign, make_contact(), "a")
    make_recipient(campaign, make_contact(), "b")  # two without reference: fine
    make_recipient(campaign, make_contact(), "c", reference_id="35C8B5D5")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_recipient(campaign, make_contact(), "d", reference_id="35C8B5D5")


def test_one_attempt_per_recipient_and_channel():
    recipient = make_recipient(make_campaign(), make_contact(), "x")
    ChannelAttempt.objects.create(recipient=recipient, channel="viber", position=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        ChannelAttempt.objects.create(recipient=recipient, channel="viber", position=0)


@pytest.mark.parametrize("seconds", [29, 3601])
def test_fallback_time_outside_telesign_limits_is_refused(seconds):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_campaign(fallback_time=seconds)


def test_fallback_on_without_sms_text_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_campaign(sms_fallback_enabled=True, sms_text="")
    assert make_campaign(sms_fallback_enabled=False, sms_text="").pk


def test_suppressed_recipient_needs_a_reason_and_only_then():
    campaign = make_campaign()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_recipient(campaign, make_contact(), "s1", outcome="suppressed")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_recipient(campaign, make_contact(), "s2", suppression_reason="opted_out")
    assert make_recipient(
        campaign,
        make_contact(),
        "s3",
        outcome="suppressed",
        suppression_reason="opted_out",
    ).pk


def test_image_asset_is_either_uploaded_or_external():
    with pytest.raises(IntegrityError), transaction.atomic():
        ImageAsset.objects.create(name="nothing")
    external = ImageAsset.objects.create(
        name="hosted", external_url="https://cdn.example.com/a.jpg"
    )
    assert external.public_url == "https://cdn.example.com/a.jpg"


def test_uploaded_image_url_is_absolute_on_the_public_base_url():
    asset = make_image(format="PNG")
    assert asset.public_url == f"https://campaigns.test/images/{asset.public_id}.png"


def test_campaign_content_is_locked_once_sending_started():
    campaign = make_campaign()
    assert not campaign.is_content_locked
    campaign.status = Campaign.Status.SENDING
    assert campaign.is_content_locked
