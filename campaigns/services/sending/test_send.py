"""Test sends: the campaign sent now to a few numbers, outside its results.

Each one is kept (`TestSend`: who, when, which number, what text) for the
approver to see, and they are capped per campaign and per person per day: a
test send reaches a real phone, and an unapproved campaign must not become a
way to message people.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ...models import AuditEntry, Campaign, Contact, Recipient, TestSend
from ...phones import PhoneNumberError, phone_normalize
from ...selectors import campaign_preview_contact
from ...sms import is_blank
from ...telesign import SendResult, TelesignClient, client_from_settings
from ..errors import DomainError
from ..governance import Actor, audit_record
from .claims import ClaimedRecipient
from .launch import campaign_content_problems
from .messages import campaign_message, campaign_sms_text
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
    contact with that number, else the preview's sample contact. Refused
    (DomainError, nothing sent) when the content cannot be sent, an SMS would
    be empty, or the caps TEST_SENDS_PER_CAMPAIGN or
    TEST_SENDS_PER_USER_PER_DAY would be passed.
    """
    if campaign.status in (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED):
        raise DomainError("A finished campaign cannot be test-sent.")
    problems = campaign_content_problems(campaign=campaign)
    if problems:
        raise DomainError(" ".join(problems))
    cleaned = _test_numbers_clean(phones)
    contacts = {phone: _contact_for(phone) for phone in cleaned}
    sample = campaign_preview_contact(campaign=campaign)
    # Whose fields fill the text: the number's contact, else the sample.
    fields_of = {phone: contact or sample for phone, contact in contacts.items()}
    texts = {
        phone: campaign_sms_text(campaign=campaign, contact=contact)
        for phone, contact in fields_of.items()
    }
    empty = [
        phone for phone, text in texts.items() if text is not None and is_blank(text)
    ]
    if empty:
        raise DomainError(
            f"The SMS would be empty for {', '.join(empty)}: the fields it uses "
            "are blank. Give them a fallback, e.g. {first_name|there}."
        )
    tests = _test_sends_reserve(
        campaign=campaign, actor=actor, contacts=contacts, texts=texts
    )
    client = client or client_from_settings()
    outcomes = []
    for test in tests:
        recipient = test.recipient
        claimed = ClaimedRecipient(
            recipient.id, test.phone, recipient.external_id, fields_of[test.phone]
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
        outcomes.append(TestSendResult(test.phone, result))
    audit_record(
        actor=actor,
        action=AuditEntry.Action.TEST_SENT,
        campaign=campaign,
        detail=", ".join(f"{o.phone}: {o.result.status}" for o in outcomes),
    )
    return outcomes


def _contact_for(phone: str) -> Contact | None:
    return Contact.objects.filter(phone=phone).first()


def _test_sends_reserve(
    *,
    campaign: Campaign,
    actor: Actor | None,
    contacts: dict[str, Contact | None],
    texts: dict[str, str | None],
) -> list[TestSend]:
    """Check the caps and record the test sends (their recipients in flight)
    in one transaction holding the campaign and the person, so parallel test
    sends cannot pass a cap together. A reserved test send counts even if its
    request then fails: it may have reached the phone."""
    user = actor.user if actor else None
    wanted = len(contacts)
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        used = TestSend.objects.filter(campaign=campaign).count()
        limit = settings.TEST_SENDS_PER_CAMPAIGN
        if used + wanted > limit:
            raise DomainError(
                f"“{campaign}” has had {used} test send(s) and may have at most "
                f"{limit} (the workspace's limit)"
                + (f"; {limit - used} more can be sent." if used < limit else ".")
            )
        if user is not None:
            get_user_model().objects.select_for_update().filter(pk=user.pk).first()
            since = timezone.now() - timedelta(days=1)
            used = TestSend.objects.filter(user=user, at__gte=since).count()
            limit = settings.TEST_SENDS_PER_USER_PER_DAY
            if used + wanted > limit:
                raise DomainError(
                    f"You have sent {used} test message(s) in the last 24 hours and "
                    f"may send at most {limit} a day (the workspace's limit per person)"
                    + (f"; {limit - used} more can be sent." if used < limit else ".")
                )
        tests = []
        for phone, contact in contacts.items():
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
            tests.append(
                TestSend.objects.create(
                    campaign=campaign,
                    recipient=recipient,
                    user=user,
                    username=actor.username if actor else "",
                    phone=phone,
                    sms_text=texts[phone] or "",
                    image=None if campaign.sms_only else campaign.image,
                )
            )
    return tests


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
