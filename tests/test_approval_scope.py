"""An approval covers what will be sent: any later change to who a campaign
messages, or to their fields its text uses, withdraws it, through every door
contacts change by. The approver sees the test sends."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import AuditEntry, Campaign, Contact

from .callback_helpers import post_callback, viber_reply
from .factories import make_audience, make_campaign, make_contact
from .test_governance import import_into, person, signed_in, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_user_model, client, settings):
    """Ana is in two audiences; four campaigns approved, one scheduled:

    - `city`: VIPs (Ana, Ben), its text uses {first_name} and {city}, scheduled
    - `plain`: VIPs, a text without fields
    - `locals`: Locals (Ana only), uses {city}
    - `others`: Others (neither), uses {city}
    """
    settings.FOUR_EYES_LAUNCH = True
    author = person(django_user_model, "author", "Marketer")
    approver = person(django_user_model, "approver", "Approver")
    ana = make_contact(
        "+447911200001", name="Ana Lima", attributes={"city": "Porto", "plan": "gold"}
    )
    ben = make_contact("+447911200002", name="Ben Ode", attributes={"city": "Faro"})
    vips = make_audience("VIPs", [ana, ben])
    locals_ = make_audience("Locals", [ana])
    others = make_audience("Others", [make_contact(attributes={"city": "Braga"})])
    campaigns = {
        "city": make_campaign(
            [vips],
            sms_text="Hi {first_name}, see you in {city}",
            scheduled_at=timezone.now() + dt.timedelta(hours=2),
            created_by=author,
        ),
        "plain": make_campaign([vips], sms_text="Sale today!", created_by=author),
        "locals": make_campaign([locals_], sms_text="{city} deals", created_by=author),
        "others": make_campaign([others], sms_text="{city} deals", created_by=author),
    }
    approving = signed_in(type(client), approver)
    for campaign in campaigns.values():
        approving.post(url("control", campaign.pk, "approve"))
    marketer = signed_in(type(client), author)
    marketer.post(url("launch", campaigns["city"].pk))
    assert status("city", campaigns) == Campaign.Status.SCHEDULED
    return {
        "campaigns": campaigns,
        "author": marketer,
        "approver": approving,
        "ana": ana,
        "ben": ben,
        "vips": vips,
        "others": others,
    }


def status(name, campaigns):
    return Campaign.objects.get(pk=campaigns[name].pk).status


def approved(world) -> set[str]:
    """The names of the campaigns still approved."""
    return {
        name
        for name, campaign in world["campaigns"].items()
        if Campaign.objects.get(pk=campaign.pk).approved_at is not None
    }


def withdrawal(world, name) -> AuditEntry:
    return AuditEntry.objects.get(
        campaign=world["campaigns"][name], action=AuditEntry.Action.APPROVAL_WITHDRAWN
    )


def test_reimporting_known_numbers_with_new_values_withdraws_what_uses_them(world):
    campaigns = world["campaigns"]
    # The same numbers and values again change nothing.
    import_into(
        world["author"],
        world["vips"],
        b"phone,name,city\n+447911200001,Ana Lima,Porto\n",
    )
    assert approved(world) == {"city", "plain", "locals", "others"}

    import_into(world["author"], world["vips"], b"phone,city\n+447911200001,Lisbon\n")

    # Ana's city reaches the campaigns of both her audiences that use it.
    assert approved(world) == {"plain", "others"}
    assert status("city", campaigns) == Campaign.Status.DRAFT
    entry = withdrawal(world, "locals")
    assert entry.username == "author"
    assert entry.detail == (
        "1 contact(s) of its audiences were given new values by an import into "
        "“VIPs” after approval (fields its text uses: city)."
    )
    assert "Back to draft" in withdrawal(world, "city").detail


def test_reimporting_known_numbers_while_keeping_them_withdraws_nothing(world):
    import_into(
        world["author"],
        world["vips"],
        b"phone,city\n+447911200001,Lisbon\n",
        existing="keep",
    )
    assert approved(world) == {"city", "plain", "locals", "others"}
    assert world["ana"].attributes == Contact.objects.get(pk=world["ana"].pk).attributes


def edit_contact(world, contact, **changes):
    fields = {
        "phone": contact.phone,
        "name": contact.name,
        "attributes": json.dumps(contact.attributes),
        **changes,
    }
    answer = world["author"].post(
        reverse("admin:campaigns_contact_change", args=[contact.pk]), fields
    )
    assert answer.status_code == 302, answer.content.decode()


def test_editing_a_contact_withdraws_the_approvals_its_change_matters_to(world):
    ana = world["ana"]
    edit_contact(world, ana, attributes=json.dumps({"city": "Porto", "plan": "free"}))
    assert approved(world) == {"city", "plain", "locals", "others"}  # plan: unused

    edit_contact(world, ana, name="Anabela Lima")
    assert approved(world) == {"plain", "locals", "others"}  # {first_name}
    assert "(fields its text uses: first_name)" in withdrawal(world, "city").detail

    edit_contact(world, ana, phone="+447911200009")  # someone else gets it now
    assert approved(world) == {"others"}
    assert withdrawal(world, "plain").detail == (
        "1 contact(s) of its audiences were edited after approval."
    )
    assert Contact.objects.get(pk=ana.pk).phone == "+447911200009"


def contacts_action(world, action, *contacts):
    world["author"].post(
        reverse("admin:campaigns_contact_changelist"),
        {"action": action, "_selected_action": [c.pk for c in contacts]},
    )


def test_opting_contacts_out_or_back_in_in_the_admin_withdraws_approvals(world):
    contacts_action(world, "opt_out", world["ben"])
    assert approved(world) == {"locals", "others"}  # Ben is only in VIPs
    assert withdrawal(world, "plain").detail == (
        "1 contact(s) of its audiences were opted out after approval."
    )

    world["approver"].post(url("control", world["campaigns"]["plain"].pk, "approve"))
    contacts_action(world, "opt_in", world["ben"])
    assert approved(world) == {"locals", "others"}
    assert AuditEntry.objects.filter(
        campaign=world["campaigns"]["plain"],
        action=AuditEntry.Action.APPROVAL_WITHDRAWN,
        detail__contains="opted back in",
    ).exists()


def test_a_reply_opting_out_or_back_in_keeps_approvals(world, client):
    # The person's own wish: honoured at once, and nobody gets a text the
    # approver did not see, so the scheduled campaign still starts.
    post_callback(client, viber_reply(world["ben"].phone, "STOP"))
    assert Contact.objects.get(pk=world["ben"].pk).is_opted_out
    post_callback(client, viber_reply(world["ana"].phone, "STOP"))
    post_callback(client, viber_reply(world["ana"].phone, "START"))
    assert not Contact.objects.get(pk=world["ana"].pk).is_opted_out
    assert approved(world) == {"city", "plain", "locals", "others"}
    assert status("city", world["campaigns"]) == Campaign.Status.SCHEDULED


def test_deleting_contacts_or_an_audience_withdraws_approvals(world):
    answer = world["author"].post(
        reverse("admin:campaigns_contact_delete", args=[world["ben"].pk]),
        {"post": "yes"},
    )
    assert answer.status_code == 302
    assert approved(world) == {"locals", "others"}
    answer = world["author"].post(
        reverse("admin:campaigns_audience_delete", args=[world["others"].pk]),
        {"post": "yes"},
    )
    assert answer.status_code == 302
    assert approved(world) == {"locals"}
    assert withdrawal(world, "others").detail == (
        "Audience “Others” deleted after approval."
    )


def test_the_approver_sees_every_test_send_on_the_campaign_page(world, sandbox):
    campaign = world["campaigns"]["plain"]
    Campaign.objects.filter(pk=campaign.pk).update(approved_at=None)
    world["author"].post(
        url("test_send", campaign.pk), {"phones": "07911 123001, 07911 123002"}
    )
    page = world["approver"].get(url("change", campaign.pk)).content.decode()
    assert page.count("<td>author</td>") == 2
    assert "<td>+447911123001</td>" in page and "<td>+447911123002</td>" in page
    assert page.count("<td>Sale today!</td>") == 2
    assert "Accepted by Telesign" in page
