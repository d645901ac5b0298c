"""Admission control: API keys, per-key rate limits, a concurrency limit and a bounded queue."""

from service.admission.caller import Caller
from service.admission.control import Admission
from service.admission.gate import QueueTimeout, Ticket
from service.admission.keys import hash_api_key

__all__ = ["Admission", "Caller", "QueueTimeout", "Ticket", "hash_api_key"]
