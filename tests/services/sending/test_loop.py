"""The send loop against a real database and the sandbox over HTTP."""

import pytest

from campaigns.models import Campaign, Recipient
from campaigns.services import sending

from ...factories import make_campaign
from ...sandbox_helpers import ledger
from .helpers import audience_of, run

pytestmark = pytest.mark.django_db
RS = Recipient.SendStatus


def test_end_to_end_every_recipient_gets_a_reference_exactly_once(sandbox):
    campaign = make_campaign([audience_of(300)], max_send_rate=1000)
    sending.campaign_launch(campaign=campaign)

    summary = run(campaign)

    assert summary.accepted == 300
    recipients = Recipient.objects.filter(campaign=campaign)
    assert recipients.filter(send_status=RS.ACCEPTED).count() == 300
    references = set(recipients.values_list("reference_id", flat=True))
    assert len(references) == 300
    assert all(len(r) == 32 and int(r, 16) >= 0 for r in references)
    seen = ledger(sandbox)["accepted_by_external_id"]
    assert set(seen) == set(recipients.values_list("external_id", flat=True))
    assert set(seen.values()) == {1}
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.COMPLETED
