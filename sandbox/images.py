"""Fetches a message's image as Viber would, before its outcome is planned.

An image counts as usable when its URL answers and its first bytes are a
JPEG's or a PNG's. Answers are remembered for a minute, so a campaign's
thousands of messages with one image fetch it once.
"""

import threading
import time

import requests

from .config import SandboxConfig

CACHE_SECONDS = 60
FETCH_TIMEOUT_SECONDS = 5
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


class ImageChecker:
    def __init__(self, config: SandboxConfig):
        self.config = config
        self._cache: dict[str, tuple[float, bool]] = {}
        # One fetch at a time: the first request for an image fetches it,
        # the others wait and read the cache.
        self._lock = threading.Lock()

    def usable(self, url: str) -> bool:
        """True if Viber could show the image at `url` (always, when the
        sandbox is told not to fetch images)."""
        if not self.config.fetch_images:
            return True
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(url)
            if cached and now - cached[0] < CACHE_SECONDS:
                return cached[1]
            usable = _fetch_is_image(url)
            self._cache[url] = (now, usable)
            return usable


def _fetch_is_image(url: str) -> bool:
    try:
        response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS, stream=True)
        head = response.raw.read(16) if response.ok else b""
        response.close()
    except requests.RequestException:
        return False
    return head.startswith(IMAGE_SIGNATURES)
