"""How the packages depend on each other: no import cycles, and production never loads evals/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def runtime_imports(path: Path) -> set[str]:
    """The modules a file imports when it runs (``if TYPE_CHECKING:`` blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for child in block.body
        for node in ast.walk(child)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def module_graph(package: str) -> dict[str, set[str]]:
    root = REPO / package
    modules = {
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): path
        for path in root.rglob("*.py")
    }
    return {
        name: {target for target in runtime_imports(path) if target in modules and target != name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_service_modules_import_no_cycle() -> None:
    """No chain of runtime imports in service/ leads back to where it started (pipeline,
    resilience and observability included)."""
    graph = module_graph("service")
    assert "service.pipeline.plan" in graph and "service.resilience.fallback" in graph
    assert find_cycle(graph) is None


def test_resilience_never_imports_the_pipeline() -> None:
    """The resilience layer works on providers and plain values: it does not know the pipeline."""
    graph = module_graph("service")
    offenders = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("service.resilience")
        for target in targets
        if target.startswith("service.pipeline")
    }
    assert offenders == set()


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a two-module loop is reported."""
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_serving_never_imports_evals() -> None:
    """``beacon serve``'s path (the CLI, the app, the lifespan's resources) loads no evals/."""
    script = (
        "import sys, uvicorn\n"
        "uvicorn.run = lambda app, **_: None\n"
        "import service.cli\n"
        "service.cli.main(['serve', '--port', '0'])\n"
        "print(sorted(m for m in sys.modules if m == 'evals' or m.startswith('evals.')))\n"
    )
    env_free = {"PATH": "/usr/bin:/bin", "BEACON_RETRIEVAL__BUILD_IF_MISSING": "false"}
    finished = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, env=env_free
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert finished.stdout.strip().splitlines()[-1] == "[]"
