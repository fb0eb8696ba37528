"""The launch's INSERT … SELECT writes the rows the ORM would write."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.db.materialise import recipients_insert_from_audiences
from campaigns.models import Campaign, Contact, Recipient

from ..factories import make_audience, make_campaign, make_contact

pytestmark = pytest.mark.django_db
RS = Recipient.SendStatus
DELIVERED = (Recipient.Outcome.VIBER_DELIVERED, Recipient.Outcome.SMS_DELIVERED)
EVERYONE = (0, 10**12)


def orm_materialise(campaign: Campaign, now: dt.datetime) -> None:
    """The expectation, built with the ORM: one recipient per distinct contact
    of the audiences, minus those a follow-up's original delivered to."""
    contacts = Contact.objects.filter(audiences__campaigns=campaign).distinct()
    if campaign.follow_up_of_id:
        delivered = Recipient.objects.filter(
            campaign_id=campaign.follow_up_of_id, is_test=False, outcome__in=DELIVERED
        ).values("contact_id")
        contacts = contacts.exclude(pk__in=delivered)
    recipients = []
    for contact in contacts.order_by("pk"):
        opted_out = contact.opted_out_at is not None
        recipients.append(
            Recipient(
                campaign=campaign,
                contact=contact,
                phone=contact.phone,
                external_id=f"c{campaign.pk}-{contact.pk:010d}",
                outcome=(
                    Recipient.Outcome.SUPPRESSED
                    if opted_out
                    else Recipient.Outcome.PENDING
                ),
                suppression_reason=(
                    Recipient.SuppressionReason.OPTED_OUT if opted_out else ""
                ),
                send_status=RS.SKIPPED if opted_out else RS.QUEUED,
            )
        )
    Recipient.objects.bulk_create(recipients)


def rows_of(campaign: Campaign) -> list[dict]:
    """Every column but the id and the creation time, by contact."""
    return [
        {k: v for k, v in row.items() if k not in ("id", "created_at")}
        for row in Recipient.objects.filter(campaign=campaign)
        .order_by("contact_id")
        .values()
    ]


def sql_then_orm(campaign: Campaign) -> tuple[list[dict], list[dict]]:
    now = timezone.now()
    recipients_insert_from_audiences(
        campaign=campaign, now=now, low=EVERYONE[0], high=EVERYONE[1]
    )
    by_sql = rows_of(campaign)
    created = Recipient.objects.filter(campaign=campaign).values_list(
        "created_at", flat=True
    )
    assert set(created) == {now}
    Recipient.objects.filter(campaign=campaign).delete()
    orm_materialise(campaign, now)
    return by_sql, rows_of(campaign)


def test_materialising_gives_the_orm_rows_with_suppressions_and_duplicates():
    shared = make_contact()
    opted_out = make_contact(opted_out_at=timezone.now())
    first = make_audience(contacts=[shared, opted_out, make_contact()])
    second = make_audience(contacts=[shared, make_contact()])
    make_audience(contacts=[make_contact()])  # not the campaign's
    campaign = make_campaign([first, second])

    by_sql, by_orm = sql_then_orm(campaign)

    assert len(by_sql) == 4
    assert by_sql == by_orm


def test_a_follow_up_leaves_out_whoever_the_original_delivered_to():
    contacts = [make_contact() for _ in range(4)]
    audience = make_audience(contacts=contacts)
    original = make_campaign([audience])
    recipients_insert_from_audiences(
        campaign=original, now=timezone.now(), low=EVERYONE[0], high=EVERYONE[1]
    )
    for contact, outcome in zip(
        contacts, [*DELIVERED, Recipient.Outcome.FAILED], strict=False
    ):
        Recipient.objects.filter(campaign=original, contact=contact).update(
            outcome=outcome
        )
    follow_up = make_campaign([audience], follow_up_of=original)

    by_sql, by_orm = sql_then_orm(follow_up)

    assert [row["contact_id"] for row in by_sql] == [c.pk for c in contacts[2:]]
    assert by_sql == by_orm


def test_only_the_contact_range_is_written_and_existing_rows_are_kept():
    contacts = [make_contact() for _ in range(5)]
    campaign = make_campaign([make_audience(contacts=contacts)])
    now = timezone.now()
    recipients_insert_from_audiences(
        campaign=campaign, now=now, low=contacts[1].pk, high=contacts[2].pk
    )
    assert list(
        Recipient.objects.filter(campaign=campaign)
        .order_by("contact_id")
        .values_list("contact_id", flat=True)
    ) == [contacts[1].pk, contacts[2].pk]
    Recipient.objects.filter(campaign=campaign).update(send_status=RS.ACCEPTED)

    recipients_insert_from_audiences(
        campaign=campaign, now=now, low=EVERYONE[0], high=EVERYONE[1]
    )

    rows = Recipient.objects.filter(campaign=campaign)
    assert rows.count() == 5
    assert rows.filter(send_status=RS.ACCEPTED).count() == 2
