"""The global concurrency limit and its FIFO queue, shared by every replica.

Two sorted sets under one hash tag (one Cluster slot): ``held`` maps a request's ticket to its
lease expiry, ``queue`` maps a waiting ticket to when it joined. One Lua script decides
atomically: a ticket enters when its place in the queue is within the free slots (so nobody
overtakes the queue), else it keeps (or takes) its place, else the queue is full.

A replica that dies holding slots cannot free them: leases expire after ``lease_s`` (longer than
any request may run), and queue places after ``max_wait_s`` plus a margin, so a crash costs
capacity for a bounded time only. Waiters poll the script every ``poll_s``.
"""

from __future__ import annotations

from redis.asyncio import Redis

from service.errors import Overloaded
from service.state.connection import KeySpace
from service.state.health import StateHealth

# KEYS: held, queue. ARGV: ticket, limit, lease_ms, max_queue, stale_queue_ms.
# Returns 0 when admitted, the queue position (>= 1) while waiting, -1 when the queue is full.
ENTER = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ticket, limit = ARGV[1], tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[5]))
local free = limit - redis.call('ZCARD', KEYS[1])
local rank = redis.call('ZRANK', KEYS[2], ticket)
if rank == false then
  if free > redis.call('ZCARD', KEYS[2]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ticket)
    return 0
  end
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return -1 end
  redis.call('ZADD', KEYS[2], now, ticket)
  rank = redis.call('ZRANK', KEYS[2], ticket)
end
if rank < free then
  redis.call('ZREM', KEYS[2], ticket)
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ticket)
  return 0
end
return rank + 1
"""


class SharedSlots:
    def __init__(
        self,
        redis: Redis,
        keys: KeySpace,
        health: StateHealth,
        *,
        limit: int,
        max_queue: int,
        max_wait_s: float,
        lease_s: float,
        retry_after_s: float,
    ) -> None:
        self.limit = limit
        self.max_queue = max_queue
        self.max_wait_s = max_wait_s
        self.lease_s = lease_s
        self.retry_after_s = retry_after_s
        self._redis = redis
        self._health = health
        self._held = keys.key("slots", "held")
        self._queue = keys.key("slots", "queue")
        self._enter = redis.register_script(ENTER)

    async def enter(self, ticket: str) -> int:
        """0: admitted; n >= 1: waiting at position n (call again to re-check).
        Raises ``Overloaded`` when the shared queue is full."""
        args: list[str | int] = [
            ticket,
            self.limit,
            int(self.lease_s * 1000),
            self.max_queue,
            int((self.max_wait_s + 5) * 1000),
        ]
        async with self._health.call("slots"):
            place = int(await self._enter(keys=[self._held, self._queue], args=args))
        if place < 0:
            raise Overloaded(retry_after_s=self.retry_after_s)
        return place

    async def release(self, ticket: str) -> None:
        """Give the slot (or the queue place) back; safe to call for either, or twice."""
        async with self._health.call("slots"), self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._held, ticket)
            pipe.zrem(self._queue, ticket)
            await pipe.execute()

    async def in_use(self) -> int:
        async with self._health.call("slots"):
            return int(await self._redis.zcard(self._held))
