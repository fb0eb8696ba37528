"""Roles, four-eyes launch, the audit trail and login throttling, through the
admin as each kind of person uses it."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from campaigns.models import AuditEntry, Campaign, LoginThrottle, Recipient
from campaigns.services.engine import engine_tick

from .factories import (
    campaign_form_data,
    make_audience,
    make_campaign,
    make_contact,
)
from .import_helpers import import_tasks_run

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"


def person(django_user_model, username, *groups):
    user = django_user_model.objects.create_user(
        username=username, password=PASSWORD, is_staff=True
    )
    user.groups.add(*Group.objects.filter(name__in=groups))
    return user


def signed_in(client_class, user):
    client = client_class()
    client.force_login(user)
    return client


@pytest.fixture
def team(django_user_model, client):
    client_class = type(client)
    users = {
        "author": person(django_user_model, "author", "Marketer"),
        "approver": person(django_user_model, "approver", "Approver"),
        "viewer": person(django_user_model, "viewer", "Viewer"),
    }
    return {name: (user, signed_in(client_class, user)) for name, user in users.items()}


@pytest.fixture
def draft(team):
    author, _ = team["author"]
    audience = make_audience(contacts=[make_contact()])
    return make_campaign([audience], created_by=author)


def url(name, *args):
    return reverse(f"admin:campaigns_campaign_{name}", args=args)


def test_roles_are_groups_with_their_permissions():
    def codenames(name):
        return set(
            Group.objects.get(name=name).permissions.values_list("codename", flat=True)
        )

    marketer, approver, viewer = (
        codenames(n) for n in ("Marketer", "Approver", "Viewer")
    )
    assert {"add_campaign", "launch_campaign"} <= marketer
    assert "approve_campaign" not in marketer
    assert "approve_campaign" in approver
    assert not {"add_campaign", "change_campaign", "launch_campaign"} & approver
    assert viewer == {
        "view_campaign",
        "view_campaign_report",
        "view_imageasset",
        "view_recipient",
        "view_channelattempt",
    }


def test_a_viewer_reads_reports_and_changes_nothing(team, draft):
    _, viewer = team["viewer"]
    Campaign.objects.filter(pk=draft.pk).update(status=Campaign.Status.COMPLETED)
    assert viewer.get(url("report", draft.pk)).status_code == 200
    assert viewer.get(url("export", draft.pk)).status_code == 200
    assert viewer.get(url("add")).status_code == 403
    assert viewer.post(url("launch", draft.pk)).status_code == 403
    assert viewer.post(url("control", draft.pk, "approve")).status_code == 403
    edit = viewer.post(url("change", draft.pk), {"name": "Hijacked"})
    assert edit.status_code == 403
    assert Campaign.objects.get(pk=draft.pk).name == draft.name


def test_an_approver_approves_but_cannot_launch(team, draft):
    _, approver = team["approver"]
    answer = approver.post(url("control", draft.pk, "approve"), follow=True)
    assert f"“{draft}” approved." in answer.content.decode()
    draft.refresh_from_db()
    assert draft.approved_by == team["approver"][0]
    assert approver.post(url("launch", draft.pk)).status_code == 403
    assert approver.post(url("control", draft.pk, "pause")).status_code == 403


def test_nobody_approves_their_own_campaign(team, django_user_model, draft):
    author, author_client = team["author"]
    author.groups.add(Group.objects.get(name="Approver"))  # both roles
    answer = author_client.post(url("control", draft.pk, "approve"), follow=True)
    assert "someone else must approve it" in answer.content.decode()
    assert Campaign.objects.get(pk=draft.pk).approved_at is None


def test_four_eyes_launch_waits_for_approval_and_an_edit_withdraws_it(
    team, draft, settings, sandbox
):
    settings.FOUR_EYES_LAUNCH = True
    _, author = team["author"]
    _, approver = team["approver"]
    page = author.get(url("launch", draft.pk)).content.decode()
    assert "needs the approval of someone other than its author" in page
    author.post(url("launch", draft.pk))
    assert Campaign.objects.get(pk=draft.pk).status == Campaign.Status.DRAFT

    approver.post(url("control", draft.pk, "approve"))
    # The author edits the text after approval: the approval no longer holds.
    form = campaign_form_data(
        draft.image_id,
        name=draft.name,
        sms_text="A different text",
        audiences=[a.pk for a in draft.audiences.all()],
    )
    assert author.post(url("change", draft.pk), form).status_code == 302
    draft.refresh_from_db()
    assert draft.approved_at is None and draft.sms_text == "A different text"
    assert "needs the approval" in author.get(url("launch", draft.pk)).content.decode()

    approver.post(url("control", draft.pk, "approve"))
    answer = author.post(url("launch", draft.pk), follow=True)
    assert "launched" in answer.content.decode()
    assert Campaign.objects.get(pk=draft.pk).status == Campaign.Status.SENDING


def import_into(client, audience, csv: bytes, *, existing: str = "update"):
    """Upload, check, confirm and import `csv` through the import pages (the
    worker's part run here); the import's page once done."""
    answer = client.post(
        reverse("admin:campaigns_audience_import", args=[audience.pk]),
        {"file": SimpleUploadedFile("more.csv", csv, "text/csv"), "region": "GB"},
    )
    assert answer.status_code == 302, answer.content.decode()
    import_tasks_run()
    client.post(answer["Location"], {"confirm": "1", "existing": existing})
    import_tasks_run()
    return client.get(answer["Location"])


def test_contacts_imported_after_approval_withdraw_it_and_unschedule_the_campaign(
    team, draft, settings
):
    settings.FOUR_EYES_LAUNCH = True
    _, author = team["author"]
    _, approver = team["approver"]
    audience = draft.audiences.get()
    other = make_campaign(
        [make_audience(contacts=[make_contact()])], created_by=draft.created_by
    )
    for campaign in (draft, other):
        approver.post(url("control", campaign.pk, "approve"))
    Campaign.objects.filter(pk=draft.pk).update(
        scheduled_at=timezone.now() + dt.timedelta(hours=2)
    )
    author.post(url("launch", draft.pk))
    assert Campaign.objects.get(pk=draft.pk).status == Campaign.Status.SCHEDULED

    # The same contact again adds nobody: the approval stands.
    known = audience.contacts.get().phone
    import_into(author, audience, f"phone\n{known}\n".encode())
    assert Campaign.objects.get(pk=draft.pk).approved_at is not None

    done = import_into(author, audience, b"phone\n07911 123456\n07911 123457\n")
    assert "2 added" in done.content.decode()
    draft.refresh_from_db()
    assert draft.approved_at is None and draft.approved_by is None
    assert draft.status == Campaign.Status.DRAFT
    assert "approve and schedule it again" in draft.status_reason
    withdrawn = AuditEntry.objects.get(
        campaign=draft, action=AuditEntry.Action.APPROVAL_WITHDRAWN
    )
    assert withdrawn.username == "author"
    assert "2 contact(s) added to audience" in withdrawn.detail
    assert Campaign.objects.get(pk=other.pk).approved_at is not None
    # Nothing is sent at the time it was scheduled for.
    engine_tick(now=timezone.now() + dt.timedelta(hours=3))
    assert Campaign.objects.get(pk=draft.pk).status == Campaign.Status.DRAFT
    assert not Recipient.objects.filter(campaign=draft).exists()


def test_a_scheduled_campaign_that_can_no_longer_launch_is_not_started(draft, settings):
    settings.FOUR_EYES_LAUNCH = True
    # Scheduled while approved; the approval gone by its start time (as an
    # approval withdrawn by an older version of the product would leave it).
    Campaign.objects.filter(pk=draft.pk).update(
        status=Campaign.Status.SCHEDULED,
        scheduled_at=timezone.now() - dt.timedelta(minutes=1),
    )

    assert engine_tick()["started"] == 0

    draft.refresh_from_db()
    assert draft.status == Campaign.Status.DRAFT
    assert draft.status_reason.startswith("Not started at its scheduled time:")
    assert "needs the approval" in draft.status_reason
    assert not Recipient.objects.filter(campaign=draft).exists()
    entry = AuditEntry.objects.get(campaign=draft)
    assert (entry.action, entry.username) == (AuditEntry.Action.NOT_STARTED, "")


def test_the_audit_trail_records_who_did_what_from_where(team, draft, sandbox):
    author_user, author = team["author"]
    _, approver = team["approver"]
    author.post(url("add"), campaign_form_data(draft.image_id, name="Audited"))
    approver.post(url("control", draft.pk, "approve"), REMOTE_ADDR="203.0.113.9")
    author.post(url("test_send", draft.pk), {"phones": "07911 123001"})
    author.post(url("launch", draft.pk))
    for action in ("pause", "resume", "cancel"):
        author.post(url("control", draft.pk, action))
    Campaign.objects.filter(pk=draft.pk).update(status=Campaign.Status.COMPLETED)
    b"".join(author.get(url("export", draft.pk)).streaming_content)

    trail = list(
        AuditEntry.objects.filter(campaign=draft)
        .order_by("id")
        .values_list("username", "action", "remote_addr")
    )
    assert trail == [
        ("approver", "approved", "203.0.113.9"),
        ("author", "test_sent", "127.0.0.1"),
        ("author", "launched", "127.0.0.1"),
        ("author", "paused", "127.0.0.1"),
        ("author", "resumed", "127.0.0.1"),
        ("author", "cancelled", "127.0.0.1"),
        ("author", "exported", "127.0.0.1"),
    ]
    created = AuditEntry.objects.get(action="created", campaign__name="Audited")
    assert created.user == author_user


def test_the_client_address_comes_from_trusted_proxies_only(team, draft, settings):
    _, approver = team["approver"]
    forwarded = {"HTTP_X_FORWARDED_FOR": "198.51.100.7, 10.0.0.2"}
    settings.TRUSTED_PROXY_COUNT = 0  # not behind a proxy: the header is ignored
    approver.post(url("control", draft.pk, "approve"), **forwarded)
    assert AuditEntry.objects.get(action="approved").remote_addr == "127.0.0.1"
    AuditEntry.objects.all().delete()
    Campaign.objects.filter(pk=draft.pk).update(approved_at=None, approved_by=None)
    settings.TRUSTED_PROXY_COUNT = 1  # one proxy: the address it saw
    approver.post(url("control", draft.pk, "approve"), **forwarded)
    assert AuditEntry.objects.get(action="approved").remote_addr == "10.0.0.2"


def test_the_audit_trail_cannot_be_changed_even_by_a_superuser(admin_client, draft):
    entry = AuditEntry.objects.create(username="x", action="edited", campaign=draft)
    change = reverse("admin:campaigns_auditentry_change", args=[entry.pk])
    delete = reverse("admin:campaigns_auditentry_delete", args=[entry.pk])
    page = admin_client.get(change).content.decode()
    assert 'name="_save"' not in page
    assert admin_client.post(change, {"username": "y"}).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert (
        admin_client.get(reverse("admin:campaigns_auditentry_add")).status_code == 403
    )
    assert AuditEntry.objects.get(pk=entry.pk).username == "x"


# --- Login throttling --------------------------------------------------------------


def login(client, username, password, **extra):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        **extra,
    )


def test_repeated_failed_logins_lock_the_username_at_that_address_for_a_while(
    client, django_user_model, settings
):
    settings.LOGIN_FAILURES_PER_USER = 5
    person(django_user_model, "mara", "Marketer")
    for _ in range(5):
        answer = login(client, "mara", "wrong")
        assert "Please enter the correct username and password" in (
            answer.content.decode()
        )
    locked = login(client, "mara", PASSWORD)
    assert locked.status_code == 200
    assert "Too many failed sign-ins. Try again in 15 minute(s)." in (
        locked.content.decode()
    )
    assert "_auth_user_id" not in client.session
    # Once the window has passed, the right password works again.
    LoginThrottle.objects.update(
        last_attempt_at=timezone.now() - dt.timedelta(minutes=16)
    )
    assert login(client, "mara", PASSWORD).status_code == 302
    assert not LoginThrottle.objects.filter(key__startswith="mara", attempts__gt=0)


def test_one_address_guessing_many_usernames_is_slowed_too(
    client, django_user_model, settings
):
    settings.LOGIN_FAILURES_PER_ADDRESS = 4
    person(django_user_model, "mara", "Marketer")
    for index in range(4):
        login(client, f"guess{index}", "wrong", REMOTE_ADDR="192.0.2.50")
    refused = login(client, "mara", PASSWORD, REMOTE_ADDR="192.0.2.50")
    assert "Too many failed sign-ins" in refused.content.decode()
    # Another address is not affected.
    assert login(client, "mara", PASSWORD, REMOTE_ADDR="192.0.2.51").status_code == 302
