"""Per-key rate limits: token buckets in this process, or in Redis so replicas share them."""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

from pictograph.errors import RateLimitError
from pictograph.server.settings import RateLimit


class RateLimiter(Protocol):
    def wait_needed(self, bucket: str) -> float:
        """Take one token from ``bucket``; 0 when allowed, else seconds until one is free."""
        ...


def check(limiter: RateLimiter | None, bucket: str) -> None:
    """Raise ``RateLimitError`` (with ``retry_after``) when ``bucket`` is out of tokens."""
    if limiter is None:
        return
    wait = limiter.wait_needed(bucket)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimitError(
            f"rate limit exceeded for this API key; retry after {seconds} s",
            retry_after=float(seconds),
        )


class MemoryRateLimiter:
    """Token buckets in this process: right for one server process."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def wait_needed(self, bucket: str) -> float:
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


class RedisRateLimiter:
    """Token buckets in Redis: every replica pointed at the same Redis shares each limit."""

    def __init__(self, limit: RateLimit, redis_url: str) -> None:
        import redis

        self.limit = limit
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=5)
        self._script = self._redis.register_script(_BUCKET_SCRIPT)

    def wait_needed(self, bucket: str) -> float:
        result = self._script(
            keys=[f"pictograph:ratelimit:{bucket}"],
            args=[self.limit.per_second, self.limit.burst],
        )
        return float(result.decode() if isinstance(result, bytes) else result)


def open_rate_limiter(limit: RateLimit | None, redis_url: str | None) -> RateLimiter | None:
    """The limiter the settings ask for: none, Redis-backed, or in-process."""
    if limit is None:
        return None
    if redis_url:
        return RedisRateLimiter(limit, redis_url)
    return MemoryRateLimiter(limit)
