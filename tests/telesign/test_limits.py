"""Telesign's fallback-time limits hold in the client, the model and the
database alike, from one definition."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from campaigns.models import Campaign
from campaigns.telesign import OmnichannelMessage, PayloadRefused, encode_payload
from campaigns.telesign.limits import FALLBACK_TIME_MAX, FALLBACK_TIME_MIN

from ..factories import make_campaign
from .examples import SEED_MESSAGE

OUTSIDE = [FALLBACK_TIME_MIN - 1, FALLBACK_TIME_MAX + 1]
INSIDE = [FALLBACK_TIME_MIN, FALLBACK_TIME_MAX]


def message(fallback_time: int) -> OmnichannelMessage:
    return OmnichannelMessage(
        **{**SEED_MESSAGE.__dict__, "fallback_time": fallback_time}
    )


def test_the_limits_are_telesigns():
    assert (FALLBACK_TIME_MIN, FALLBACK_TIME_MAX) == (30, 3600)


@pytest.mark.parametrize("seconds", INSIDE)
def test_the_client_sends_fallback_times_at_the_limits(seconds):
    assert encode_payload(message(seconds))


@pytest.mark.parametrize("seconds", OUTSIDE)
def test_the_client_refuses_fallback_times_outside_the_limits(seconds):
    with pytest.raises(PayloadRefused, match="30–3600 s") as refused:
        encode_payload(message(seconds))
    assert refused.value.code == 3113


def test_the_model_field_validates_and_explains_the_limits():
    field = Campaign._meta.get_field("fallback_time")
    for seconds in INSIDE:
        field.run_validators(seconds)
    for seconds in OUTSIDE:
        with pytest.raises(ValidationError):
            field.run_validators(seconds)
    assert field.help_text.endswith("(30–3600 seconds).")


@pytest.mark.django_db
@pytest.mark.parametrize("seconds", OUTSIDE)
def test_the_database_refuses_fallback_times_outside_the_limits(seconds):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_campaign(fallback_time=seconds)


@pytest.mark.django_db
@pytest.mark.parametrize("seconds", INSIDE)
def test_the_database_keeps_fallback_times_at_the_limits(seconds):
    assert make_campaign(fallback_time=seconds).fallback_time == seconds
