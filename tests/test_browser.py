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

from campaigns import services
from campaigns.models import Recipient

from .conftest import roles_ensure
from .factories import image_bytes, make_audience, make_contact
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


@pytest.fixture
def home_workspace(live_server, django_user_model, settings):
    """A marketer and campaigns in every state the home shows, written before
    the browser starts (its event loop then runs in this thread)."""
    settings.PUBLIC_BASE_URL = live_server.url  # where the thumbnails load from
    user = django_user_model.objects.create_user(
        username="mara", password=PASSWORD, is_staff=True
    )
    roles_ensure()
    user.groups.add(Group.objects.get(name="Marketer"))
    return live_server.url, home_campaigns()


def test_a_marketer_starts_from_the_home_on_a_laptop_and_a_phone(
    home_workspace, browser_page
):
    """The home at 1366x768 and at a 390 px phone width: what is sending, what
    comes next, recent results; the campaign list fits the laptop's width."""
    page, (base, names) = browser_page, home_workspace
    page.set_viewport_size({"width": 1366, "height": 768})
    snap = screenshots(page)
    log_in(page, base, snap)

    assert names["sending"] in page.inner_text("#home-sending")
    assert "12 of 20" in page.inner_text("#home-sending")
    assert names["scheduled"] in page.inner_text("#home-scheduled")
    assert names["finished"] in page.inner_text("#home-results")
    assert "Callback events" in page.inner_text("#home-records")
    snap("home-laptop")
    campaign_list_fits(page, base, snap)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/admin/")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, "the home scrolls sideways on a phone"
    assert page.is_visible("#home-sending progress")
    snap("home-phone")


def home_campaigns() -> dict[str, str]:
    """A campaign sending (12 of 20 sent), one scheduled and one finished."""
    from datetime import timedelta

    from django.utils import timezone

    from campaigns import services
    from campaigns.models import Campaign

    from .factories import make_audience, make_campaign, make_contact, make_image
    from .report_helpers import make_recipient

    now = timezone.now()
    image = make_image("Spring sale banner", format="PNG")
    contacts = [make_contact(name=f"Person {i}") for i in range(20)]
    audience = make_audience("Spring customers", contacts)
    sending = make_campaign(
        [audience],
        name="Spring sale: two for one on every pair of trainers this weekend",
        image=image,
        status=Campaign.Status.SENDING,
        started_at=now - timedelta(minutes=3),
    )
    finished = make_campaign(
        [audience],
        name="Winter boots launch",
        image=image,
        status=Campaign.Status.COMPLETED,
        started_at=now - timedelta(days=2),
        completed_at=now - timedelta(days=2, minutes=-30),
    )
    for index, contact in enumerate(contacts):
        sent = {"send_status": "accepted", "sent_at": now - timedelta(seconds=index)}
        make_recipient(sending, contact, **(sent if index < 12 else {}))
        delivered = "viber_delivered" if index % 4 else "sms_delivered"
        make_recipient(finished, contact, outcome=delivered, **sent)
    for campaign in (sending, finished):
        services.campaign_report_refresh(campaign=campaign)
    scheduled = make_campaign(
        [audience],
        name="Black Friday early access",
        image=image,
        status=Campaign.Status.SCHEDULED,
        scheduled_at=now + timedelta(days=2),
    )
    return {
        "sending": sending.name,
        "scheduled": scheduled.name,
        "finished": finished.name,
    }


def campaign_list_fits(page, base, snap) -> None:
    """At 1366 px, beside the navigation and the filters: every Report link
    whole, names on at most two lines, nothing scrolled out of sight."""
    page.goto(f"{base}/admin/campaigns/campaign/")
    results = page.query_selector("#changelist .results")
    snap("campaign-list-laptop")
    hidden = results.evaluate("el => el.scrollWidth - el.clientWidth")
    assert hidden <= 0, f"{hidden} px of the campaign list scroll out of sight"
    for link in page.query_selector_all("#result_list a.report-link"):
        assert link.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
        assert link.inner_text() == "Report"
    heights = [
        name.bounding_box()["height"]
        for name in page.query_selector_all("#result_list .field-name a")
    ]
    assert max(heights) <= 2 * min(heights) + 1, heights  # one line is the shortest


def screenshots(page, folder: Path = SCREENSHOTS):
    """A function that saves the page as the next numbered screenshot, and
    fails if the browser has reported a Content-Security-Policy violation."""
    folder.mkdir(parents=True, exist_ok=True)
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
        page.screenshot(path=folder / f"{next(shots):02d}-{name}.png", full_page=True)
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
    page.click("text=Next: Audience")
    page.select_option("#id_audiences_from", label="Spring customers")
    page.click("#id_audiences_add")
    page.click("text=Next: Message")
    page.fill("#id_fallback_time", "60")
    page.fill("#id_sms_text", "Hi {first_name}, 2 for 1 this weekend!")
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
    campaign_id = int(page.url.split("#")[0].rstrip("/").split("/")[-2])
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
    # The deliveries chart counts what the tiles count.
    described = page.text_content("#timeline-chart-desc")
    assert described.startswith(
        f"{tiles['viber_delivered']} Viber and {tiles['sms_delivered']} SMS deliveries"
    ), described
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


# --- Building a campaign through the guided steps --------------------------------

VIEWPORTS = {"desktop": (1366, 768), "phone": (390, 844)}


@pytest.fixture
def builder_app(live_server, settings, django_user_model):
    """The live server with the sandbox for test sends, prices for the cost
    estimate, an image and an audience of ten, and a marketer."""
    sandbox = start_sandbox_calling_back(live_server.url, settings)
    settings.PRICE_VIBER_MESSAGE, settings.PRICE_SMS_SEGMENT = 0.01, 0.05
    services.image_asset_create(
        name="Autumn sale", data=image_bytes("PNG", size=(400, 300)), file_name="a.png"
    )
    make_audience(
        "Autumn customers",
        [
            make_contact(phone.replace(" ", ""), name=f"P{n} Lee")
            for n, phone in enumerate(GOOD)
        ],
    )
    user = django_user_model.objects.create_user(
        username="mara", password=PASSWORD, is_staff=True
    )
    roles_ensure()
    user.groups.add(Group.objects.get(name="Marketer"))
    yield live_server.url
    sandbox.stop()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_marketer_builds_a_campaign_through_the_steps(
    builder_app, browser_page, viewport
):
    """Name and image → audience → message → schedule and limits → review,
    with recipients, cost and the phone preview computed while typing, then
    a test send from the review itself."""
    page, base = browser_page, builder_app
    width, height = VIEWPORTS[viewport]
    page.set_viewport_size({"width": width, "height": height})
    snap = screenshots(page, SCREENSHOTS / f"guided-{viewport}")
    log_in(page, base, snap)
    page.goto(f"{base}/admin/campaigns/campaign/add/")
    steps = page.locator(".step-nav .step-tab")
    assert steps.all_inner_texts() == [
        "1. Name and image",
        "2. Audience",
        "3. Message",
        "4. Schedule and limits",
        "5. Review",
    ]
    assert page.is_visible("#id_name") and not page.is_visible("#id_sms_text")
    page.fill("#id_name", "Autumn sale")
    page.select_option("#id_image", label="Autumn sale")
    page.wait_for_selector("#live-panel img.thumbnail")
    snap("step-image")
    page.click("text=Next: Audience")
    page.select_option("#id_audiences_from", label="Autumn customers")
    page.click("#id_audiences_add")
    page.wait_for_selector("#live-panel >> text=10 recipient(s) would be messaged")
    snap("step-audience")
    page.click("text=Next: Message")
    page.fill("#id_fallback_time", "60")
    page.fill("#id_sms_text", "Hi {first_name}, 2 for 1 [this week] only!")
    counter = page.inner_text("#sms-length")
    assert counter.startswith("42 characters · 1 segment · GSM-7, 46 of 160")
    assert "count as two" in counter
    page.wait_for_selector("#live-panel >> text=Hi P0, 2 for 1 [this week] only!")
    page.wait_for_selector("text=an SMS follows if Viber has not delivered within 60 s")
    snap("step-message")
    page.click("text=Next: Schedule and limits")
    assert page.is_visible("text=in their own local time")
    page.fill("#id_max_send_rate", "5")
    snap("step-schedule")
    page.click("text=Next: Review")
    review = page.locator("fieldset.review")
    review.locator("text=Hi P0, 2 for 1 [this week] only!").wait_for()
    review.locator("text=At most 5 message(s) per second").wait_for()
    assert "10 recipient(s) would be messaged" in review.inner_text()
    assert "EUR for 10 recipient(s)" in review.inner_text()
    snap("step-review")
    page.click("input[name=_continue]")
    page.wait_for_selector("text=was added successfully")
    # Saved: the review is one click away, with the test send on it.
    page.click(".step-nav >> text=5. Review")
    page.fill("#test-phones", "+44 7911 123001")
    if viewport == "desktop":
        page.wait_for_selector("fieldset.review >> text=Hi P0")
        page.locator("fieldset.review").screenshot(
            path=SCREENSHOTS / "campaign-review.png"
        )
    page.click("#test-send-button")
    page.wait_for_selector("text=accepted by Telesign")
    assert page.url.endswith("#review") and page.is_visible("fieldset.review")
    snap("test-sent-from-review")
