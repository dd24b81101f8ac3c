"""Fault suite: server kills, a fault-injecting proxy, concurrent uploaders, 429 storms."""
