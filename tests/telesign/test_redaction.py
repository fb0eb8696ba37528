"""Our Telesign credentials never leave the client in Telesign's words.

A Telesign answering errors that echo the request's headers and the key (a
local HTTP server standing in for it, so the real client, signing and
session are used): nothing the client returns, and so nothing stored on a
recipient, shown after a test send, written to the audit trail or given as a
paused campaign's reason, contains the key, the Basic token or a signature.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from campaigns.models import AuditEntry, Campaign, Recipient
from campaigns.services import sending
from campaigns.telesign import SendStatus, client_from_settings
from campaigns.telesign.redaction import REDACTED, basic_token

from ..factories import make_audience, make_campaign, make_contact
from .examples import SEED_MESSAGE

pytestmark = pytest.mark.django_db

CUSTOMER_ID = "7A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9"
API_KEY = "c2VjcmV0LWtleS1vZi10aGUtdGVzdHMtb25seS0wMTIzNDU2Nzg5YWJjZGVm"
TOKEN = basic_token(CUSTOMER_ID, API_KEY)


class EchoingTelesign(BaseHTTPRequestHandler):
    """Answers every request with `answer` (HTTP status, JSON status code or
    None for a plain-text body), its text echoing the request's headers."""

    answer: tuple[int, int | None] = (400, 3101)
    plain_text: str | None = None  # answered as it is, if set

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        http_status, code = self.answer
        echoed = f"{self.headers}api_key={API_KEY} key {API_KEY}"
        if self.plain_text is not None:
            body = self.plain_text.encode()
        elif code is None:
            body = f"Bad request. We received:\n{echoed}".encode()
        else:
            description = f"Invalid request. Headers: {echoed}"
            body = json.dumps(
                {"status": {"code": code, "description": description}}
            ).encode()
        self.send_response(http_status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def telesign(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingTelesign)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.TELESIGN_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TELESIGN_CUSTOMER_ID = CUSTOMER_ID
    settings.TELESIGN_API_KEY = API_KEY
    settings.PUBLIC_BASE_URL = "https://campaigns.example"
    yield EchoingTelesign
    EchoingTelesign.answer, EchoingTelesign.plain_text = (400, 3101), None
    server.shutdown()
    server.server_close()


def assert_no_credential(text: str) -> None:
    assert API_KEY not in text
    assert TOKEN not in text
    assert TOKEN[:12] not in text  # not even a piece cut off at a length limit
    assert "TSA " not in text or f"TSA {CUSTOMER_ID}:{REDACTED}" in text


@pytest.mark.parametrize("auth_method", ["basic", "digest"])
@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ((400, 3101), SendStatus.REJECTED),
        ((400, None), SendStatus.REJECTED),
        ((401, 3400), SendStatus.AUTH_FAILED),
        ((401, None), SendStatus.AUTH_FAILED),
        ((503, 3500), SendStatus.RETRY_LATER),
        ((200, None), SendStatus.UNCONFIRMED),
    ],
)
def test_client_returns_no_credential_whatever_telesign_echoes(
    telesign, settings, auth_method, answer, status
):
    settings.TELESIGN_AUTH_METHOD = auth_method
    telesign.answer = answer
    result = client_from_settings(max_attempts=1).send(SEED_MESSAGE)
    assert result.status == status
    assert_no_credential(result.description)
    if answer == (400, 3101):  # the rest of what Telesign said is kept
        assert result.description.startswith("Invalid request. Headers: ")
        assert REDACTED in result.description


def test_a_token_cut_by_a_length_limit_leaves_no_piece_behind(telesign):
    # A bare token (no header name before it) across the 200th character,
    # where plain-text answers used to be cut before anything was redacted.
    telesign.answer = (400, None)
    telesign.plain_text = "x" * 180 + TOKEN + " " + "y" * 2000
    result = client_from_settings(max_attempts=1).send(SEED_MESSAGE)
    assert result.status == SendStatus.REJECTED
    assert result.description.startswith("HTTP 400: xxx")
    assert_no_credential(result.description)


def launched_campaign(count: int = 3) -> Campaign:
    contacts = [make_contact(f"+4479116{i:05d}") for i in range(count)]
    campaign = make_campaign([make_audience(contacts=contacts)], max_send_rate=100)
    sending.campaign_launch(campaign=campaign)
    return campaign


def test_recipients_and_the_auto_pause_reason_keep_no_credential(telesign, settings):
    settings.AUTO_PAUSE_MIN_SENDS = 3
    campaign = launched_campaign(6)
    sending.campaign_send_run(campaign_id=campaign.pk, concurrency=2)

    rejected = Recipient.objects.filter(campaign=campaign, send_status="rejected")
    assert rejected.exists()
    for recipient in rejected:
        assert recipient.status_code == 3101
        assert_no_credential(recipient.status_description)
        assert_no_credential(recipient.failure_reason)
        assert REDACTED in recipient.failure_reason
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert "Auto-paused" in campaign.status_reason
    assert_no_credential(campaign.status_reason)
    for entry in AuditEntry.objects.filter(campaign=campaign):
        assert_no_credential(entry.detail)


@pytest.mark.parametrize("auth_method", ["basic", "digest"])
def test_the_credentials_pause_reason_and_its_audit_entry_keep_no_credential(
    telesign, settings, auth_method
):
    settings.TELESIGN_AUTH_METHOD = auth_method
    telesign.answer = (401, 3400)
    campaign = launched_campaign()
    sending.campaign_send_run(campaign_id=campaign.pk, concurrency=1)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert "refused the credentials" in campaign.status_reason
    assert_no_credential(campaign.status_reason)
    paused = AuditEntry.objects.get(campaign=campaign, action=AuditEntry.Action.PAUSED)
    assert "refused the credentials" in paused.detail
    assert_no_credential(paused.detail)


def test_the_test_send_message_and_record_keep_no_credential(telesign, admin_client):
    audience = make_audience(contacts=[make_contact("+447911123001")])
    campaign = make_campaign([audience])
    response = admin_client.post(
        reverse("admin:campaigns_campaign_test_send", args=[campaign.pk]),
        {"phones": "+44 7911 123456"},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(shown) == 1 and "Test send to +447911123456: rejected" in shown[0]
    assert REDACTED in shown[0]
    assert_no_credential(shown[0])
    test_send = Recipient.objects.get(campaign=campaign, is_test=True)
    assert_no_credential(test_send.status_description)
    assert_no_credential(test_send.failure_reason)
    for entry in AuditEntry.objects.filter(campaign=campaign):
        assert_no_credential(entry.detail)
