"""Admin sign-in throttling (services/login_throttle.py): password checks are
counted before they happen, per username and address, so parallel guesses get
no more than the limit; guesses from many addresses slow a username down
without locking its owner out."""

import datetime as dt
import math
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.contrib.auth.backends import ModelBackend
from django.urls import reverse
from django.utils import timezone

from campaigns.models import LoginThrottle
from campaigns.services import login_attempt_begin

PASSWORD = "pw-for-tests-only"


class SlowCountingBackend(ModelBackend):
    """The real backend, counting its password checks and taking as long as a
    production password hash does: the time in which parallel guesses overlap."""

    checks = 0
    lock = threading.Lock()

    def authenticate(self, request, username=None, password=None, **kwargs):
        with self.lock:
            type(self).checks += 1
        time.sleep(0.2)
        return super().authenticate(request, username, password, **kwargs)


@pytest.fixture
def counted_checks(settings):
    settings.AUTHENTICATION_BACKENDS = [
        f"{SlowCountingBackend.__module__}.SlowCountingBackend"
    ]
    SlowCountingBackend.checks = 0
    return SlowCountingBackend


@pytest.fixture
def mara(django_user_model):
    return django_user_model.objects.create_user(
        username="mara", password=PASSWORD, is_staff=True
    )


def login(client, username, password, **extra):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        **extra,
    )


def signed_in(response) -> bool:
    return response.status_code == 302


def guess_in_parallel(base_url: str, count: int, headers_for) -> list[str]:
    """`count` wrong passwords for mara, sent at the same moment, each from
    its own session; returns the pages answered."""
    ready = threading.Barrier(count)

    def guess(index: int) -> str:
        with requests.Session() as session:
            page = session.get(f"{base_url}/admin/login/", timeout=30).text
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            ready.wait(timeout=60)
            return session.post(
                f"{base_url}/admin/login/",
                data={
                    "csrfmiddlewaretoken": token[1],
                    "username": "mara",
                    "password": f"guess-{index}",
                    "next": "/admin/",
                },
                headers=headers_for(index),
                timeout=60,
            ).text

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(guess, range(count)))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_never_get_more_password_checks_than_the_limit(
    live_server, settings, mara, counted_checks
):
    settings.LOGIN_FAILURES_PER_USER = 5

    pages = guess_in_parallel(live_server.url, 30, lambda index: {})

    assert counted_checks.checks == 5
    assert sum("correct username and password" in page for page in pages) == 5
    assert sum("Too many failed sign-ins" in page for page in pages) == 25


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_from_many_addresses_are_slowed_down_for_the_username(
    live_server, settings, mara, counted_checks
):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_USER_BACKOFF_AFTER = 10

    started = time.monotonic()
    pages = guess_in_parallel(
        live_server.url, 30, lambda index: {"X-Forwarded-For": f"198.51.100.{index}"}
    )
    elapsed = time.monotonic() - started

    # Ten free attempts, then one at a time with pauses of 1, 2, 4… seconds:
    # the eleventh, and one more for each pause over while they arrived.
    assert 11 <= counted_checks.checks <= 11 + int(math.log2(elapsed + 1))
    waits = [
        int(found[1])
        for page in pages
        if (found := re.search(r"Try again in (\d+) second\(s\)", page))
    ]
    assert len(waits) == 30 - counted_checks.checks
    assert all(wait <= settings.LOGIN_USER_BACKOFF_MAX_SECONDS for wait in waits)


def test_a_lockout_from_one_address_does_not_lock_the_user_out_from_another(
    client, mara, settings
):
    settings.LOGIN_FAILURES_PER_USER = 5
    for _ in range(5):
        login(client, "mara", "wrong", REMOTE_ADDR="192.0.2.66")
    refused = login(client, "mara", PASSWORD, REMOTE_ADDR="192.0.2.66")
    assert "Too many failed sign-ins. Try again in 15 minute(s)." in (
        refused.content.decode()
    )

    assert signed_in(login(client, "mara", PASSWORD, REMOTE_ADDR="203.0.113.7"))
    # The guessing address stays locked out.
    client.logout()
    assert not signed_in(login(client, "mara", PASSWORD, REMOTE_ADDR="192.0.2.66"))


def test_a_form_without_password_does_not_clear_the_count(client, mara, settings):
    settings.LOGIN_FAILURES_PER_USER = 3
    for _ in range(2):
        login(client, "mara", "wrong")
    login(client, "mara", "")  # no password checked: not a success
    login(client, "mara", "wrong")
    refused = login(client, "mara", PASSWORD)
    assert "Too many failed sign-ins" in refused.content.decode()


def test_guesses_from_many_addresses_slow_the_username_but_never_lock_it_out(
    db, mara, settings, client
):
    settings.LOGIN_USER_BACKOFF_AFTER = 10
    settings.LOGIN_USER_BACKOFF_MAX_SECONDS = 60
    pauses = []
    for index in range(30):
        address = f"198.51.100.{index}"
        wait = login_attempt_begin(username="Mara", remote_addr=address)
        if wait:
            pauses.append(wait)
            # The pause passes; then this address may try.
            LoginThrottle.objects.filter(scope=LoginThrottle.Scope.USER).update(
                next_attempt_at=timezone.now()
            )
            assert login_attempt_begin(username="mara", remote_addr=address) == 0
    # Free for ten attempts, then a pause doubling from 1 s up to one minute.
    assert pauses == [
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
        60,
        60,
        60,
        60,
        60,
        60,
        60,
        60,
        60,
        60,
        60,
    ]

    # The real person, from their own address, waits a minute at most.
    refused = login(client, "mara", PASSWORD, REMOTE_ADDR="203.0.113.7")
    assert "Too many failed sign-ins. Try again in 60 second(s)." in (
        refused.content.decode()
    )
    LoginThrottle.objects.update(next_attempt_at=timezone.now())
    assert signed_in(login(client, "mara", PASSWORD, REMOTE_ADDR="203.0.113.7"))
    # Signing in clears the username's pause.
    user_count = LoginThrottle.objects.get(scope=LoginThrottle.Scope.USER)
    assert (user_count.attempts, user_count.next_attempt_at) == (0, None)


def test_counts_are_forgotten_once_quiet_for_the_lockout_window(db, settings):
    settings.LOGIN_FAILURES_PER_USER = 2
    for _ in range(2):
        assert login_attempt_begin(username="ana", remote_addr="192.0.2.1") == 0
    assert login_attempt_begin(username="ana", remote_addr="192.0.2.1") > 14 * 60
    LoginThrottle.objects.update(
        last_attempt_at=timezone.now() - dt.timedelta(minutes=16)
    )
    assert login_attempt_begin(username="ana", remote_addr="192.0.2.1") == 0
