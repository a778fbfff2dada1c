"""The package boundaries the README describes hold in the code.

Imports are read with `ast` (every `import` and `from … import`, at any depth, including
those under `TYPE_CHECKING`), so a boundary crossed inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(folder: Path) -> dict[str, set[str]]:
    """Each module under `folder` and the modules it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(folder))] = names
    return found


def _crossings(folder: Path, allowed: tuple[str, ...]) -> list[str]:
    """`module -> import` pairs naming a `bot` or `handlers` module outside `allowed`."""
    crossings = []
    for module, names in _imports(folder).items():
        for name in sorted(names):
            ours = name.split(".")[0] in ("bot", "handlers")
            permitted = any(name == a or name.startswith(f"{a}.") for a in allowed)
            # `from bot.x import y` also yields `bot.x`: judge the longer name alone.
            shorter = any(other.startswith(f"{name}.") for other in names)
            if ours and not permitted and not shorter:
                crossings.append(f"{module} -> {name}")
    return crossings


@pytest.mark.parametrize(
    ("package", "allowed"),
    [
        # Tables and queries: a chat's next due time is stored with the chat, so the
        # timetable's pure arithmetic is the one thing storage takes from another stage.
        ("bot/storage", ("bot.storage", "bot.settings", "bot.briefings.timetable")),
        # The 📖 extraction is pure: HTML in, paragraphs out, with the text helpers it
        # shares with rendering.
        ("bot/fulltext", ("bot.fulltext", "bot.render.plain")),
        # The core never imports the Telegram adapter.
        ("bot", ("bot",)),
    ],
)
def test_a_package_imports_only_what_its_stage_may(package: str, allowed: tuple[str, ...]) -> None:
    assert _imports(ROOT / package), f"{package} holds no module"
    assert _crossings(ROOT / package, allowed) == []


def test_a_crossing_is_seen_inside_a_function_and_under_type_checking(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from bot.render.plain import fold\n"
        "if TYPE_CHECKING:\n"
        "    from bot.storage.models import Chat\n"
        "def f():\n"
        "    import handlers.app\n"
        "    from bot.delivery import sender\n"
    )
    assert _crossings(tmp_path, ("bot.render.plain",)) == [
        "a.py -> bot.delivery.sender",
        "a.py -> bot.storage.models.Chat",
        "a.py -> handlers.app",
    ]


def _module_graph(root: Path, tops: tuple[str, ...]) -> dict[str, set[str]]:
    """Each module of the packages `tops` under `root` and which of them it imports.

    `from bot.ingest import dedup` names the module `bot.ingest.dedup`; a name that is
    no module (a function, a class) stands for the module that defines it.
    """
    paths: dict[str, Path] = {}
    for top in tops:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def module_of(name: str) -> str | None:
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        named: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                named.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                named.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[module] = {m for n in named if (m := module_of(n)) and m != module}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another in a circle (Tarjan's components)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            group = []
            while (top := stack.pop()) != module:
                group.append(top)
            if group:
                circles.append(sorted([module, *group]))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return circles


def test_no_modules_import_one_another_in_a_circle() -> None:
    """A circle, even one under `TYPE_CHECKING`, hides which stage comes first."""
    graph = _module_graph(ROOT, ("bot", "handlers"))
    assert len(graph) > 100
    assert _circles(graph) == []


def test_a_circle_is_seen_through_a_name_and_under_type_checking(tmp_path: Path) -> None:
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "__init__.py").write_text("")
    (tmp_path / "bot" / "a.py").write_text("from bot.b import thing\n")
    (tmp_path / "bot" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot import c\n"
    )
    (tmp_path / "bot" / "c.py").write_text("def f():\n    import bot.a\n")
    (tmp_path / "bot" / "d.py").write_text("from bot.a import x\n")
    assert _circles(_module_graph(tmp_path, ("bot",))) == [["bot.a", "bot.b", "bot.c"]]
