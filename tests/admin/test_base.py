"""The custom pages' shared helper: permission first, then the object."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from campaigns.models import Campaign

from ..factories import make_audience, make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_client(client, django_user_model):
    """Staff who may view campaigns and audiences, and nothing else."""
    user = django_user_model.objects.create_user(
        username="viewer", password="x", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_campaign", "view_audience"])
    )
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("launch", [999_999]),
        ("test_send", [999_999]),
        ("control", [999_999, "pause"]),
        ("report", [999_999]),
        ("export", [999_999]),
    ],
)
def test_without_the_permission_a_page_refuses_before_looking_anything_up(
    viewer_client, name, args
):
    url = reverse(f"admin:campaigns_campaign_{name}", args=args)
    assert viewer_client.get(url).status_code == 403


def test_with_the_permission_a_missing_object_is_not_found(marketer_client):
    for url in (
        reverse("admin:campaigns_campaign_launch", args=[999_999]),
        reverse("admin:campaigns_campaign_report", args=[999_999]),
        reverse("admin:campaigns_audience_import", args=[999_999]),
        reverse("admin:campaigns_audience_import_check", args=[999_999]),
    ):
        assert marketer_client.get(url).status_code == 404


def test_custom_pages_carry_the_admins_own_context(marketer_client):
    campaign = make_campaign([make_audience()])
    response = marketer_client.get(
        reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    )
    assert response.context["title"] == f"Preview of “{campaign}”"
    assert response.context["opts"] is Campaign._meta
    assert response.context["site_header"]  # from admin_site.each_context
    assert response.context["available_apps"]


def test_custom_pages_need_a_staff_login(client):
    campaign = make_campaign()
    url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
