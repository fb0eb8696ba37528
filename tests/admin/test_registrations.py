"""Every registered model's pages open for both roles; read-only stays read-only."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

EDITABLE = ["imageasset", "audience", "contact", "campaign"]
READ_ONLY = ["recipient", "channelattempt", "callbackevent", "inboundmessage"]


@pytest.mark.parametrize("model", EDITABLE + READ_ONLY)
def test_changelist_and_change_pages_render(any_client, records, model):
    changelist = any_client.get(reverse(f"admin:campaigns_{model}_changelist"))
    assert changelist.status_code == 200
    change = any_client.get(
        reverse(f"admin:campaigns_{model}_change", args=[records[model].pk])
    )
    assert change.status_code == 200


@pytest.mark.parametrize("model", EDITABLE)
def test_add_pages_render(any_client, model):
    assert any_client.get(reverse(f"admin:campaigns_{model}_add")).status_code == 200


@pytest.mark.parametrize("model", READ_ONLY)
def test_delivery_records_cannot_be_added_edited_or_deleted(any_client, records, model):
    obj = records[model]
    assert any_client.get(reverse(f"admin:campaigns_{model}_add")).status_code == 403
    assert (
        any_client.post(
            reverse(f"admin:campaigns_{model}_delete", args=[obj.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    page = any_client.get(reverse(f"admin:campaigns_{model}_change", args=[obj.pk]))
    assert b'name="_save"' not in page.content
    assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize(
    "url", ["admin:auth_user_changelist", "admin:auth_group_changelist"]
)
def test_marketer_cannot_manage_users_or_groups(marketer_client, url):
    assert marketer_client.get(reverse(url)).status_code == 403
