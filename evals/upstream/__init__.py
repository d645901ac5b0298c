"""An OpenAI-compatible upstream simulator for offline tests, fault drills and benchmarks.

Run it with ``python -m evals.upstream --port 8100`` (or ``beacon upstream``), start it from
Python with :func:`start_simulator`, or serve :func:`create_app` yourself.
"""

from evals.upstream.app import create_app
from evals.upstream.config import Fault, Mode, SimulatorConfig
from evals.upstream.process import SimulatorProcess, start_simulator
from evals.upstream.server import run

__all__ = [
    "Fault",
    "Mode",
    "SimulatorConfig",
    "SimulatorProcess",
    "create_app",
    "run",
    "start_simulator",
]
