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
