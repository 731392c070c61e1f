"""The layout shows the flow (docs/architecture.md): every module of ``pipelines/`` and ``assets/``
imports only from its own stage or the stages below it, and no two modules import each other,
directly or round a loop. The imports are read from the source (every ``import`` statement,
those inside functions included), so a lazy import cannot hide a backward dependency."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top. ``normalize`` is the vocabulary every stage speaks (typed facts, exact amounts,
# the catalogue, the frames' schemas); data flows read → recognize → normalize → validate →
# publish, and each stage's code builds on the ones below it.
LAYERS = ("normalize", "read", "recognize", "validate", "parse", "publish", "run", "assets", "cli")
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    files = [*ROOT.glob("pipelines/**/*.py"), *ROOT.glob("assets/**/*.py")]
    return {module_name(p): p for p in files if "__pycache__" not in p.parts}


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] == "assets":
        return LAYERS.index("assets")
    if len(parts) == 1:  # the ``pipelines`` package itself
        return None
    return LAYERS.index(parts[1])


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports (``from pkg import module`` counts as the module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names
            ]
        else:
            continue
        found |= {n for n in names if n in modules}
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {m: imports_of(p, modules) - {m} for m, p in modules.items()}


def test_every_module_belongs_to_a_stage():
    unplaced = [m for m in project_modules() if m != "pipelines" and layer_of(m) is None]
    assert not unplaced


def test_no_module_imports_from_a_later_stage():
    backward = [
        f"{m} ({LAYERS[layer_of(m)]}) imports {d} ({LAYERS[layer_of(d)]})"
        for m, deps in import_graph().items()
        for d in deps
        if layer_of(m) is not None and layer_of(d) is not None and layer_of(d) > layer_of(m)
    ]
    assert not backward, "\n".join(sorted(backward))


def test_there_is_no_import_cycle():
    graph = import_graph()
    # Tarjan's strongly connected components: a component of more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_the_checker_sees_real_imports():
    """The graph is not empty by accident: known edges of the flow are in it."""
    graph = import_graph()
    assert "pipelines.read.dispatch" in graph["pipelines.parse"]
    assert "pipelines.validate.rules" in graph["pipelines.parse"]
    assert "pipelines.normalize.facts" in graph["pipelines.recognize.table_facts"]
    assert "pipelines.publish.gate" in graph["assets.facts"]
    assert not any(d.startswith("pipelines.validate") for m, ds in graph.items() if ".recognize." in m for d in ds)


def test_long_modules_say_why():
    long = []
    for m, p in project_modules().items():
        text = p.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if len(text.splitlines()) > MAX_LINES and "over 500 lines" not in doc.lower():
            long.append(f"{m}: {len(text.splitlines())} lines")
    assert not long, long
