"""The marketer's journey in a real browser (Debian's Chromium via Playwright):
log in, upload an image, import an audience with bad rows, build and preview a
campaign with SMS fallback, test-send, launch, watch the report until every
recipient has an outcome, export the CSV. Any Content-Security-Policy
violation the browser reports on the way fails the test.

Runs against the live test server, a real task worker process and the Telesign
sandbox sending signed callbacks. Each step saves a screenshot in
var/e2e-screenshots (or $E2E_SCREENSHOTS). Without Chromium the test is
skipped, and fails instead when E2E_REQUIRED is set (CI sets it).
"""

import csv
import io
import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from campaigns.models import Recipient

from .conftest import roles_ensure
from .factories import image_bytes
from .sandbox_helpers import start_sandbox_calling_back
from .workers import ROOT, Workers, wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("E2E_SCREENSHOTS", ROOT / "var" / "e2e-screenshots"))
PASSWORD = "e2e-Marketer-pw-9"
# Ten good numbers, one per sandbox outcome (the last digit decides), and the
# rows a real export tends to have wrong.
GOOD = [f"+44 7911 2000{digit}{digit}" for digit in range(10)]
AUDIENCE_CSV = (
    "phone,first_name\n"
    + "".join(f"{phone},Person {index}\n" for index, phone in enumerate(GOOD))
    + "not a number,Broken\n+44 79,Too short\n"
)
# What the sandbox does for each last digit (see sandbox/scenarios.py).
EXPECTED_OUTCOMES = {"viber_delivered": 6, "sms_delivered": 2, "failed": 2}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def browser_page():
    if not Path(CHROMIUM).exists():
        message = (
            "Chromium not found: install Debian's package (apt-get install chromium)"
        )
        if os.environ.get("E2E_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def running_app(live_server, settings, django_user_model):
    """The live server, the sandbox calling it back, and one task worker."""
    sandbox = start_sandbox_calling_back(live_server.url, settings)
    workers = Workers(
        sandbox_url=sandbox.url,
        PUBLIC_BASE_URL=live_server.url,
        ENGINE_TICK_SECONDS=1,
        REPORT_REFRESH_SECONDS=1,
    )
    workers.start(1)
    user = django_user_model.objects.create_user(
        username="mara", password=PASSWORD, is_staff=True
    )
    roles_ensure()
    user.groups.add(Group.objects.get(name="Marketer"))
    yield live_server.url
    workers.stop()
    sandbox.stop()


def test_a_marketer_takes_a_campaign_from_image_to_export(
    running_app, browser_page, tmp_path
):
    page, base = browser_page, running_app
    snap = screenshots(page)
    log_in(page, base, snap)
    upload_image(page, base, snap, tmp_path)
    import_audience(page, base, snap, tmp_path)
    campaign_id = build_campaign(page, base, snap)
    send_test(page, base, snap, campaign_id)
    launch(page, snap)
    wait_for_report(page, base, snap, campaign_id)
    export_csv(page, snap)


def screenshots(page):
    """A function that saves the page as the next numbered screenshot, and
    fails if the browser has reported a Content-Security-Policy violation."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots = iter(range(1, 100))
    # Chromium reports each blocked inline script, style or handler as a
    # console error naming the Content Security Policy.
    csp_violations = []
    page.on(
        "console",
        lambda message: (
            csp_violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )

    def snap(name: str) -> None:
        page.screenshot(
            path=SCREENSHOTS / f"{next(shots):02d}-{name}.png", full_page=True
        )
        assert csp_violations == [], f"at step {name}"

    return snap


def log_in(page, base, snap) -> None:
    page.goto(f"{base}/admin/")
    page.fill("#id_username", "mara")
    page.fill("#id_password", PASSWORD)
    snap("login")
    page.click("input[type=submit]")
    page.wait_for_selector("text=Campaign workspace")
    snap("workspace")


def upload_image(page, base, snap, tmp_path) -> None:
    image = tmp_path / "spring-sale.png"
    image.write_bytes(image_bytes("PNG", size=(400, 300)))
    page.goto(f"{base}/admin/campaigns/imageasset/add/")
    page.fill("#id_name", "Spring sale")
    page.set_input_files("#id_upload", str(image))
    page.click("input[name=_save]")
    page.wait_for_selector("text=was added successfully")
    snap("image-uploaded")


def import_audience(page, base, snap, tmp_path) -> None:
    """From a CSV with bad rows, which the check reports."""
    page.goto(f"{base}/admin/campaigns/audience/add/")
    page.fill("#id_name", "Spring customers")
    page.click("input[name=_continue]")
    page.click("text=Import contacts from CSV")
    audience_file = tmp_path / "customers.csv"
    audience_file.write_text(AUDIENCE_CSV)
    page.set_input_files("input[type=file]", str(audience_file))
    page.click("input[type=submit]")
    # The worker checks the file; the page refreshes itself until it has.
    page.wait_for_selector("#rows-valid")
    assert page.inner_text("#rows-valid") == "10"
    assert page.inner_text("#rows-rejected") == "2"
    rejected = page.inner_text("#rejected-rows")
    assert "not a number" in rejected and "+44 79" in rejected
    snap("import-checked")
    page.click("input[name=confirm]")
    page.wait_for_selector("text=Imported 10 row(s)")
    snap("imported")


def build_campaign(page, base, snap) -> int:
    """A campaign with SMS fallback, previewed; returns its id."""
    page.goto(f"{base}/admin/campaigns/campaign/add/")
    page.fill("#id_name", "Spring sale")
    page.select_option("#id_image", label="Spring sale")
    page.fill("#id_fallback_time", "60")
    page.fill("#id_sms_text", "Hi {first_name}, 2 for 1 this weekend!")
    page.select_option("#id_audiences_from", label="Spring customers")
    page.click("#id_audiences_add")
    snap("campaign-form")
    page.click("input[name=_continue]")
    page.wait_for_selector("text=10 recipient(s) would be messaged")
    # Cancelling asks first (a script file, not an inline handler): say no.
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog), dialog.dismiss()))
    page.click("button:has-text('Cancel campaign')")
    page.wait_for_timeout(500)
    assert [dialog.message for dialog in questions] == [
        "Cancel this campaign for good? Recipients not yet sent will not be messaged."
    ]
    assert page.is_visible("text=10 recipient(s) would be messaged")
    # The browser's event loop runs in this thread: read ids from the page,
    # not the database.
    campaign_id = int(page.url.rstrip("/").split("/")[-2])
    page.click("text=Preview")
    assert "Hi Person 0, 2 for 1 this weekend!" in page.content()
    snap("preview")
    return campaign_id


def send_test(page, base, snap, campaign_id: int) -> None:
    page.goto(f"{base}/admin/campaigns/campaign/{campaign_id}/test-send/")
    page.fill("#id_phones", "+44 7911 123001")
    page.click("input[type=submit]")
    page.wait_for_selector("text=accepted by Telesign")
    snap("test-sent")


def launch(page, snap) -> None:
    page.click("text=Launch…")
    assert "10</strong> recipient(s) will be messaged" in page.content()
    snap("launch-confirm")
    page.click("input[value='Launch now']")
    page.wait_for_selector("text=launched: 10 recipient(s) to message")


def wait_for_report(page, base, snap, campaign_id: int) -> None:
    """Watch the report until every recipient has an outcome."""
    report = f"{base}/admin/campaigns/campaign/{campaign_id}/report/"

    def all_final() -> bool:
        page.goto(report)
        tiles = {
            tile.get_attribute("data-tile"): int(tile.inner_text().split("\n")[1])
            for tile in page.query_selector_all("#report-tiles .tile")
        }
        return tiles["pending"] == 0 and tiles["unconfirmed"] == 0 and tiles

    tiles = wait_for(all_final, timeout=120, interval=1, what="every outcome")
    assert tiles["audience"] == 10 and tiles["attempted"] == 10
    assert tiles["viber_delivered"] == EXPECTED_OUTCOMES["viber_delivered"]
    assert tiles["sms_delivered"] == EXPECTED_OUTCOMES["sms_delivered"]
    assert tiles["failed"] == EXPECTED_OUTCOMES["failed"]
    assert page.query_selector("#outcome-chart") is not None
    snap("report")


def export_csv(page, snap) -> None:
    with page.expect_download() as download:
        page.click("input[value='Download CSV']")
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 10
    outcomes = {}
    for row in rows:
        outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + 1
    labels = dict(Recipient.Outcome.choices)
    assert outcomes == {labels[key]: count for key, count in EXPECTED_OUTCOMES.items()}
    snap("exported")
