"""Per-key rate limits, in this process or in Redis so replicas share them: the server's limit
(a token bucket per key) and a key's own ``rate_limit`` (at most that many requests in any
sliding minute)."""

from __future__ import annotations

import collections
import math
import threading
import time
import uuid
from typing import Protocol

from pictograph.errors import RateLimitError
from pictograph.server.settings import RateLimit

#: The window a key's own ``rate_limit`` counts requests in.
WINDOW_SECONDS = 60.0


class RateLimiter(Protocol):
    def wait_needed(self, bucket: str) -> float:
        """Take one token from ``bucket`` under the server's limit; 0 when allowed (or when the
        server sets no limit), else seconds until one is free."""
        ...

    def window_wait(self, bucket: str, per_minute: int) -> float:
        """Count one request of ``bucket`` if fewer than ``per_minute`` were counted in the last
        minute (0); else the seconds until the oldest of them leaves the window."""
        ...


def check(limiter: RateLimiter | None, bucket: str, per_minute: int | None = None) -> None:
    """Raise ``RateLimitError`` (with ``retry_after``) when ``bucket`` is over its key's own
    limit (``per_minute``) or out of the server's tokens."""
    if limiter is None:
        return
    wait = limiter.window_wait(bucket, per_minute) if per_minute else 0.0
    if wait <= 0:
        wait = limiter.wait_needed(bucket)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimitError(
            f"rate limit exceeded for this API key; retry after {seconds} s",
            retry_after=float(seconds),
        )


class MemoryRateLimiter:
    """Token buckets and windows in this process: right for one server process."""

    def __init__(self, limit: RateLimit | None) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._windows: dict[str, collections.deque[float]] = {}

    def window_wait(self, bucket: str, per_minute: int) -> float:
        with self._lock:
            moment = time.monotonic()
            seen = self._windows.setdefault(bucket, collections.deque())
            while seen and seen[0] <= moment - WINDOW_SECONDS:
                seen.popleft()
            if len(seen) < per_minute:
                seen.append(moment)
                return 0.0
            return seen[len(seen) - per_minute] + WINDOW_SECONDS - moment

    def wait_needed(self, bucket: str) -> float:
        if self.limit is None:
            return 0.0
        with self._lock:
            now = time.monotonic()
            tokens, then = self._buckets.get(bucket, (float(self.limit.burst), now))
            tokens = min(float(self.limit.burst), tokens + (now - then) * self.limit.per_second)
            if tokens >= 1:
                self._buckets[bucket] = (tokens - 1, now)
                return 0.0
            self._buckets[bucket] = (tokens, now)
            return (1 - tokens) / self.limit.per_second


# One atomic step of a token bucket, timed by the Redis server's clock so replicas agree.
_BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


# One atomic step of a sliding window: the request times of the last minute in a sorted set.
_WINDOW_SCRIPT = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], -limit, -limit, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


class RedisRateLimiter:
    """Token buckets and windows in Redis: every replica pointed at the same Redis shares
    each limit."""

    def __init__(self, limit: RateLimit | None, redis_url: str) -> None:
        import redis

        self.limit = limit
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=5)
        self._script = self._redis.register_script(_BUCKET_SCRIPT)
        self._window = self._redis.register_script(_WINDOW_SCRIPT)

    def window_wait(self, bucket: str, per_minute: int) -> float:
        result = self._window(
            keys=[f"pictograph:window:{bucket}"],
            args=[per_minute, WINDOW_SECONDS, uuid.uuid4().hex],
        )
        return float(result.decode() if isinstance(result, bytes) else result)

    def wait_needed(self, bucket: str) -> float:
        if self.limit is None:
            return 0.0
        result = self._script(
            keys=[f"pictograph:ratelimit:{bucket}"],
            args=[self.limit.per_second, self.limit.burst],
        )
        return float(result.decode() if isinstance(result, bytes) else result)


def open_rate_limiter(limit: RateLimit | None, redis_url: str | None) -> RateLimiter:
    """The limiter the settings ask for: Redis-backed, or in-process. It always exists, since a
    key may carry a limit of its own when the server sets none."""
    if redis_url:
        return RedisRateLimiter(limit, redis_url)
    return MemoryRateLimiter(limit)
