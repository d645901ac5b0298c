"""Resilience: deadlines, retries, circuit breakers and the fallback chain, around any provider."""
