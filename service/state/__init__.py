"""Shared state for replicas: Redis backends behind the same seams as the in-process ones.

The embedded default keeps everything in process (and conversations in SQLite); with
``BEACON_STATE__BACKEND=redis`` each feature moves to Redis and degrades as documented in its
module when Redis is down or slow (``health.py``).
"""
