"""The Content-Security-Policy: sent on the admin's pages and ours, and none of
our pages relies on what it blocks (inline scripts, style attributes, event
handlers). tests/test_browser.py checks the same in Chromium."""

import re

import pytest
from django.urls import reverse

from ..factories import make_audience, make_campaign, make_contact, make_image
from ..report_helpers import finished_campaign

pytestmark = pytest.mark.django_db

INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>"  # a script without a src
    r"|<style\b"
    r"|\sstyle\s*="
    r"|\son[a-z]+\s*="  # onclick=, onsubmit=, …
    r"|javascript:",
    re.IGNORECASE,
)


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(
        directive.strip().split(" ", 1) for directive in header.split(";") if directive
    )


def assert_strict_policy(response):
    directives = policy(response)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]


def test_the_admin_login_page_sends_the_policy(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert_strict_policy(response)


def test_the_report_page_sends_the_policy(marketer_client):
    campaign, _ = finished_campaign()
    response = marketer_client.get(
        reverse("admin:campaigns_campaign_report", args=[campaign.pk])
    )
    assert response.status_code == 200
    assert_strict_policy(response)
    # Thumbnails load from where images are published and from https hosts.
    assert policy(response)["img-src"] == "'self' https://campaigns.test https:"


def test_our_pages_have_no_inline_script_style_or_event_handler(marketer_client):
    campaign, _ = finished_campaign()
    other = make_campaign([make_audience(contacts=[make_contact()])])
    image = make_image()
    pages = [
        reverse("admin:index"),
        reverse("admin:campaigns_imageasset_changelist"),
        reverse("admin:campaigns_imageasset_change", args=[image.pk]),
        reverse("admin:campaigns_imageasset_add"),
        reverse("admin:campaigns_campaign_changelist"),
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        reverse("admin:campaigns_campaign_add"),
        reverse("admin:campaigns_campaign_preview", args=[campaign.pk]),
        reverse("admin:campaigns_campaign_report", args=[campaign.pk]),
        reverse("admin:campaigns_campaign_test_send", args=[campaign.pk]),
        reverse("admin:campaigns_campaign_compare") + f"?ids={campaign.pk},{other.pk}",
    ]
    for url in pages:
        response = marketer_client.get(url)
        assert response.status_code == 200, url
        assert INLINE_CODE.findall(response.content.decode()) == [], url
