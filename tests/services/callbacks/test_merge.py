"""The merge rules: a report never moves a recipient backwards, so any order
and duplication of the same reports ends in the same state.

The rules are pure: the tests without the database mark would fail on any
query."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import Campaign, Channel, ChannelAttempt, Recipient
from campaigns.services.callbacks.merge import (
    earliest,
    report_merge,
    status_rank,
    supersedes,
)
from campaigns.telesign.callbacks import parse_callback
from campaigns.telesign.codes import CodeKind, status_code_info

from ...callback_helpers import (
    apply_at_once,
    delivery,
    final_state,
    for_every_order_and_duplication,
    in_order_and_shuffled,
)

# Known codes of every kind, an unknown one and "no code yet".
codes = st.sampled_from([None, 3000, 3001, 3005, 3031, 3035, 3055, 3056, 3999])
times = st.none() | st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2026, 12, 31),
    timezones=st.just(UTC),
)


@pytest.mark.django_db
@for_every_order_and_duplication
def test_any_order_and_duplication_gives_the_same_final_state(sequence, data):
    expected, recipient, shuffled = in_order_and_shuffled(sequence, data)
    for payload in shuffled:
        apply_at_once(payload)
    assert final_state(recipient) == expected


@given(code=codes, at=times)
def test_a_duplicate_report_may_replace_itself(code, at):
    # Replacing with an equal report changes nothing, so it is harmless.
    assert supersedes(code, at, code, at) == (code is not None)


@given(new=codes, new_at=times, old=codes, old_at=times)
def test_of_two_reports_ranked_or_dated_apart_only_one_replaces_the_other(
    new, new_at, old, old_at
):
    apart = status_rank(new) != status_rank(old) or (
        new_at is not None and old_at is not None and new_at != old_at
    )
    if apart and new is not None and old is not None:
        assert supersedes(new, new_at, old, old_at) != supersedes(
            old, old_at, new, new_at
        )


@given(new=codes, new_at=times, old=codes, old_at=times)
def test_a_report_of_lower_rank_never_replaces_one_of_higher_rank(
    new, new_at, old, old_at
):
    if old is not None and status_rank(new) < status_rank(old):
        assert not supersedes(new, new_at, old, old_at)


def test_of_equal_rank_the_later_report_wins_and_an_undated_one_loses():
    at = datetime(2026, 11, 28, 10, tzinfo=UTC)
    later = at + timedelta(seconds=1)
    assert supersedes(3001, later, 3001, at)
    assert not supersedes(3001, at, 3001, later)
    assert not supersedes(3001, None, 3001, at)
    assert supersedes(3001, at, 3001, None)


def test_status_precedence_read_then_final_then_channel_failed_then_pending():
    by_kind = {
        kind: status_rank(code)
        for code, kind in [
            (3005, CodeKind.READ),
            (3000, CodeKind.DELIVERED),
            (3056, CodeKind.CHANNEL_FAILED),
            (3999, CodeKind.UNKNOWN),
        ]
        if status_code_info(code).kind == kind
    }
    assert len(by_kind) == 4
    assert (
        by_kind[CodeKind.READ]
        > by_kind[CodeKind.DELIVERED]
        > by_kind[CodeKind.CHANNEL_FAILED]
        > by_kind[CodeKind.UNKNOWN]
        > status_rank(None)
    )


def test_earliest_keeps_the_earlier_known_time():
    at = datetime(2026, 11, 28, 10, tzinfo=UTC)
    assert earliest(None, at) == at
    assert earliest(at, None) == at
    assert earliest(at + timedelta(seconds=5), at) == at


def test_a_report_is_merged_in_memory_into_new_attempts():
    recipient = Recipient(
        campaign=Campaign(sms_fallback_enabled=True),
        send_status=Recipient.SendStatus.UNCONFIRMED,
    )
    attempts: dict[str, ChannelAttempt] = {}
    report = parse_callback(
        delivery(
            "R" * 32,
            code=3000,
            last="sms",
            channels=[
                ("viber", 3056, "V" * 32, "2026-11-28 10:00:00.000"),
                ("sms", 3000, "S" * 32, "2026-11-28 10:00:04.000"),
                ("rcs", 3000, None, "2026-11-28 10:00:04.000"),
            ],
        )
    )
    changed = report_merge(recipient=recipient, attempts=attempts, report=report)
    assert [(a.channel, a.position, a.status_code) for a in changed] == [
        (Channel.VIBER, 0, 3056),
        (Channel.SMS, 1, 3000),
    ]
    assert set(attempts) == {Channel.VIBER, Channel.SMS}
    assert recipient.reference_id == "R" * 32
    assert recipient.send_status == Recipient.SendStatus.ACCEPTED
    assert recipient.outcome == Recipient.Outcome.SMS_DELIVERED
    assert recipient.delivered_at == datetime(2026, 11, 28, 10, 0, 4, tzinfo=UTC)


def test_an_older_report_changes_nothing_but_a_missing_reference():
    at = datetime(2026, 11, 28, 10, 0, 4, tzinfo=UTC)
    recipient = Recipient(
        campaign=Campaign(sms_fallback_enabled=True),
        reference_id="R" * 32,
        status_code=3000,
        status_updated_on=at,
        last_channel=Channel.VIBER,
        outcome=Recipient.Outcome.VIBER_DELIVERED,
        delivered_at=at,
    )
    viber = ChannelAttempt(
        pk=1, channel=Channel.VIBER, position=0, status_code=3000, updated_on=at
    )
    attempts = {Channel.VIBER: viber}
    older = parse_callback(
        delivery(
            "R" * 32,
            code=3001,
            channels=[("viber", 3001, "V" * 32, "2026-11-28 10:00:00.000")],
        )
    )
    assert report_merge(recipient=recipient, attempts=attempts, report=older) == [viber]
    assert (viber.status_code, viber.updated_on, viber.reference_id) == (
        3000,
        at,
        "V" * 32,
    )
    assert (recipient.status_code, recipient.outcome) == (
        3000,
        Recipient.Outcome.VIBER_DELIVERED,
    )
    # Seen again, the same older report changes nothing at all.
    assert report_merge(recipient=recipient, attempts=attempts, report=older) == []
