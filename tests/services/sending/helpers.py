"""What the sending tests share: audiences of numbered contacts, a Telesign
client that retries quickly, one send run, a launched campaign."""

import threading

from django.db import close_old_connections, connection

from campaigns.models import Campaign
from campaigns.services import sending
from campaigns.telesign import client_from_settings

from ...factories import make_audience, make_campaign, make_contact


def audience_of(count: int, start: int = 0, **contact_fields):
    contacts = [
        make_contact(f"+4479111{start + i:05d}", name=f"Person {i}", **contact_fields)
        for i in range(count)
    ]
    return make_audience(contacts=contacts)


def fast_client(**options):
    return client_from_settings(backoff_base=0.01, backoff_max=0.05, **options)


def run(campaign, **options):
    options.setdefault("client", fast_client())
    return sending.campaign_send_run(campaign_id=campaign.pk, **options)


def launched(count: int, **fields) -> Campaign:
    contacts = [make_contact(f"+4479112{i:05d}") for i in range(count)]
    campaign = make_campaign([make_audience(contacts=contacts)], **fields)
    sending.campaign_launch(campaign=campaign)
    return campaign


def status_of(campaign) -> str:
    close_old_connections()
    return Campaign.objects.get(pk=campaign.pk).status


def running_in_thread(campaign, **options) -> threading.Thread:
    """A send run started in a thread of its own, as a worker runs beside
    the person pausing or cancelling; its connection closes when it ends."""

    def work():
        try:
            run(campaign, **options)
        finally:
            connection.close()  # a thread's connection would outlive the test

    worker = threading.Thread(target=work)
    worker.start()
    return worker
