"""The package graph: imports run one way (ARCHITECTURE.md). Read from the source with `ast`, so a lazy
import inside a function counts as much as one at the top; imports under `if TYPE_CHECKING:` do not run and
are left out."""

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "photochanger"

# The composition roots: they wire every room together, so they may import anything and nothing imports them.
ROOTS = {"__init__", "__main__", "app", "bootstrap", "cli"}
# Build tools that read the whole app (message extraction walks every template and route).
TOOLS = {"i18n/extract.py"}

# Package -> the only packages it may import (besides itself). The low layer of every room.
ONLY = {
    "core": set[str](),
    "models": {"core"},
    "config": {"core"},
    "providers": {"core"},
    "i18n": {"core", "config"},
    "auth": {"core", "models", "config"},
    "jobs": {"core", "models"},
    "eventpage": {"core", "models", "jobs"},
    "commands": {"core", "config"},
}


@dataclass(frozen=True)
class Import:
    module: str  # path relative to SRC, e.g. "slots/router.py"
    package: str  # importing package ("slots") or root module ("deps")
    target: str  # imported package or root module
    dotted: str  # the full imported name


def _package_of(rel: Path) -> str:
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[str]:
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "photochanger":
                yield from (f"photochanger.{alias.name}" for alias in node.names)
            else:
                yield node.module
        stack.extend(ast.iter_child_nodes(node))


def _imports() -> list[Import]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "migrations":
            continue
        for dotted in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            parts = dotted.split(".")
            if parts[0] != "photochanger" or len(parts) < 2:
                continue
            found.append(Import(rel.as_posix(), _package_of(rel), parts[1], dotted))
    return found


IMPORTS = _imports()


def _between_rooms() -> list[Import]:
    return [i for i in IMPORTS if i.target != i.package and i.package not in ROOTS and i.module not in TOOLS]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_reader_sees_lazy_imports_and_skips_type_checking_blocks() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import photochanger.core.db\n"
        "from photochanger import config\n"
        "if TYPE_CHECKING:\n"
        "    from photochanger.ingest.service import IngestService\n"
        "def f():\n"
        "    from photochanger.events import public\n"
    )
    assert sorted(_runtime_imports(ast.parse(source))) == [
        "photochanger.config",
        "photochanger.core.db",
        "photochanger.events",
        "typing",
    ]


def test_the_cycle_finder_reports_a_loop_and_not_a_chain() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": {"c"}}) == []


def test_no_import_cycle_between_packages() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for i in _between_rooms():
        edges[i.package].add(i.target)
    loops = _cycles(edges)
    detail = {
        " <-> ".join(loop): sorted(
            f"{i.module} -> {i.dotted}" for i in _between_rooms() if i.package in loop and i.target in loop
        )
        for loop in loops
    }
    assert loops == [], detail


@pytest.mark.parametrize("package", sorted(ONLY))
def test_low_layers_import_no_domain(package: str) -> None:
    wrong = sorted(
        f"{i.module} -> {i.dotted}"
        for i in _between_rooms()
        if i.package == package and i.target not in ONLY[package]
    )
    assert wrong == []


def test_nothing_imports_a_composition_root() -> None:
    wrong = sorted(f"{i.module} -> {i.dotted}" for i in _between_rooms() if i.target in ROOTS - {"__init__"})
    assert wrong == []


def _is_router(path: Path) -> bool:
    return "APIRouter(" in path.read_text(encoding="utf-8")


def test_routers_import_no_repository() -> None:
    routers = {p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if _is_router(p)}
    assert "slots/router.py" in routers  # the detection itself works
    wrong = sorted(
        f"{i.module} -> {i.dotted}"
        for i in IMPORTS
        if (i.module in routers and i.dotted.split(".")[-1] == "repository")
        or (i.dotted.endswith(".repository") and i.module in routers)
    )
    assert wrong == []


def test_the_problems_room_names_the_wrong_password_code_ingest_raises() -> None:
    from photochanger.ingest.exceptions import InvalidPassword
    from photochanger.problems.service import WRONG_PASSWORD_CODE

    assert InvalidPassword.code == WRONG_PASSWORD_CODE


def test_a_provider_driver_imports_no_other_driver() -> None:
    """Drivers share code through the shared provider modules (`providers/*.py`), never through each other."""
    drivers = {p.name for p in (SRC / "providers").iterdir() if p.is_dir() and (p / "driver.py").exists()}
    wrong = sorted(
        f"{i.module} -> {i.dotted}"
        for i in IMPORTS
        if i.module.startswith("providers/")
        and (own := i.module.split("/")[1]) in drivers
        and (parts := i.dotted.split("."))[1] == "providers"
        and len(parts) > 3
        and parts[2] in drivers
        and parts[2] != own
    )
    assert drivers >= {"gemini", "gpt_image", "local", "openrouter", "turbotext"}
    assert wrong == []
