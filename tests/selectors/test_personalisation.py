"""The fields an SMS text may use are those of the chosen audiences' contacts."""

import pytest

from campaigns.models import Campaign
from campaigns.selectors import (
    audiences_fields,
    audiences_have_field,
    campaign_preview,
    campaign_sms_problems,
    sms_text_problems,
)

from ..factories import make_audience, make_campaign, make_contact

pytestmark = pytest.mark.django_db


def test_fields_are_the_built_in_ones_and_the_attributes_contacts_have():
    porto = make_audience(contacts=[make_contact(attributes={"city": "Porto"})])
    plans = make_audience(contacts=[make_contact(attributes={"plan": "gold"})])
    assert audiences_fields(audiences=[porto, plans]) == [
        "name",
        "first_name",
        "last_name",
        "phone",
        "city",
        "plan",
    ]
    assert audiences_have_field(audiences=[porto], field="city")
    assert not audiences_have_field(audiences=[porto], field="plan")
    assert audiences_have_field(audiences=[], field="first_name")


def test_a_text_is_checked_against_the_audiences_it_is_for():
    porto = make_audience(contacts=[make_contact(attributes={"city": "Porto"})])
    assert sms_text_problems(text="See you in {city}", audiences=[porto]) == []
    [problem] = sms_text_problems(text="See you in {city}", audiences=[])
    assert "{city}" in problem and "Fields they have: name, first_name" in problem


def test_a_campaign_without_sms_has_no_sms_problems():
    campaign = make_campaign([], sms_text="Hi {nickname}")
    assert campaign_sms_problems(campaign=campaign)
    campaign.sms_fallback_enabled = False
    assert campaign_sms_problems(campaign=campaign) == []


def test_the_preview_shows_a_refused_text_as_written_and_flags_an_empty_sms():
    ana = make_contact(name="Ana", attributes={"city": ""})
    campaign = make_campaign([make_audience(contacts=[ana])], sms_text="Hi {nick}")
    refused = campaign_preview(campaign=campaign)
    assert refused.sms_text == "Hi {nick}" and refused.sms_problems
    assert not refused.sms_blank

    Campaign.objects.filter(pk=campaign.pk).update(sms_text="{city}")
    campaign.refresh_from_db()
    empty = campaign_preview(campaign=campaign)
    assert (empty.sms_text, empty.sms_problems, empty.sms_blank) == ("", [], True)
