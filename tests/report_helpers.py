"""A finished campaign with one recipient per report case, shared by the
report's selector, database and admin tests; the expected figures are worked
out by hand in tests/selectors/test_reports.py."""

import datetime as dt

from campaigns.models import Campaign, ChannelAttempt, Recipient

from .factories import make_audience, make_campaign, make_contact

O = Recipient.Outcome  # noqa: E741
S = Recipient.SendStatus
# Aligned to 10 s so the deliveries-over-time buckets are known in advance.
T0 = dt.datetime(2026, 5, 4, 10, 0, 0, tzinfo=dt.UTC)


def at(seconds):
    return T0 + dt.timedelta(seconds=seconds)


def make_recipient(campaign, contact, **fields):
    return Recipient.objects.create(
        campaign=campaign,
        contact=contact,
        phone=contact.phone,
        external_id=f"c{campaign.pk}-{contact.pk:010d}",
        **fields,
    )


def make_attempt(recipient, channel, code, seconds):
    return ChannelAttempt.objects.create(
        recipient=recipient,
        channel=channel,
        position=0 if channel == "viber" else 1,
        reference_id=f"{recipient.pk}-{channel}",
        status_code=code,
        status_description={3000: "Delivered", 3005: "Message is read"}.get(code, ""),
        updated_on=T0 + dt.timedelta(seconds=seconds),
    )


def finished_campaign() -> tuple[Campaign, dict[str, Recipient]]:
    """Ten recipients, one per case, named in the dict returned beside the
    campaign, and a test send that is never counted."""
    contacts = [make_contact(name=f"Person {i}") for i in range(10)]
    audience = make_audience(contacts=contacts)
    campaign = make_campaign(
        audiences=[audience],
        status=Campaign.Status.COMPLETED,
        started_at=T0,
        audience_duplicates=2,
        sms_text="Hi {name}!",
    )
    sent = {"send_status": S.ACCEPTED, "sent_at": T0, "send_attempts": 1}
    rows = {}
    rows["read"] = make_recipient(
        campaign, contacts[0], outcome=O.VIBER_DELIVERED, delivered_at=at(10),
        read_at=at(60), last_channel="viber", status_code=3005, **sent,
    )  # fmt: skip
    make_attempt(rows["read"], "viber", 3005, 60)
    rows["viber"] = make_recipient(
        campaign, contacts[1], outcome=O.VIBER_DELIVERED, delivered_at=at(20),
        last_channel="viber", status_code=3000, **sent,
    )  # fmt: skip
    make_attempt(rows["viber"], "viber", 3000, 20)
    rows["sms_3055"] = make_recipient(
        campaign, contacts[2], outcome=O.SMS_DELIVERED, delivered_at=at(100),
        last_channel="sms", status_code=3000, **sent,
    )  # fmt: skip
    make_attempt(rows["sms_3055"], "viber", 3055, 5)
    make_attempt(rows["sms_3055"], "sms", 3000, 100)
    rows["sms_3056"] = make_recipient(
        campaign, contacts[3], outcome=O.SMS_DELIVERED, delivered_at=at(200),
        last_channel="sms", status_code=3000, **sent,
    )  # fmt: skip
    make_attempt(rows["sms_3056"], "viber", 3056, 150)
    make_attempt(rows["sms_3056"], "sms", 3000, 200)
    rows["failed_sms"] = make_recipient(
        campaign, contacts[4], outcome=O.FAILED, last_channel="sms",
        status_code=3031, failure_reason="SMS: 3031 Permanent phone error", **sent,
    )  # fmt: skip
    make_attempt(rows["failed_sms"], "viber", 3055, 5)
    make_attempt(rows["failed_sms"], "sms", 3031, 90)
    rows["rejected"] = make_recipient(
        campaign, contacts[5], outcome=O.FAILED, send_status=S.REJECTED,
        sent_at=T0, status_code=3101, failure_reason="3101 Invalid phone_number",
    )  # fmt: skip
    rows["pending"] = make_recipient(
        campaign, contacts[6], outcome=O.PENDING, last_channel="viber",
        status_code=3001, **sent,
    )  # fmt: skip
    make_attempt(rows["pending"], "viber", 3001, 1)
    rows["unconfirmed"] = make_recipient(
        campaign, contacts[7], outcome=O.PENDING, send_status=S.UNCONFIRMED,
        sent_at=T0,
    )  # fmt: skip
    contacts[8].opted_out_at = T0
    contacts[8].save()
    rows["suppressed"] = make_recipient(
        campaign, contacts[8], outcome=O.SUPPRESSED, suppression_reason="opted_out",
        send_status=S.SKIPPED,
    )  # fmt: skip
    rows["queued"] = make_recipient(campaign, contacts[9])
    # A test send is recorded but never counted.
    Recipient.objects.create(
        campaign=campaign, phone="+15550000000", is_test=True,
        external_id="test-1", outcome=O.VIBER_DELIVERED, send_status=S.ACCEPTED,
        sent_at=T0, delivered_at=at(3),
    )  # fmt: skip
    return campaign, rows
