"""Report page, campaign list and CSV export on a large campaign (PostgreSQL).

python -m benchmarks.report_speed --recipients 1000000 --other 700000

Seeds one finished campaign of `--recipients` and another of `--other`
(together about 2,000,000 channel attempts), computes the stored report
once, then renders each page `--rounds` times through Django's test client as
a logged-in marketer, beside a bare baseline measured in the same run (the
admin index page, which runs the same middleware, session and templates).
The export is streamed to the end and compared with reading the same
columns through a bare psycopg cursor.
"""

import argparse
import os
import statistics
import time

from .common import machine, prepare_database


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed_get(client, url, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def describe(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"{name}: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--other", type=int, default=700_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the data of the last run again"
    )
    return parser.parse_args()


def _seeded_campaign(args: argparse.Namespace):
    """The measured campaign (seeded, or the last run's with --reuse) and the
    seconds seeding took."""
    from campaigns.models import Campaign

    from .report_data import seed_campaign

    started = time.perf_counter()
    campaign = Campaign.objects.filter(name="big").first()
    if campaign is None:
        campaign = seed_campaign(
            name="big", recipients=args.recipients, phone_prefix="+4479"
        )
        if args.other:
            seed_campaign(name="other", recipients=args.other, phone_prefix="+4478")
    seeded = time.perf_counter() - started
    return campaign, seeded


def _marketer_client():
    """The test client, logged in as a marketer."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    user, _ = User.objects.get_or_create(username="bench", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketer"))
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def _pages(campaign) -> dict[str, str]:
    """The pages measured, by name: the baseline first."""
    from django.urls import reverse

    from campaigns.admin.report_tiles import attempts_url, recipients_url

    report_url = reverse("admin:campaigns_campaign_report", args=[campaign.pk])
    list_url = reverse("admin:campaigns_campaign_changelist")
    baseline_url = reverse("admin:index")
    # What a report tile and a status code link to: the campaign's recipients
    # (all, then only the failed), and its SMS attempts with one code.
    drill_all_url = recipients_url(campaign.pk)
    drill_failed_url = recipients_url(campaign.pk, outcome__exact="failed")
    drill_code_url = attempts_url(
        campaign.pk, channel__exact="sms", status_code__exact="3000"
    )
    return {
        "bare admin index (baseline)": baseline_url,
        "report page": report_url,
        "campaign list": list_url,
        "recipients of the campaign (tile: audience)": drill_all_url,
        "failed recipients (tile: failed)": drill_failed_url,
        "SMS attempts with code 3000 (codes table)": drill_code_url,
    }


def _timed_pages(client, pages: dict[str, str], rounds: int) -> dict[str, list[float]]:
    for url in pages.values():
        assert client.get(url).status_code == 200  # warm caches and templates
    # Alternate so noise lands on every page alike.
    times: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(rounds):
        for name, url in pages.items():
            times[name] += timed_get(client, url, 1)
    return times


def _timed_export(client, campaign) -> tuple[int, float, float, float]:
    """The CSV export streamed to the end: rows, seconds, RSS before and at
    its peak (MB)."""
    from django.urls import reverse

    export_url = reverse("admin:campaigns_campaign_export", args=[campaign.pk])
    rss_before = rss_mb()
    rss_peak = rss_before
    started = time.perf_counter()
    response = client.get(export_url)
    rows = -1  # the header line
    for chunk in response.streaming_content:
        rows += chunk.count(b"\n")
        rss_peak = max(rss_peak, rss_mb())
    export_seconds = time.perf_counter() - started
    return rows, export_seconds, rss_before, rss_peak


def _timed_bare_export(campaign) -> tuple[int, float]:
    """The export's columns read through a bare psycopg cursor: rows, seconds."""
    from django.db import connection

    started = time.perf_counter()
    bare_rows = 0
    with connection.connection.cursor(name="bare_export", withhold=True) as cursor:
        cursor.itersize = 5000
        cursor.execute(
            "SELECT r.phone, c.name, r.outcome, r.last_channel, r.send_status,"
            " r.suppression_reason, r.failure_reason, r.status_code,"
            " r.status_description, v.status_code, v.status_description,"
            " v.updated_on, s.status_code, s.status_description, s.updated_on,"
            " r.sent_at, r.delivered_at, r.read_at, r.opted_out_at, r.external_id,"
            " r.reference_id FROM campaigns_recipient r"
            " LEFT JOIN campaigns_contact c ON c.id = r.contact_id"
            " LEFT JOIN campaigns_channelattempt v ON v.recipient_id = r.id"
            " AND v.channel = 'viber'"
            " LEFT JOIN campaigns_channelattempt s ON s.recipient_id = r.id"
            " AND s.channel = 'sms'"
            " WHERE r.campaign_id = %s AND NOT r.is_test ORDER BY r.id",
            [campaign.pk],
        )
        for _row in cursor:
            bare_rows += 1
    bare_seconds = time.perf_counter() - started
    connection.connection.rollback()
    return bare_rows, bare_seconds


def _print_pages(times: dict[str, list[float]]) -> None:
    baseline = times["bare admin index (baseline)"]
    report, listing = times["report page"], times["campaign list"]
    for name, measured in times.items():
        target = (
            " (target < 300 ms)" if name in ("report page", "campaign list") else ""
        )
        print(
            describe(name, measured)
            + target
            + f", {statistics.median(measured) / statistics.median(baseline):.2f}"
            " × baseline"
        )
    print(
        f"ratios to baseline (median): report "
        f"{statistics.median(report) / statistics.median(baseline):.2f}, list "
        f"{statistics.median(listing) / statistics.median(baseline):.2f}"
    )


def _print_exports(
    export: tuple[int, float, float, float], bare: tuple[int, float]
) -> None:
    rows, export_seconds, rss_before, rss_peak = export
    bare_rows, bare_seconds = bare
    print(
        f"export: {rows} rows in {export_seconds:.1f} s = "
        f"{rows / export_seconds:,.0f} rows/s (target >= 50,000); RSS "
        f"{rss_before:.0f} MB before, peak {rss_peak:.0f} MB during"
    )
    print(
        f"bare cursor over the same columns: {bare_rows} rows in "
        f"{bare_seconds:.1f} s = {bare_rows / bare_seconds:,.0f} rows/s; export "
        f"ratio {(rows / export_seconds) / (bare_rows / bare_seconds):.2f}"
    )


def main():
    args = _arguments()
    prepare_database("postgres", fresh=not args.reuse)

    from campaigns.models import CampaignReport, ChannelAttempt, Recipient
    from campaigns.services import campaign_report_refresh

    campaign, seeded = _seeded_campaign(args)
    recipients = Recipient.objects.count()
    attempts = ChannelAttempt.objects.count()

    started = time.perf_counter()
    campaign_report_refresh(campaign=campaign)
    compute = time.perf_counter() - started

    client = _marketer_client()
    stored_at = CampaignReport.objects.get(campaign=campaign).computed_at
    times = _timed_pages(client, _pages(campaign), args.rounds)
    computed_at = CampaignReport.objects.get(campaign=campaign).computed_at

    export = _timed_export(client, campaign)
    bare = _timed_bare_export(campaign)

    print(f"machine: {machine()}")
    print(
        f"data: {recipients} recipients ({args.recipients} in the measured "
        f"campaign), {attempts} channel attempts; seeded in {seeded:.0f} s"
    )
    print(f"report computed (in the worker, not the page) in {compute:.2f} s")
    _print_pages(times)
    _print_exports(export, bare)
    # The page served the stored figures; it never recomputed a large report.
    assert computed_at == stored_at


if __name__ == "__main__":
    main()
