"""The areas of ``tracker/`` depend one way: an area imports only the areas below it.

The order is the one in ``tracker/__init__.py``. ``patient`` and ``care`` share a rank and
must not import each other. Imports inside functions count too: a lazy import that reaches
up is still a dependency that reaches up.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

TRACKER = Path(__file__).resolve().parents[1] / "tracker"

# Lowest first; areas on one line are siblings.
LAYERS: list[set[str]] = [
    {"core"},
    {"web"},
    {"plans"},
    {"alerts"},
    {"outcomes"},
    {"reminders"},
    {"escalation"},
    {"texting"},
    {"scheduler"},
    {"patient", "care"},
    {"app"},
    {"cli"},
]
RANK = {area: rank for rank, areas in enumerate(LAYERS) for area in areas}


def area_of(module: str) -> str | None:
    """``tracker.alerts.rules`` -> ``alerts``; the root package and non-tracker -> None."""
    parts = module.split(".")
    if parts[0] != "tracker" or len(parts) < 2:
        return None
    return parts[1]


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every ``tracker`` module a file imports, with the line: ``from tracker.x import y``
    counts ``tracker.x.y`` so that ``from tracker.alerts import rules`` names the area."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "tracker":
                found.extend((node.lineno, f"tracker.{alias.name}") for alias in node.names)
            else:
                found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.split(".")[0] == "tracker"]


def area_files() -> list[tuple[str, Path]]:
    files = []
    for path in sorted(TRACKER.rglob("*.py")):
        relative = path.relative_to(TRACKER)
        if len(relative.parts) > 1:
            files.append((relative.parts[0], path))
    return files


def shown(path: Path) -> str:
    return str(path.relative_to(TRACKER.parent)) if path.is_relative_to(TRACKER) else path.name


def upward_imports(files: list[tuple[str, Path]]) -> list[str]:
    wrong = []
    for area, path in files:
        for line, name in imported_modules(path):
            target = area_of(name)
            if target is None or target == area:
                continue
            if target not in RANK:
                wrong.append(f"{shown(path)}:{line} imports unknown area {name}")
            elif RANK[target] >= RANK[area]:
                wrong.append(
                    f"{shown(path)}:{line} ({area}) imports {name} ({target})"
                )
    return wrong


def test_every_area_is_in_the_order():
    areas = {path.name for path in TRACKER.iterdir() if (path / "__init__.py").exists()}
    assert areas == set(RANK)


def test_every_area_says_what_it_owns_and_may_import():
    for area in RANK:
        doc = ast.get_docstring(ast.parse((TRACKER / area / "__init__.py").read_text()))
        assert doc and "May import" in doc, area


def test_each_docstring_names_exactly_the_areas_below_it():
    """The "May import" line of each area's docstring is the rule this test enforces."""
    for area, rank in RANK.items():
        doc = ast.get_docstring(ast.parse((TRACKER / area / "__init__.py").read_text()))
        said = doc.split("May import:", 1)[1].split(".", 1)[0]
        if "every" in said:  # the top areas: app and cli
            continue
        named = set(re.findall(r"``(\w+)``", said))
        below = {a for a, r in RANK.items() if r < rank}
        assert named == below, (area, sorted(named ^ below))


def test_no_area_imports_one_above_it_or_beside_it():
    assert upward_imports(area_files()) == []


def test_root_modules_are_entry_points_only():
    """Only ``tracker/__init__.py`` (the map) and ``__main__.py`` sit outside an area."""
    assert sorted(p.name for p in TRACKER.glob("*.py")) == ["__init__.py", "__main__.py"]
    assert imported_modules(TRACKER / "__init__.py") == []


@pytest.mark.parametrize(
    ("area", "source", "expected"),
    [
        ("core", "from tracker.plans import agenda\n", "(core) imports tracker.plans (plans)"),
        ("patient", "import tracker.care.triage\n", "(patient) imports tracker.care.triage"),
        ("alerts", "def f():\n    from tracker import reminders\n", "tracker.reminders"),
        ("plans", "from tracker.nowhere import x\n", "unknown area tracker.nowhere"),
    ],
)
def test_the_check_catches_an_import_that_reaches_up(tmp_path, area, source, expected):
    path = tmp_path / "fake.py"  # checked as if it sat in the area
    path.write_text(source)
    wrong = upward_imports([(area, path)])
    assert len(wrong) == 1 and expected in wrong[0], wrong


def test_the_check_allows_imports_from_below_and_within():
    path = TRACKER / "patient" / "views.py"
    assert any(area_of(name) == "escalation" for _, name in imported_modules(path))
    assert upward_imports([("patient", path)]) == []
