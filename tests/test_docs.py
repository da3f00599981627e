"""The README and docs/ stay true to the code: short, linked, and naming only what exists.

A newcomer reads README.md first, so it stays under 250 lines and says what the product is,
not the history of the work (that is in git). Every relative link, every file path and every
``tracker.*`` dotted name in README.md and docs/*.md must point at something that exists, every
test named must exist, and every setting the code reads must be in the README's table.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tracker.care.auth import CONFIG_DEFAULTS as SIGN_IN_DEFAULTS
from tracker.core.config import defaults
from tracker.web.rate_limits import CONFIG_DEFAULTS as LIMIT_DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
SCREENSHOTS = ("docs/images/patient-today.png", "docs/images/care-triage.png")
MAX_README_LINES = 250
MAX_IMAGE_BYTES = 300_000

# Words of a work diary: rounds of work, what changed since, how it used to be.
README_DIARY = re.compile(
    r"\bround \d|\bround (?:one|two|three|four|five)\b|\bthis round\b|what changed|"
    r"targets? not met|\bpreviously\b|\bused to\b|\bno longer\b|before this change|"
    r"\bissue \d|\bnow (?:does|is|has)\b",
    re.IGNORECASE,
)
DOCS_DIARY = re.compile(
    r"\bround \d|\bthis round\b|what changed|\bpreviously\b|before this change|\bissue \d",
    re.IGNORECASE,
)

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)|\bsrc=\"([^\"]+)\"")
# A repository path: one of the project's folders, then path characters.
PATH = re.compile(
    r"(?<![\w/.<-])((?:tracker|tests|benchmarks|schedules|migrations|docs)/[\w./-]*)"
)
# Folders the docs name that exist only once something has run.
MADE_AT_RUN_TIME = {"benchmarks/results/"}
DOTTED = re.compile(r"(?<![\w\"'./-])tracker(?:\.\w+)+")
TEST_NAME = re.compile(r"`(test_\w+)`")
TEST_FILE = re.compile(r"(?<![\w/])(test_\w+\.py)\b")
SETTING = re.compile(r"`(TRACKER_\w+)`")
SETTING_SUFFIX = re.compile(r"`(_[A-Z][A-Z_]*)`")
# Flask-Limiter options the app sets for itself; not operator settings.
INTERNAL_SETTINGS = {
    "RATELIMIT_HEADERS_ENABLED",
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED",
    "RATELIMIT_SWALLOW_ERRORS",
}
# Variables the docs name for the test suite, the benchmarks and the screenshots.
TOOLING_SETTINGS = {
    "TRACKER_TESTING",  # named because it is refused
    "TRACKER_TEST_POSTGRES_URL",
    "TRACKER_TEST_REDIS_URL",
    "TRACKER_TEST_CHROMIUM",
    "TRACKER_BENCH_POSTGRES_URL",
}


def shown(page: Path) -> str:
    return str(page.relative_to(ROOT))


def headings(page: Path) -> set[str]:
    """GitHub's anchors for the page's headings."""
    anchors = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def test_the_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < MAX_README_LINES, f"README.md has {len(lines)} lines"


def test_the_readme_tells_no_history():
    found = [
        f"line {n}: {line.strip()}"
        for n, line in enumerate(README.read_text(encoding="utf-8").splitlines(), start=1)
        if README_DIARY.search(line)
    ]
    assert found == []


@pytest.mark.parametrize("page", DOCS, ids=shown)
def test_the_docs_tell_no_history(page):
    text = page.read_text(encoding="utf-8")
    assert [m.group(0) for m in DOCS_DIARY.finditer(text)] == []


def test_the_diary_check_catches_diary_words():
    for line in ("Round 4 figures", "### What changed, and why", "Targets not met"):
        assert README_DIARY.search(line), line
    assert not README_DIARY.search("three rounds of 4 s; the median round is reported")


@pytest.mark.parametrize("page", PAGES, ids=shown)
def test_every_relative_link_points_at_a_file_that_exists(page):
    broken = []
    for match in LINK.finditer(page.read_text(encoding="utf-8")):
        target = match.group(1) or match.group(2)
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto:
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in headings(resolved):
            broken.append(f"{target} (no such heading)")
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=shown)
def test_every_path_named_exists(page):
    missing = []
    for match in PATH.finditer(page.read_text(encoding="utf-8")):
        name = match.group(1).rstrip(".")
        if name in MADE_AT_RUN_TIME:
            continue
        if not (ROOT / name).exists():
            missing.append(name)
    assert missing == []


def _resolves(dotted: str) -> bool:
    """``tracker.a.b.name.attr``: the longest module prefix exists and names the rest."""
    parts = dotted.split(".")
    for cut in range(len(parts), 1, -1):
        base = ROOT.joinpath(*parts[:cut])
        module = base.with_suffix(".py")
        if not module.exists():
            module = base / "__init__.py"
        if module.exists():
            source = module.read_text(encoding="utf-8")
            return all(re.search(rf"\b{re.escape(p)}\b", source) for p in parts[cut:])
    return False


@pytest.mark.parametrize("page", PAGES, ids=shown)
def test_every_dotted_tracker_name_exists(page):
    text = page.read_text(encoding="utf-8")
    assert [m.group(0) for m in DOTTED.finditer(text) if not _resolves(m.group(0))] == []


def test_the_dotted_name_check_catches_an_old_module():
    assert _resolves("tracker.app.wsgi")
    assert _resolves("tracker.web.input_rules.refuse_control_characters")
    assert not _resolves("tracker.reminder_delivery")
    assert not _resolves("tracker.core.db.no_such_function")


def _test_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.update(re.findall(r"^\s*def (test_\w+)", path.read_text(encoding="utf-8"), re.M))
    return names


@pytest.mark.parametrize("page", PAGES, ids=shown)
def test_every_test_named_exists(page):
    text = page.read_text(encoding="utf-8")
    names = _test_names()
    files = {p.name for p in (ROOT / "tests").rglob("test_*.py")}
    missing = [n for n in TEST_NAME.findall(text) if n not in names]
    missing += [f for f in TEST_FILE.findall(text) if f not in files]
    assert missing == []


def _documented_settings(text: str) -> set[str]:
    """Settings named in the text; ``_X`` after a full name on the same line means that
    name's prefix with ``_X`` (``TRACKER_SMTP_HOST``, ``_PORT``: ``TRACKER_SMTP_PORT``)."""
    found: set[str] = set()
    for line in text.splitlines():
        full = SETTING.findall(line)
        found.update(full)
        for suffix in SETTING_SUFFIX.findall(line):
            for name in full:
                pieces = name.split("_")
                found.update("_".join(pieces[:k]) + suffix for k in range(1, len(pieces)))
    return found


def test_every_setting_the_code_reads_is_in_the_readme():
    readme = _documented_settings(README.read_text(encoding="utf-8"))
    keys = {*defaults("instance"), *SIGN_IN_DEFAULTS, *LIMIT_DEFAULTS} - INTERNAL_SETTINGS
    assert sorted(f"TRACKER_{k}" for k in keys if f"TRACKER_{k}" not in readme) == []


def test_every_setting_named_in_the_docs_is_read_by_the_code():
    code = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("tracker", "tests", "benchmarks", "docs")
        for path in (ROOT / folder).rglob("*.py")
    )
    named = {m for page in PAGES for m in SETTING.findall(page.read_text(encoding="utf-8"))}
    unknown = [
        name
        for name in sorted(named - TOOLING_SETTINGS)
        if not re.search(rf"[\"']{name.removeprefix('TRACKER_')}[\"']", code)
    ]
    assert unknown == []


def test_the_readme_map_has_a_line_for_every_area():
    """Every area of the code's own map (tracker/__init__.py) has its line in the README's."""
    code_map = ast.get_docstring(ast.parse((ROOT / "tracker" / "__init__.py").read_text()))
    areas = re.findall(r"^\s*(?:\d+\.)?\s*``(\w+)``", code_map or "", re.M)
    readme = README.read_text(encoding="utf-8")
    assert len(areas) >= 10
    assert [a for a in areas if not re.search(rf"^  {a}/ ", readme, re.M)] == []


def test_every_module_the_readme_map_names_is_in_its_area():
    missing, area = [], None
    for line in README.read_text(encoding="utf-8").splitlines():
        start = re.match(r"  (\w+)/ ", line)
        if start:
            area = start.group(1)
        elif not line.startswith("    "):
            area = None  # the map's next top-level folder, or the end of the block
        if area is not None:
            for module in re.findall(r"\b(\w+\.py)\b", line):
                if not (ROOT / "tracker" / area / module).exists():
                    missing.append(f"{area}/{module}")
    assert missing == []


def test_the_readme_shows_both_sides_and_the_screenshots_are_small():
    readme = README.read_text(encoding="utf-8")
    for image in SCREENSHOTS:
        assert image in readme
        size = (ROOT / image).stat().st_size
        assert size < MAX_IMAGE_BYTES, f"{image} is {size} bytes"
