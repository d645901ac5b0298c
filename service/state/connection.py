"""One bounded Redis connection pool per process, and the key names every backend uses.

Standalone (``redis://``, ``rediss://``, ``unix://``) and Sentinel
(``redis+sentinel://host:port[,host:port...]/service_name[/db]``) URLs both work. Every call has
a socket timeout, so a slow Redis costs a request a bounded wait, never a stall.

Keys are ``{prefix}:{hash tag}:rest``. A hash tag (the part in braces) decides the Redis
Cluster slot, so keys one script touches together share a tag and never raise ``CROSSSLOT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.sentinel import Sentinel
from redis.maint_notifications import MaintNotificationsConfig

SENTINEL_SCHEME = "redis+sentinel"
NO_MAINT_NOTIFICATIONS = MaintNotificationsConfig(enabled=False)


@dataclass(frozen=True, slots=True)
class RedisOptions:
    url: str
    max_connections: int = 32
    timeout_s: float = 0.25  # every command, connect included
    pool_wait_s: float = 0.25  # waiting for a free connection when all are busy


@dataclass(frozen=True, slots=True)
class SentinelTarget:
    hosts: tuple[tuple[str, int], ...]
    service_name: str
    db: int
    password: str | None


def parse_sentinel_url(url: str) -> SentinelTarget:
    """``redis+sentinel://[:password@]host:port[,host:port]/service_name[/db]``."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        raise ValueError(f"not a Sentinel URL (expected {SENTINEL_SCHEME}://)")
    credentials, _, hostlist = parts.netloc.rpartition("@")
    password = unquote(credentials.partition(":")[2]) or None if credentials else None
    hosts: list[tuple[str, int]] = []
    for item in hostlist.split(","):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("each Sentinel address needs host:port")
        hosts.append((host, int(port)))
    path = [segment for segment in parts.path.split("/") if segment]
    if not path:
        raise ValueError("a Sentinel URL names the monitored service: .../service_name[/db]")
    db = int(path[1]) if len(path) > 1 and path[1].isdigit() else 0
    return SentinelTarget(tuple(hosts), path[0], db, password)


def connect(options: RedisOptions) -> Redis:
    """A client over one bounded pool. Creating it does no I/O; the first command connects.

    The pool checks every idle connection it hands out and reconnects one the server (or the
    network) closed meanwhile. redis-py skips that check when maintenance notifications are on
    (its default with RESP3), and after a Redis restart each pooled connection then failed its
    next command: one more failure, and one more cooldown of degraded answers, per connection.
    """
    if options.url.startswith(f"{SENTINEL_SCHEME}://"):
        return _connect_sentinel(options)
    pool = BlockingConnectionPool.from_url(
        options.url,
        max_connections=options.max_connections,
        timeout=options.pool_wait_s,
        socket_timeout=options.timeout_s,
        socket_connect_timeout=options.timeout_s,
        health_check_interval=30,
        maint_notifications_config=NO_MAINT_NOTIFICATIONS,
    )
    return Redis(connection_pool=pool)


def _connect_sentinel(options: RedisOptions) -> Redis:
    target = parse_sentinel_url(options.url)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(target.hosts),
        socket_timeout=options.timeout_s,
        socket_connect_timeout=options.timeout_s,
        sentinel_kwargs={"socket_timeout": options.timeout_s},
    )
    client: Redis = sentinel.master_for(
        target.service_name,
        db=target.db,
        password=target.password,
        max_connections=options.max_connections,
        socket_timeout=options.timeout_s,
        socket_connect_timeout=options.timeout_s,
        maint_notifications_config=NO_MAINT_NOTIFICATIONS,
    )
    return client


class KeySpace:
    """Names keys ``{prefix}:{tag}:parts``; keys sharing ``tag`` share a Cluster slot."""

    def __init__(self, prefix: str) -> None:
        if not prefix or any(char in prefix for char in "{}: \n"):
            raise ValueError("a key prefix is a plain word such as 'beacon' or 'beacon-prod'")
        self.prefix = prefix

    def key(self, tag: str, *parts: str) -> str:
        return ":".join((self.prefix, "{" + tag + "}", *parts))
