"""The audit trail as the admin lists it."""

import pytest
from django.urls import reverse

from campaigns.models import AuditEntry

from ..factories import make_campaign

pytestmark = pytest.mark.django_db


def test_the_trail_names_the_system_and_links_each_campaign(marketer_client):
    campaign = make_campaign(name="Spring sale")
    AuditEntry.objects.create(
        action=AuditEntry.Action.LAUNCHED,
        campaign=campaign,
        campaign_name="Spring sale",
    )
    AuditEntry.objects.create(
        username="mara", action=AuditEntry.Action.EDITED, campaign_name="Deleted one"
    )
    response = marketer_client.get(reverse("admin:campaigns_auditentry_changelist"))
    page = response.content.decode()
    assert response.status_code == 200
    assert ">system<" in page and ">mara<" in page
    change_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    assert f'<a href="{change_url}">Spring sale</a>' in page
    assert "Deleted one" in page  # the name outlives the campaign


def test_the_trail_is_read_only_for_a_marketer_too(marketer_client):
    entry = AuditEntry.objects.create(username="x", action=AuditEntry.Action.EDITED)
    add = reverse("admin:campaigns_auditentry_add")
    delete = reverse("admin:campaigns_auditentry_delete", args=[entry.pk])
    assert marketer_client.get(add).status_code == 403
    assert marketer_client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
