"""Test sends: the campaign sent now to a few numbers, outside its results."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from ...models import AuditEntry, Campaign, Contact, Recipient
from ...phones import PhoneNumberError, phone_normalize
from ...selectors import campaign_preview_contact
from ...telesign import SendResult, TelesignClient, client_from_settings
from ..errors import DomainError
from ..governance import Actor, audit_record
from .claims import ClaimedRecipient
from .launch import campaign_content_problems
from .messages import campaign_message
from .results import orphans_for_references_apply, send_results_record

# The most numbers one test send goes to (the admin's form says so too).
MAX_TEST_NUMBERS = 5


@dataclass(frozen=True)
class TestSendResult:
    phone: str
    result: SendResult


def campaign_test_send(
    *,
    campaign: Campaign,
    phones: list[str],
    client: TelesignClient | None = None,
    actor: Actor | None = None,
) -> list[TestSendResult]:
    """Send the campaign now to a few numbers, recorded as test sends.

    Test sends never count in the campaign's results. Personalisation uses the
    contact with that number, else the preview's sample contact.
    """
    if campaign.status in (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED):
        raise DomainError("A finished campaign cannot be test-sent.")
    problems = campaign_content_problems(campaign=campaign)
    if problems:
        raise DomainError(" ".join(problems))
    cleaned = _test_numbers_clean(phones)
    client = client or client_from_settings()
    sample = campaign_preview_contact(campaign=campaign)
    outcomes = []
    for phone in cleaned:
        contact = Contact.objects.filter(phone=phone).first()
        recipient = Recipient.objects.create(
            campaign=campaign,
            contact=contact,
            phone=phone,
            is_test=True,
            external_id=f"t{campaign.pk}-{uuid.uuid4().hex[:20]}",
            send_status=Recipient.SendStatus.IN_FLIGHT,
            claimed_by="test-send",
            claimed_at=timezone.now(),
        )
        claimed = ClaimedRecipient(
            recipient.id, phone, recipient.external_id, contact or sample
        )
        message = campaign_message(
            campaign=campaign,
            recipient=claimed,
            send_callback_url=settings.TELESIGN_SEND_CALLBACK_URL,
        )
        result = client.send(message)
        orphans_for_references_apply(
            references=send_results_record(
                results=[(recipient.id, result)], worker_id="test-send", attempts={}
            )
        )
        outcomes.append(TestSendResult(phone, result))
    audit_record(
        actor=actor,
        action=AuditEntry.Action.TEST_SENT,
        campaign=campaign,
        detail=", ".join(f"{o.phone}: {o.result.status}" for o in outcomes),
    )
    return outcomes


def _test_numbers_clean(phones: list[str]) -> list[str]:
    """The numbers in E.164, each once; DomainError if any is not a phone
    number, or there are none or too many."""
    cleaned = []
    for raw in phones:
        try:
            cleaned.append(
                phone_normalize(raw, default_region=settings.DEFAULT_PHONE_REGION)
            )
        except PhoneNumberError as exc:
            raise DomainError(str(exc)) from exc
    cleaned = list(dict.fromkeys(cleaned))
    if not cleaned:
        raise DomainError("Give at least one phone number.")
    if len(cleaned) > MAX_TEST_NUMBERS:
        raise DomainError(f"Test sends go to at most {MAX_TEST_NUMBERS} numbers.")
    return cleaned
