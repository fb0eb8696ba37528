"""The rules for addresses of externally hosted images (campaigns/external_urls):
https only, public hosts only, no credentials, read the way a browser reads them."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns import services
from campaigns.external_urls import (
    UrlRejected,
    ip_is_public,
    ipv4_from_host,
    public_https_url_check,
)
from campaigns.models import ImageAsset


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/spring/sale.jpg",
        "https://cdn.example.com:8443/sale.png?v=2#top",
        "  https://cdn.example.com/sale.jpg  ",
        "https://93.184.215.14/sale.jpg",
        "https://[2606:4700::1111]/sale.jpg",
        "https://[::ffff:8.8.8.8]/sale.jpg",
        "https://münchen.example/sale.jpg",
        "https://CDN.Example.COM./sale.jpg",
    ],
)
def test_public_https_addresses_are_accepted(url):
    assert public_https_url_check(url) == url.strip()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # Not https.
        ("http://cdn.example.com/a.jpg", "https only"),
        ("ftp://cdn.example.com/a.jpg", "https only"),
        ("javascript:alert(1)//a.jpg", "https only"),
        ("http://2130706433/", "https only"),
        # Credentials.
        ("https://user:secret@cdn.example.com/a.jpg", "user name or password"),
        ("https://user@cdn.example.com/a.jpg", "user name or password"),
        ("https://cdn.example.com@127.0.0.1/a.jpg", "user name or password"),
        # Read differently by a browser and by Python.
        ("https://cdn.example.com\\@127.0.0.1/a.jpg", "backslash"),
        ("https:\\\\127.0.0.1\\a.jpg", "backslash"),
        ("https://cdn.exa\tmple.com/a.jpg", "invisible characters"),
        ("https://cdn.example.com/a\n.jpg", "invisible characters"),
        ("https://cdn example.com/a.jpg", "spaces"),
        ("https:///cdn.example.com/a.jpg", "no host name"),
        ("https://%31%32%37.0.0.1/a.jpg", "% sign"),
        # IPv4 loopback, private, link-local, unspecified, shared, multicast,
        # reserved, broadcast and documentation ranges.
        ("https://127.0.0.1/a.jpg", "private, local or reserved"),
        ("https://127.8.9.10/a.jpg", "private, local or reserved"),
        ("https://10.0.0.1/a.jpg", "private, local or reserved"),
        ("https://172.16.5.4/a.jpg", "private, local or reserved"),
        ("https://192.168.1.1/a.jpg", "private, local or reserved"),
        ("https://169.254.169.254/latest/a.jpg", "private, local or reserved"),
        ("https://0.0.0.0/a.jpg", "private, local or reserved"),
        ("https://100.64.0.1/a.jpg", "private, local or reserved"),
        ("https://224.0.0.251/a.jpg", "private, local or reserved"),
        ("https://240.0.0.1/a.jpg", "private, local or reserved"),
        ("https://255.255.255.255/a.jpg", "private, local or reserved"),
        ("https://192.0.2.10/a.jpg", "private, local or reserved"),
        # The same addresses written the other ways a browser accepts.
        ("https://2130706433/a.jpg", "(127.0.0.1)"),
        ("https://0x7f000001/a.jpg", "(127.0.0.1)"),
        ("https://0177.0.0.1/a.jpg", "(127.0.0.1)"),
        ("https://0x7f.0.0.1/a.jpg", "(127.0.0.1)"),
        ("https://127.1/a.jpg", "(127.0.0.1)"),
        ("https://127.0.0.1./a.jpg", "(127.0.0.1)"),
        ("https://0/a.jpg", "(0.0.0.0)"),
        ("https://012.0x1.0.1/a.jpg", "(10.1.0.1)"),
        ("https://3232235777/a.jpg", "(192.168.1.1)"),
        ("https://１２７.０.０.１/a.jpg", "(127.0.0.1)"),
        ("https://127。0。0。1/a.jpg", "(127.0.0.1)"),
        # IPv6, and IPv6 forms of IPv4 addresses.
        ("https://[::1]/a.jpg", "private, local or reserved"),
        ("https://[::]/a.jpg", "private, local or reserved"),
        ("https://[fe80::1]/a.jpg", "private, local or reserved"),
        ("https://[fc00::1]/a.jpg", "private, local or reserved"),
        ("https://[fd12:3456::1]/a.jpg", "private, local or reserved"),
        ("https://[ff02::1]/a.jpg", "private, local or reserved"),
        ("https://[fec0::1]/a.jpg", "private, local or reserved"),
        ("https://[2001:db8::1]/a.jpg", "private, local or reserved"),
        ("https://[::ffff:127.0.0.1]/a.jpg", "(::ffff:127.0.0.1)"),
        ("https://[::ffff:7f00:1]/a.jpg", "(::ffff:127.0.0.1)"),
        ("https://[::ffff:a9fe:a9fe]/a.jpg", "private, local or reserved"),
        ("https://[::127.0.0.1]/a.jpg", "private, local or reserved"),
        ("https://[64:ff9b::10.0.0.1]/a.jpg", "private, local or reserved"),
        ("https://[2002:c0a8:101::1]/a.jpg", "private, local or reserved"),
        ("https://[fe80::1%25eth0]/a.jpg", "% sign"),
        # Names that only mean a machine of one's own network.
        ("https://localhost/a.jpg", "private network"),
        ("https://LOCALHOST./a.jpg", "private network"),
        ("https://api.localhost/a.jpg", "private network"),
        ("https://printer.local/a.jpg", "private network"),
        ("https://nas.home.arpa/a.jpg", "private network"),
        ("https://intranet/a.jpg", "private network"),
        # Not an address at all, for a browser either.
        ("https://1.2.3.4.5/a.jpg", "not a valid IPv4"),
        ("https://4294967296/a.jpg", "not a valid IPv4"),
        ("https://09.0.0.1/a.jpg", "not a valid IPv4"),
        ("https://cdn.1/a.jpg", "not a valid IPv4"),
        ("https://[::1/a.jpg", "not a valid web address"),
        ("https://cdn.example.com:99999/a.jpg", "not a valid web address"),
        ("https://cdn..example.com/a.jpg", "not a valid host name"),
    ],
)
def test_addresses_a_stranger_could_abuse_are_refused_with_the_reason(url, reason):
    with pytest.raises(UrlRejected) as refused:
        public_https_url_check(url)
    assert reason in str(refused.value)


def browser_spellings(address: ipaddress.IPv4Address, data) -> str:
    """`address` written the way the WHATWG URL standard lets a browser read
    it: 1 to 4 parts, each decimal, octal (leading 0) or hexadecimal (0x)."""
    value = int(address)
    count = data.draw(st.integers(1, 4))
    parts = [value >> 24 & 255, value >> 16 & 255, value >> 8 & 255][: count - 1]
    parts.append(value & (256 ** (5 - count) - 1))
    written = []
    for part in parts:
        style = data.draw(st.sampled_from(["dec", "oct", "hex", "HEX"]))
        written.append(
            {
                "dec": str(part),
                "oct": f"0{part:o}",
                "hex": f"0x{part:x}",
                "HEX": f"0X{part:X}",
            }[style]
        )
    return ".".join(written)


ipv4s = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)


@given(address=ipv4s, data=st.data())
def test_every_way_a_browser_reads_an_ipv4_address_is_recognised(address, data):
    spelling = browser_spellings(address, data)
    assert ipv4_from_host(spelling.lower()) == address
    url = f"https://{spelling}/a.jpg"
    if ip_is_public(address):
        assert public_https_url_check(url) == url
    else:
        with pytest.raises(UrlRejected, match="private, local or reserved"):
            public_https_url_check(url)


@given(address=ipv4s)
def test_an_ipv4_address_is_judged_the_same_in_its_ipv6_forms(address):
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    nat64 = ipaddress.IPv6Address(f"64:ff9b::{address}")
    assert ip_is_public(mapped) == ip_is_public(nat64) == ip_is_public(address)


@given(
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){1,3}", fullmatch=True)
)
def test_host_names_are_never_read_as_addresses(name):
    assert ipv4_from_host(name) is None


def test_the_image_service_refuses_a_private_address_whoever_calls_it(db):
    asset = ImageAsset(name="Hosted", external_url="https://0x7f.1/a.jpg")
    with pytest.raises(UrlRejected, match=r"127\.0\.0\.1"):
        services.image_asset_save(asset=asset)
    assert not ImageAsset.objects.exists()
