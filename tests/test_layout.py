"""The package layout holds: imports run one way along a page's path and no two modules import each other.

    cli, demo  →  dashboard  →  crawl (+ spiders, Scrapy's settings/middlewares/pipelines)  →  corpus  →  monitor  →  base
    base = crawler.extract, storage, crawler.config, crawler.urls, crawler.minhash (and the package itself)

A module may import its own stage or a later one, never an earlier one; `crawler.extract` imports nothing of
govwatch but itself, `storage` nothing but itself. Every import counts, function-level ones included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crawler", "spiders", "storage")
STAGES = {"cli": 5, "dashboard": 4, "crawl": 3, "corpus": 2, "monitor": 1, "base": 0}
MAX_ROOT_MODULES = 8


def stage(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "spiders" or module in ("crawler.settings", "crawler.middlewares", "crawler.pipelines"):
        return "crawl"
    if parts[0] == "crawler" and len(parts) > 1 and parts[1] in ("cli", "demo"):
        return "cli"
    if parts[0] == "crawler" and len(parts) > 1 and parts[1] == "dashboard":
        return "dashboard"
    if parts[0] == "crawler" and len(parts) > 1 and parts[1] in ("crawl", "corpus", "monitor"):
        return parts[1]
    return "base"


def module_files() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The govwatch modules `module` imports anywhere in its file (relative imports resolved; `from X
    import Y` counts as X.Y when Y is a module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:  # `import crawler.extract.regions as r` → the module itself
                name = name.rpartition(".")[0]
            if name and name != module:
                out.add(name)
    return out


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {module: imports_of(module, path, known) for module, path in files.items()}


def direction_violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if module.startswith("crawler.extract") and not target.startswith("crawler.extract"):
                bad.append(f"{module} -> {target}: crawler.extract imports nothing of govwatch but itself")
            elif module.startswith("storage") and not target.startswith("storage"):
                bad.append(f"{module} -> {target}: storage imports nothing of govwatch but itself")
            elif STAGES[stage(target)] > STAGES[stage(module)]:
                bad.append(f"{module} ({stage(module)}) -> {target} ({stage(target)}): against the direction")
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_imports_run_one_way():
    assert direction_violations(import_graph()) == []


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_walker_sees_real_edges():
    graph = import_graph()
    assert "crawler.corpus.ingest" in graph["crawler.crawl.writer"]  # a function-level import
    assert "crawler.monitor.alerts" in graph["crawler.corpus.ingest"]
    assert "crawler.extract.chrome" in graph["crawler.extract.classify"]  # a relative import
    assert "spiders.adapters.common" in graph["spiders.adapters.pager"]


@pytest.mark.parametrize("edge, expected", [
    (("crawler.monitor.alerts", "crawler.corpus.ingest"), "against the direction"),
    (("crawler.corpus.search", "crawler.crawl.runner"), "against the direction"),
    (("crawler.extract.html", "crawler.config"), "crawler.extract imports nothing"),
    (("storage.db", "crawler.urls"), "storage imports nothing"),
    (("crawler.config", "crawler.monitor.notify"), "against the direction"),
    (("crawler.dashboard.pages", "crawler.cli.common"), "against the direction"),
    (("crawler.corpus.search", "crawler.dashboard.connection"), "against the direction"),
])
def test_a_backward_import_is_reported(edge, expected):
    source, target = edge
    (message,) = direction_violations({source: {target}})
    assert expected in message


def test_a_cycle_is_reported():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_root_holds_scrapy_three_config_and_few_basics():
    root = sorted(p.stem for p in (ROOT / "crawler").glob("*.py") if p.stem != "__init__")
    assert {"settings", "middlewares", "pipelines", "config"} <= set(root)
    assert len(root) <= MAX_ROOT_MODULES, root


def test_every_subpackage_says_what_it_holds_and_may_import():
    for init in sorted((ROOT / "crawler").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert doc, f"{init.relative_to(ROOT)} has no docstring"
        assert "import" in doc, f"{init.relative_to(ROOT)} does not say what it may import"
