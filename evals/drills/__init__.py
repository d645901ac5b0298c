"""Fault-injection drills: named failures, real processes, and a reconciliation."""
