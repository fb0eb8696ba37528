"""Adding a query's contacts to an audience in one statement gives the same
members as adding them through the ORM."""

import datetime as dt

import pytest

from campaigns.db.audience_members import audience_members_insert
from campaigns.models import Audience, AudienceMember, Recipient

from ..factories import make_campaign, make_contact
from ..report_helpers import make_recipient

pytestmark = pytest.mark.django_db

ADDED_AT = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)


def _members(audience) -> set[tuple[int, dt.datetime]]:
    return set(
        AudienceMember.objects.filter(audience=audience).values_list(
            "contact_id", "added_at"
        )
    )


def test_the_statement_adds_the_same_members_as_the_orm():
    campaign = make_campaign()
    for index in range(5):
        outcome = Recipient.Outcome.FAILED if index % 2 else Recipient.Outcome.PENDING
        make_recipient(campaign, make_contact(), outcome=outcome)
    failed = Recipient.objects.filter(campaign=campaign, outcome="failed")
    by_sql = Audience.objects.create(name="By SQL")
    by_orm = Audience.objects.create(name="By ORM")

    added = audience_members_insert(
        audience_id=by_sql.pk,
        contact_ids=failed.values("contact_id"),
        added_at=ADDED_AT,
    )
    AudienceMember.objects.bulk_create(
        AudienceMember(audience=by_orm, contact_id=recipient.contact_id)
        for recipient in failed
    )
    AudienceMember.objects.filter(audience=by_orm).update(added_at=ADDED_AT)

    assert added == 2
    assert _members(by_sql) == _members(by_orm)
    assert {contact for contact, _ in _members(by_sql)} == {
        recipient.contact_id for recipient in failed
    }
