"""Admin sign-in throttling: slow password guessing down without letting a
stranger lock a real person out.

Every attempt whose password is about to be checked is counted first, each
count one conditional UPDATE, so however many arrive at once no limit is
overrun. Three counts:

- a username from one address: LOGIN_FAILURES_PER_USER attempts, then that
  address waits LOGIN_LOCKOUT_MINUTES for that username (and only there);
- one address, whatever the username: LOGIN_FAILURES_PER_ADDRESS attempts;
- a username from anywhere: after LOGIN_USER_BACKOFF_AFTER attempts, one
  attempt at a time with a pause doubling from 1 second up to
  LOGIN_USER_BACKOFF_MAX_SECONDS, so guesses from many addresses slow down
  while the real person, from their own address, waits at most that long.

A count is forgotten once no attempt was counted for LOGIN_LOCKOUT_MINUTES. A
successful sign-in clears its username's counts and gives back its address's.
"""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from ..models import LoginThrottle

Scope = LoginThrottle.Scope


def login_attempt_begin(*, username: str, remote_addr: str | None) -> int:
    """Count one sign-in attempt before its password is checked.

    Returns 0 if the password may be checked now (the attempt stays counted
    unless login_attempt_succeeded follows), else how many seconds to wait
    (then nothing is counted).
    """
    now = timezone.now()
    username = username.lower()[:150]
    window = timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    _forget_quiet_keys(now - 2 * window)
    limits = [(Scope.USER_AT_ADDRESS, _user_at(username, remote_addr))]
    if remote_addr:
        limits.append((Scope.ADDRESS, remote_addr))
    taken = []
    for scope, key in limits:
        limit = (
            settings.LOGIN_FAILURES_PER_USER
            if scope == Scope.USER_AT_ADDRESS
            else settings.LOGIN_FAILURES_PER_ADDRESS
        )
        wait = _count_within_limit(scope, key, limit=limit, now=now, window=window)
        if wait:
            _give_back(taken)
            return wait
        taken.append((scope, key))
    wait = _count_with_backoff(username, now=now, window=window)
    if wait:
        _give_back(taken)
    return wait


def login_attempt_succeeded(*, username: str, remote_addr: str | None) -> None:
    """The password was right: the username starts afresh everywhere (other
    addresses' counts for it stay), and its address gets its attempt back."""
    username = username.lower()[:150]
    LoginThrottle.objects.filter(
        scope=Scope.USER_AT_ADDRESS, key=_user_at(username, remote_addr)
    ).update(attempts=0)
    LoginThrottle.objects.filter(scope=Scope.USER, key=username).update(
        attempts=0, next_attempt_at=None
    )
    if remote_addr:
        _give_back([(Scope.ADDRESS, remote_addr)])


def _user_at(username: str, remote_addr: str | None) -> str:
    return f"{username} {remote_addr or '-'}"


def _rows(scope: str, key: str):
    return LoginThrottle.objects.filter(scope=scope, key=key)


def _fresh(scope: str, key: str, *, now: datetime, window: timedelta):
    """The key's row, created if missing, its count cleared if it has been
    quiet for a whole window."""
    LoginThrottle.objects.bulk_create(
        [LoginThrottle(scope=scope, key=key, last_attempt_at=now)],
        ignore_conflicts=True,
    )
    rows = _rows(scope, key)
    rows.filter(last_attempt_at__lte=now - window).update(
        attempts=0, next_attempt_at=None
    )
    return rows


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _count_within_limit(
    scope: str, key: str, *, limit: int, now: datetime, window: timedelta
) -> int:
    """Count an attempt if fewer than `limit` are counted: 0, else the wait."""
    for _ in range(3):
        rows = _fresh(scope, key, now=now, window=window)
        if rows.filter(attempts__lt=limit).update(
            attempts=F("attempts") + 1, last_attempt_at=now
        ):
            return 0
        last = rows.values_list("last_attempt_at", flat=True).first()
        if last is not None:
            return _seconds_until(last + window, now)
        # Forgotten meanwhile (_forget_quiet_keys): count again.
    return 1


def _count_with_backoff(username: str, *, now: datetime, window: timedelta) -> int:
    """Count an attempt for the username from anywhere: freely up to
    LOGIN_USER_BACKOFF_AFTER, then only once the last one's pause is over."""
    free = settings.LOGIN_USER_BACKOFF_AFTER
    for _ in range(3):
        rows = _fresh(Scope.USER, username, now=now, window=window)
        if rows.filter(attempts__lt=free).update(
            attempts=F("attempts") + 1, last_attempt_at=now
        ):
            return 0
        row = rows.values("attempts", "next_attempt_at").first()
        if row is None:
            continue  # forgotten meanwhile: count again
        if row["next_attempt_at"] and row["next_attempt_at"] > now:
            return _seconds_until(row["next_attempt_at"], now)
        pause = min(
            2 ** min(row["attempts"] - free, 30),
            settings.LOGIN_USER_BACKOFF_MAX_SECONDS,
        )
        # Only one of several simultaneous attempts matches `attempts`.
        if rows.filter(attempts=row["attempts"]).update(
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            next_attempt_at=now + timedelta(seconds=pause),
        ):
            return 0
    return 1


def _give_back(counted: list[tuple[str, str]]) -> None:
    """Uncount attempts whose password was not checked after all (refused by
    another count) or was right."""
    for scope, key in counted:
        _rows(scope, key).filter(attempts__gt=0).update(attempts=F("attempts") - 1)


def _forget_quiet_keys(before: datetime) -> None:
    """Keep the table small: a key quiet for two windows counts nothing."""
    LoginThrottle.objects.filter(last_attempt_at__lt=before).delete()
