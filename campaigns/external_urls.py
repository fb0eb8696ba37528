"""The rules for an address someone types in for others to fetch: Viber and
Telesign fetch an external image, and every admin's browser shows it.

An address must be https, name a public host, carry no user name or password,
and mean the same to every program that reads it. Python's `urlsplit` and a
browser disagree on some addresses (a browser reads `\\` as `/`, and
`2130706433` or `0x7f.1` as 127.0.0.1), so those are refused or read the
browser's way (the WHATWG URL standard) before the host is judged.
"""

import ipaddress
import re
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that only ever mean a machine of one's own network (RFC 6761, 6762,
# 8375 and ICANN's private-use `internal`).
LOCAL_NAME_SUFFIXES = ("localhost", "local", "internal", "home.arpa")
# IPv6 prefixes that carry an IPv4 address in their last 32 bits: NAT64
# (64:ff9b::/96) and the deprecated IPv4-compatible form (::/96).
IPV4_CARRYING_PREFIXES = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("::/96"),
)
HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$")


class UrlRejected(ValueError):
    """The address may not be used; the message says why, for the marketer."""


def public_https_url_check(url: str) -> str:
    """Return `url` without surrounding spaces if it is an https address of a
    public host, or raise UrlRejected saying what is wrong with it."""
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise UrlRejected(
            "The address contains spaces, line breaks or invisible characters; "
            "copy it again from the browser's address bar."
        )
    if "\\" in url:
        raise UrlRejected(
            "The address contains a backslash (\\). Browsers read it as a "
            "slash, other programs do not, so it could lead somewhere else than "
            "it seems; use / instead."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRejected(f"This is not a valid web address ({exc}).") from exc
    if parts.scheme.lower() != "https":
        raise UrlRejected(
            "Viber fetches images over https only; the address must start "
            "with https://."
        )
    if "@" in parts.netloc:
        raise UrlRejected(
            "The address must not contain a user name or password (the part "
            "before @); use an address anyone may open."
        )
    if not parts.hostname:
        raise UrlRejected("The address has no host name after https://.")
    if port == 0:
        raise UrlRejected("Port 0 is not a valid port.")
    _host_check(parts.hostname, bracketed=parts.netloc.startswith("["))
    return url


def _host_check(host: str, *, bracketed: bool) -> None:
    if "%" in host:
        raise UrlRejected(
            "The host name contains a % sign (an encoded character or a "
            "network interface), which is not allowed."
        )
    if bracketed:
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise UrlRejected(f"[{host}] is not a valid IPv6 address.") from exc
        _address_check(address, host)
        return
    try:
        # What a browser does to a non-ASCII name (full-width digits become
        # digits, and "。" a dot) before deciding whether it is an address.
        name = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise UrlRejected(f"“{host}” is not a valid host name.") from exc
    address = ipv4_from_host(name)
    if address is not None:
        _address_check(address, host)
        return
    name = name.removesuffix(".")
    labels = name.split(".")
    if not all(HOST_NAME.match(label) for label in labels):
        raise UrlRejected(f"“{host}” is not a valid host name.")
    if len(labels) < 2 or any(
        name == suffix or name.endswith(f".{suffix}") for suffix in LOCAL_NAME_SUFFIXES
    ):
        raise UrlRejected(
            f"“{host}” names a machine of a private network; Viber must be able "
            "to fetch the image from the internet."
        )


def _address_check(address: IPAddress, host: str) -> None:
    if not ip_is_public(address):
        raise UrlRejected(
            f"“{host}” is a private, local or reserved network address ({address}); "
            "Viber must be able to fetch the image from the internet."
        )


def ip_is_public(address: IPAddress) -> bool:
    """Whether `address` is an ordinary internet address: not private, loopback,
    link-local, unspecified, shared, multicast, reserved or documentation, nor
    an IPv6 address standing for an IPv4 address that is one of these."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if address.teredo:
            embedded = address.teredo[1]
        if any(address in prefix for prefix in IPV4_CARRYING_PREFIXES):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return ip_is_public(embedded)
        if address.is_site_local:
            return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def ipv4_from_host(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a browser reads `host` (ASCII, lower case) as, or None
    when it reads it as a name (the WHATWG URL standard's IPv4 parser).

    `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` are all 127.0.0.1 to a
    browser. Raises UrlRejected for a host a browser refuses as a bad address.
    """
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    last = parts[-1]
    if not re.fullmatch(r"[0-9]+|0x[0-9a-f]*", last):
        return None
    numbers = [_ipv4_number(part, host) for part in parts]
    if len(numbers) > 4 or any(number > 255 for number in numbers[:-1]):
        raise UrlRejected(f"“{host}” is not a valid IPv4 address.")
    if numbers[-1] >= 256 ** (5 - len(numbers)):
        raise UrlRejected(f"“{host}” is not a valid IPv4 address.")
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number * 256 ** (3 - index)
    return ipaddress.IPv4Address(value)


def _ipv4_number(part: str, host: str) -> int:
    """One dot-separated part: hexadecimal after 0x, octal after a leading 0."""
    base, digits, pattern = 10, part, "[0-9]+"
    if part[:2] == "0x":
        base, digits, pattern = 16, part[2:] or "0", "[0-9a-f]+"
    elif len(part) > 1 and part.startswith("0"):
        base, digits, pattern = 8, part[1:], "[0-7]+"
    if not re.fullmatch(pattern, digits):
        raise UrlRejected(f"“{host}” is not a valid IPv4 address.")
    return int(digits, base)
