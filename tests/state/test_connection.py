"""Redis URLs and key names: Sentinel parsing, prefixes and Cluster hash tags."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.crc import key_slot

from service.state.connection import KeySpace, parse_sentinel_url


def test_sentinel_url_names_hosts_service_db_and_password() -> None:
    """All parts of a Sentinel URL are read, the password percent-decoded."""
    target = parse_sentinel_url("redis+sentinel://:p%40ss@s1:26379,s2:26380/mymaster/2")
    assert target.hosts == (("s1", 26379), ("s2", 26380))
    assert (target.service_name, target.db, target.password) == ("mymaster", 2, "p@ss")


@pytest.mark.parametrize(
    "url",
    [
        "redis://h:6379/0",
        "redis+sentinel://h:26379",
        "redis+sentinel://h/m",
        "redis+sentinel://h:x/m",
    ],
)
def test_malformed_sentinel_urls_are_rejected(url: str) -> None:
    """A URL that is not a complete Sentinel URL fails with a message, not a late error."""
    with pytest.raises(ValueError):
        parse_sentinel_url(url)


@pytest.mark.parametrize("prefix", ["", "a{b", "a:b", "a b"])
def test_prefixes_that_would_break_key_names_are_rejected(prefix: str) -> None:
    """Braces or colons in a prefix would move hash tags; such prefixes fail at startup."""
    with pytest.raises(ValueError):
        KeySpace(prefix)


@given(
    tag=st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="{}"),
        min_size=1,
        max_size=20,
    ),
    a=st.text(max_size=20),
    b=st.text(max_size=20),
)
def test_keys_with_one_tag_share_a_cluster_slot(tag: str, a: str, b: str) -> None:
    """Keys built with the same tag hash to one Cluster slot whatever follows (no CROSSSLOT)."""
    keys = KeySpace("beacon")
    assert key_slot(keys.key(tag, a).encode()) == key_slot(keys.key(tag, b).encode())
