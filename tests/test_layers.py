"""The house's one-way layers (docs/architecture.md): every import, at any depth, points down.

An AST walk over every module of ``longvid`` and ``cli`` (``longvid_cli``): imports inside
functions count too, so a lazy import cannot hide a layer violation.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Top to bottom. A module may import its own layer's modules and any layer below.
LAYERS = [
    ["longvid_cli"],
    ["longvid.distributed"],
    ["longvid.engine"],
    ["longvid.pipeline"],
    ["longvid.agent"],
    ["longvid.recall"],
    ["longvid.memory"],
    ["longvid.models"],
    ["longvid.media"],
    ["longvid.plan", "longvid.timeline", "longvid.config", "longvid.errors", "longvid.crashes",
     "longvid.progress", "longvid.words"],
]  # fmt: skip


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in (("longvid", ROOT / "longvid"), ("longvid_cli", ROOT / "cli")):
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def _imports(name: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return {i for i in out if i.split(".")[0] in ("longvid", "longvid_cli")}


def _layer(module: str) -> int | None:
    for depth, names in enumerate(LAYERS):
        if any(module == n or module.startswith(n + ".") for n in names):
            return depth
    return None


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in _modules() if m not in ("longvid", "longvid.__main__") and _layer(m) is None]
    assert unplaced == [], f"add these to LAYERS in tests/test_layers.py: {unplaced}"


def test_imports_point_down() -> None:
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        here = _layer(name)
        if here is None:  # the package root: lazy re-exports of the public API
            continue
        for target in _imports(name, path):
            there = _layer(target)
            if there is not None and there < here:
                wrong.append(f"{name} imports {target}")
    assert wrong == [], "imports against the layer order:\n" + "\n".join(sorted(wrong))


def test_no_import_cycle_between_packages_or_modules() -> None:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for target in _imports(name, path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                targets.add(target)
        graph[name] = targets
    packages: dict[str, set[str]] = {}
    for name, targets in graph.items():
        own = _package(name)
        packages.setdefault(own, set()).update(_package(t) for t in targets if _package(t) != own)
    assert _cycle(packages) is None, f"packages import each other: {_cycle(packages)}"
    assert _cycle(graph) is None, f"modules import each other: {_cycle(graph)}"


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "longvid" and len(parts) > 2 else parts[0] if parts[0] == "longvid_cli" else module


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_front_ends_do_not_wire() -> None:
    """The CLI, MCP server and Ray tasks load no model and open no memory by themselves."""
    wiring = {"longvid.models.registry", "longvid.memory.library.open_memory", "longvid.config.setting",
              "longvid.pipeline.index.load_index_models"}  # fmt: skip
    modules = _modules()
    wrong = [f"{name} imports {t}" for name, path in modules.items()
             if _layer(name) is not None and _layer(name) <= 1  # type: ignore[operator]
             for t in _imports(name, path) if t in wiring]  # fmt: skip
    assert wrong == [], "front ends must go through longvid.engine:\n" + "\n".join(sorted(wrong))


def test_every_package_is_installed() -> None:
    """pyproject.toml lists packages by hand: a new folder must be added there too."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {"longvid." + ".".join(p.parent.relative_to(ROOT / "longvid").parts)
               for p in (ROOT / "longvid").rglob("__init__.py")}  # fmt: skip
    folders = {f.rstrip(".") for f in folders} | {"longvid_cli"}
    assert folders <= listed, f"add to pyproject.toml packages: {sorted(folders - listed)}"
