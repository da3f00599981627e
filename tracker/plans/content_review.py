"""The content review sheet: every sentence a patient reads, for a clinician's sign-off.

One sheet per plan template: the template's own file (its title, and each activity's title,
instructions and condition) and every check file in ``schedules/checks/`` (the questions
and guidance the check pages show), each sentence with where it is, the sources it cites
and the file's version. Items the data marks as needing the clinic's confirmation
(``confirm``) or a source (``needs_source``) are flagged.

A clinic's admin approves one *version* of one file (``ContentApproval``), and the
approval also records the SHA-256 of the sentences the sheet showed (the file's
"fingerprint"): a newer version needs a new approval, and text changed without a new
version number is shown as such and cannot be approved until the version is raised, so a
sign-off always names exactly the words patients read. The sheet is read from the files
on disk each time (they are small); the CLI (``tracker templates review``) and the admin
pages (``/coordinator/admin/content``) print the same sheet.

Translations (``translations`` blocks beside the English, plans/translations.py) are not
sentences of the sign-off: the English is, and each translation has its own reviewer in the
file (``reviewed_by``). ``ContentFile.translations`` and ``translation_review`` list every
one with the English it was made from, its translator and reviewer, and "needs review by a
native speaker / clinician" until someone has confirmed it; stale translations (the English
changed since) and missing ones are listed too, as are the message catalogue's entries
marked ``#. reviewed: no`` (clinical wording in tracker/translations/*/messages.po).

Check files are read generically (any text field that is not a known data field is
treated as patient-facing), so a new check file, or a new text field in one, shows up on
the sheet without a change here: a sentence missing from a sign-off sheet is worse than a
data value shown by mistake.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.core.languages import TRANSLATIONS_DIR
from tracker.core.models import ContentApproval
from tracker.plans.templates import TemplateError, load_file
from tracker.plans.translations import (
    META_FIELDS,
    NEEDS_REVIEW,
    english_fields,
    fingerprint,
)
from tracker.web.input_rules import has_control_characters
from tracker.web.time_format import clinic_time

CHECKS_PREFIX = "checks/"
NOTE_MAX_LENGTH = 500
# Data fields, never shown to a patient: left off the sheet. Anything else that is text is
# read as a patient-facing sentence.
DATA_FIELDS = frozenset(
    {
        "id",
        "version",
        "key",
        "kind",
        "action",
        "source",
        "sources",
        "clinician_review",
        "confirm",
        "needs_source",
        "check_in",
        "condition_check_in",
        "procedures",
        "channel",
        # References to other items by key, and notes for the people editing the file.
        "excludes",
        "releases",
        "replaced_by",
        "why",
        # Translations: listed apart (``translation_review``), each with its own reviewer.
        "translations",
    }
)
# A list of items no longer shown to patients, kept so that stored answers still read.
RETIRED_LISTS = frozenset({"retired"})
ACTION_WORDS = {
    "call_911": "a yes means: call 911 now",
    "call_team": "a yes means: call the care team today",
    "none": "a yes is recorded for the care team, no advice shown",
}
# Activity fields in the order a patient meets them (others follow in file order).
ACTIVITY_TEXT_ORDER = ("title", "instructions", "condition")


class ApprovalRefused(ValueError):
    """An approval that cannot be recorded; ``message`` says why, for the admin."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Sentence:
    where: str  # "activity walk: instructions"
    text: str
    context: str = ""  # "days 1-41, task" or "a yes means: call 911 now"
    sources: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TranslationLine:
    """One translated text: a field of an item in a content file, or a catalogue entry."""

    path: str  # "schedules/kyphoplasty.yaml", or the catalogue's .po
    where: str  # "activities walk: instructions", or "catalogue"
    language: str
    english: str
    translated: str
    translator: str
    reviewed_by: str | None
    # current | stale (the English changed since) | missing (no translation) | catalogue
    status: str = "current"
    translated_from: str = ""  # the English's fingerprint it says it was made from
    fingerprint: str = ""  # the English's fingerprint now

    @property
    def needs_review(self) -> bool:
        return self.reviewed_by is None

    @property
    def status_words(self) -> str:
        if self.status == "missing":
            return "MISSING: no translation yet; patients read the English"
        if self.status == "stale":
            return (
                f"STALE: translated from other English ({self.translated_from}, the English "
                f"now is {self.fingerprint}); patients read the English until it is redone"
            )
        if self.reviewed_by:
            return f"reviewed by {self.reviewed_by}"
        return NEEDS_REVIEW


@dataclass(frozen=True)
class ContentFile:
    content_id: str  # a plan template's id, or "checks/<id>"
    kind: str  # "plan" | "check"
    path: str  # as shown: "schedules/kyphoplasty.yaml"
    title: str
    version: int | None
    sentences: tuple[Sentence, ...]
    notes: tuple[str, ...] = ()  # about the whole file: its source, its review status
    flags: tuple[str, ...] = ()  # the whole file needs the clinic's confirmation
    # Its translations, each with its reviewer (not part of the English sign-off's digest).
    translations: tuple[TranslationLine, ...] = ()

    @property
    def digest(self) -> str:
        """SHA-256 of what patients read (and what a yes means): the approval's fingerprint."""
        material = [[s.where, s.text, s.context] for s in self.sentences]
        encoded = json.dumps(material, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()

    @property
    def flagged(self) -> int:
        return sum(1 for s in self.sentences if s.flags) + (1 if self.flags else 0)


@dataclass(frozen=True)
class ApprovalState:
    """One file's sign-off at a clinic (or, with no clinic, anywhere)."""

    status: str  # approved | not_approved | changed | no_version
    # Approvals of this very version and text (several only across clinics).
    current: tuple[ContentApproval, ...] = ()
    # Every approval of the file, newest first.
    history: tuple[ContentApproval, ...] = ()

    @property
    def approved(self) -> bool:
        return self.status == "approved"


# --- reading the files ---------------------------------------------------------------------


def _text(value: str) -> str:
    return " ".join(value.split())


def _display_path(path: Path, schedules_dir: Path) -> str:
    try:
        return str(path.relative_to(schedules_dir.parent))
    except ValueError:
        return str(path)


def _flags(item: dict[str, Any]) -> tuple[str, ...]:
    """What the data says a clinician must settle for ``item`` (read with .get: optional)."""
    flags = []
    for name, words in (
        ("confirm", "The clinic must confirm this"),
        ("needs_source", "Needs a source"),
    ):
        value = item.get(name)
        if isinstance(value, str) and value.strip():
            flags.append(f"{words}: {_text(value)}")
        elif value:
            flags.append(f"{words}.")
    return tuple(flags)


def _sources(item: dict[str, Any], known: dict[str, Any]) -> tuple[str, ...]:
    raw = item.get("source")
    keys = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    found = []
    for key in keys:
        if not isinstance(key, str):
            continue
        described = known.get(key)
        found.append(f"{key}: {_text(described)}" if isinstance(described, str) else key)
    return tuple(found)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TemplateError(str(path), "is not valid YAML") from exc
    except OSError as exc:
        raise TemplateError(str(path), f"cannot be read ({exc.strerror})") from exc


def _version(raw: dict[str, Any]) -> int | None:
    value = raw.get("version")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _walk(
    value: Any,
    where: str,
    *,
    context: str,
    sources: tuple[str, ...],
    flags: tuple[str, ...],
    keys: frozenset[str] = frozenset(),
) -> Iterable[Sentence]:
    """Every patient-facing text in ``value`` (a text, a list or a mapping), in file order;
    a text that is only the key of another item (a reference) is not a sentence."""
    if isinstance(value, str):
        if value.strip() and value.strip() not in keys:
            yield Sentence(where, _text(value), context, sources, flags)
    elif isinstance(value, list):
        for index, item in enumerate(value, start=1):
            label = where
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                label = f"{where} {item['key']}"
            elif len(value) > 1:
                label = f"{where} #{index}"
            yield from _walk(item, label, context=context, sources=sources, flags=flags, keys=keys)
    elif isinstance(value, dict):
        # An item of its own (a sign, a step): its own flags and meaning of a yes.
        item_flags = flags + _flags(value)
        action = value.get("action")
        item_context = context
        if action:
            words = ACTION_WORDS.get(action, f"action: {action}")
            item_context = f"{context}; {words}" if context else words
        for name, inner in value.items():
            if name in DATA_FIELDS or not isinstance(name, str):
                continue
            yield from _walk(
                inner,
                f"{where}: {name}" if where else name,
                context=item_context,
                sources=sources,
                flags=item_flags,
                keys=keys,
            )


def plan_file(schedules_dir: str | Path, template_id: str) -> ContentFile:
    """The review of plan template ``template_id`` (``schedules/<id>.yaml``). Raises
    KeyError for an unknown id, TemplateError for a file that does not load."""
    folder = Path(schedules_dir)
    path = folder / f"{template_id}.yaml"
    if "/" in template_id or "\\" in template_id or not path.is_file():
        raise KeyError(template_id)
    template = load_file(path)  # the same validation the app runs: a broken file says so
    raw = _read_yaml(path)
    known = raw.get("sources") if isinstance(raw.get("sources"), dict) else {}
    sentences = [Sentence("plan title", template.title)]
    keys = frozenset(a.key for a in template.activities)
    for item in raw.get("activities") or []:
        if not isinstance(item, dict):
            continue
        activity = template.activity(item["key"])
        if activity.kind == "appointment":
            days = f"days {activity.start_day}-{activity.end_day}, appointment window"
        else:
            days = f"days {activity.start_day}-{activity.end_day}, {activity.kind}"
        sources = _sources(item, known)
        flags = _flags(item)
        names = [n for n in ACTIVITY_TEXT_ORDER if n in item] + [
            n for n in item if n not in ACTIVITY_TEXT_ORDER
        ]
        for name in names:
            if name in DATA_FIELDS:
                continue
            sentences.extend(
                _walk(
                    item[name],
                    f"activity {activity.key}: {name}",
                    context=days,
                    sources=sources,
                    flags=flags,
                    keys=keys,
                )
            )
    return ContentFile(
        content_id=template.id,
        kind="plan",
        path=_display_path(path, folder),
        title=template.title,
        version=template.version,
        sentences=tuple(sentences),
        notes=_file_notes(raw),
        flags=_flags(raw),
        translations=tuple(translation_lines(raw, _display_path(path, folder))),
    )


def _file_notes(raw: dict[str, Any]) -> tuple[str, ...]:
    notes = []
    if isinstance(raw.get("source"), str):
        notes.append(f"Source: {_text(raw['source'])}")
    if isinstance(raw.get("clinician_review"), str):
        notes.append(f"Review status in the file: {_text(raw['clinician_review'])}")
    return tuple(notes)


def check_file(path: Path, schedules_dir: str | Path) -> ContentFile:
    """The review of one check file (``schedules/checks/*.yaml``), read generically."""
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise TemplateError(str(path), "must be a mapping of fields")
    check_id = raw.get("id") if isinstance(raw.get("id"), str) else path.stem
    known = raw.get("sources") if isinstance(raw.get("sources"), dict) else {}
    keys = frozenset(_item_keys(raw))
    sentences: list[Sentence] = []
    for name, value in raw.items():
        if name in DATA_FIELDS or not isinstance(name, str):
            continue
        context = (
            "retired: no longer asked, shown beside older answers"
            if (name in RETIRED_LISTS)
            else ""
        )
        if isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
            # A list of items (signs): each with its own sources, flags and meaning of a yes.
            for index, item in enumerate(value, start=1):
                label = item.get("key") if isinstance(item.get("key"), str) else f"#{index}"
                sentences.extend(
                    _walk(
                        item,
                        f"{name} {label}",
                        context=context,
                        sources=_sources(item, known),
                        flags=(),
                        keys=keys,
                    )
                )
        else:
            sentences.extend(_walk(value, name, context=context, sources=(), flags=(), keys=keys))
    title = raw.get("title") if isinstance(raw.get("title"), str) else check_id.replace("_", " ")
    return ContentFile(
        content_id=CHECKS_PREFIX + check_id,
        kind="check",
        path=_display_path(path, Path(schedules_dir)),
        title=_text(title),
        version=_version(raw),
        sentences=tuple(sentences),
        notes=_file_notes(raw),
        flags=_flags(raw),
        translations=tuple(translation_lines(raw, _display_path(path, Path(schedules_dir)))),
    )


def _item_keys(value: Any) -> Iterable[str]:
    """Every item key in a check file (what other items refer to)."""
    if isinstance(value, dict):
        if isinstance(value.get("key"), str):
            yield value["key"]
        for inner in value.values():
            yield from _item_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _item_keys(inner)


def check_files(schedules_dir: str | Path) -> list[ContentFile]:
    folder = Path(schedules_dir) / "checks"
    if not folder.is_dir():
        return []
    return [check_file(path, schedules_dir) for path in sorted(folder.glob("*.yaml"))]


def plan_ids(schedules_dir: str | Path) -> list[str]:
    return sorted(path.stem for path in Path(schedules_dir).glob("*.yaml"))


def review_sheet(schedules_dir: str | Path, template_id: str) -> list[ContentFile]:
    """The sheet for plan ``template_id``: its own file, then every check file."""
    return [plan_file(schedules_dir, template_id), *check_files(schedules_dir)]


def content_file(schedules_dir: str | Path, content_id: str) -> ContentFile:
    """One file by its content id (a plan id, or "checks/<id>"); KeyError if unknown."""
    if content_id.startswith(CHECKS_PREFIX):
        for found in check_files(schedules_dir):
            if found.content_id == content_id:
                return found
        raise KeyError(content_id)
    return plan_file(schedules_dir, content_id)


# --- translations ---------------------------------------------------------------------------


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list | tuple):
        return " / ".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return " / ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    return str(value)


def translation_lines(raw: Any, path: str) -> list[TranslationLine]:
    """Every ``translations`` block in a content file's data (any file of this shape: plans,
    checks, questionnaires, texting), one line per language and field, in file order."""
    lines: list[TranslationLine] = []
    seen: set[int] = set()

    def visit(value: Any, where: str) -> None:
        if id(value) in seen:  # a YAML alias: the same answers under several questions
            return
        seen.add(id(value))
        if isinstance(value, list):
            for index, item in enumerate(value, start=1):
                key = item.get("key") if isinstance(item, dict) else None
                label = (
                    key
                    if isinstance(key, str)
                    else (
                        f"value {item['value']}"
                        if isinstance(item, dict) and "value" in item
                        else f"#{index}"
                    )
                )
                visit(item, f"{where} {label}".strip())
            return
        if not isinstance(value, dict):
            return
        block = value.get("translations")
        if isinstance(block, dict):
            for language, entry in block.items():
                if not isinstance(entry, dict):
                    continue
                fields = [f for f in entry if f not in META_FIELDS]
                english = english_fields(value, fields)
                now = fingerprint(english)
                made_from = str(entry.get("translated_from") or "")
                status = "current" if made_from == now else "stale"
                reviewer = entry.get("reviewed_by")
                for name in fields:
                    lines.append(
                        TranslationLine(
                            path=path,
                            where=f"{where}: {name}" if where else name,
                            language=str(language),
                            english=_shown(english.get(name, "")),
                            translated=_shown(entry[name]),
                            translator=_text(str(entry.get("translator") or "not named")),
                            reviewed_by=_text(reviewer) if isinstance(reviewer, str) else None,
                            status=status,
                            translated_from=made_from,
                            fingerprint=now,
                        )
                    )
        for name, inner in value.items():
            if name in ("translations", "sources") or not isinstance(inner, list | dict):
                continue
            visit(inner, f"{where} {name}".strip() if not where else f"{where}: {name}")

    visit(raw, "")
    return lines


def catalogue_lines(po_paths: Sequence[Path] | None = None) -> list[TranslationLine]:
    """The message catalogues' entries marked ``#. reviewed: no`` (clinical wording a native
    speaker or clinician must confirm), from each language's ``messages.po``."""
    from babel.messages.pofile import read_po

    paths = (
        sorted(TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"))
        if po_paths is None
        else list(po_paths)
    )
    lines: list[TranslationLine] = []
    for path in paths:
        if not path.is_file():
            continue
        language = path.parent.parent.name
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=None)
        for message in catalog:
            if not message.id:
                continue
            notes = [c.strip().lower().replace(" ", "") for c in message.auto_comments]
            if "reviewed:no" not in notes:
                continue
            english = message.id if isinstance(message.id, str) else message.id[0]
            translated = message.string
            if isinstance(translated, list | tuple):
                translated = translated[0] if translated else ""
            where = "catalogue" + (f" ({message.context})" if message.context else "")
            lines.append(
                TranslationLine(
                    path=_catalogue_path(path),
                    where=where,
                    language=language,
                    english=english,
                    translated=translated or "",
                    translator="tracker project team",
                    reviewed_by=None,
                    status="catalogue" if translated else "missing",
                )
            )
    return lines


def _catalogue_path(path: Path) -> str:
    try:
        return str(path.relative_to(TRANSLATIONS_DIR.parent.parent))
    except ValueError:
        return str(path)


def missing_translations(schedules_dir: str | Path) -> list[str]:
    """Every patient-facing text of the plans and checks with no current translation, as the
    loaders report it (missing, incomplete or stale): empty when all is translated."""
    from tracker.plans.severe_pain import guidance_path, load_guidance
    from tracker.plans.templates import load_directory
    from tracker.plans.warning_signs import parse_signs, signs_path

    folder = Path(schedules_dir)
    problems: list[str] = []
    for template in load_directory(folder).values():
        problems.extend(f"{template.path}: {p}" for p in template.translation_problems)
    signs_file = Path(signs_path(str(folder)))
    if signs_file.is_file():
        signs = parse_signs(_read_yaml(signs_file), str(signs_file))
        problems.extend(f"{signs_file}: {p}" for p in signs.translation_problems)
    guidance_file = guidance_path(str(folder))
    if Path(guidance_file).is_file():
        load_guidance.cache_clear()
        guidance = load_guidance(guidance_file)
        problems.extend(f"{guidance_file}: {p}" for p in guidance.translation_problems)
    # The questionnaires' loader (outcomes) reports theirs: ``translation_problems``.
    return problems


def translation_review(
    schedules_dir: str | Path, po_paths: Sequence[Path] | None = None
) -> list[TranslationLine]:
    """Every translation of clinical content, for a native speaker's and a clinician's
    review: each ``translations`` block of every file in ``schedules_dir`` (plans, checks,
    questionnaires, texting), then the catalogue entries marked ``#. reviewed: no``."""
    folder = Path(schedules_dir)
    lines: list[TranslationLine] = []
    for path in sorted(folder.rglob("*.yaml")):
        raw = _read_yaml(path)
        lines.extend(translation_lines(raw, _display_path(path, folder)))
    lines.extend(catalogue_lines(po_paths))
    return lines


# --- approvals -----------------------------------------------------------------------------


def approval_states(
    session: Session, files: Sequence[ContentFile], clinic_id: int | None
) -> dict[str, ApprovalState]:
    """Each file's sign-off: at ``clinic_id``, or at any clinic when it is None."""
    ids = [f.content_id for f in files]
    query = (
        select(ContentApproval)
        .options(selectinload(ContentApproval.approved_by))
        .where(ContentApproval.template_id.in_(ids))
        .order_by(ContentApproval.approved_at.desc(), ContentApproval.id.desc())
    )
    if clinic_id is not None:
        query = query.where(ContentApproval.clinic_id == clinic_id)
    rows = session.scalars(query).all() if ids else []
    states = {}
    for f in files:
        history = tuple(r for r in rows if r.template_id == f.content_id)
        states[f.content_id] = state_of(f, history)
    return states


def state_of(f: ContentFile, history: Sequence[ContentApproval]) -> ApprovalState:
    if f.version is None:
        return ApprovalState("no_version", (), tuple(history))
    digest = f.digest
    current = tuple(r for r in history if r.version == f.version and r.content_digest == digest)
    if current:
        return ApprovalState("approved", current, tuple(history))
    if any(r.version == f.version for r in history):
        return ApprovalState("changed", (), tuple(history))
    return ApprovalState("not_approved", (), tuple(history))


def state_words(
    f: ContentFile, state: ApprovalState, zones: Mapping[int, str] | None = None
) -> str:
    """The approval state in a sentence (for the CLI; the admin page says the same).

    Each approval's time is on its clinic's clock (``zones``: clinic id -> time zone) with
    the zone's abbreviation, "Dec 6, 2026, 10:41 PM EST"; a clinic not in ``zones`` reads
    "... 3:41 AM UTC", never an unlabelled UTC time."""

    def when(approval: ContentApproval) -> str:
        tz_name = (zones or {}).get(approval.clinic_id, "UTC")
        return clinic_time(approval.approved_at, tz_name)

    if state.status == "no_version":
        return "CANNOT BE APPROVED: the file has no version number; add one (version: 1)."
    if state.status == "approved":
        parts = [
            f"approved by {r.approved_by.name} <{r.approved_by.email}> on {when(r)}"
            + (f" ({r.note})" if r.note else "")
            for r in state.current
        ]
        return f"APPROVED version {f.version}: " + "; ".join(parts)
    if state.status == "changed":
        return (
            f"NOT APPROVED: version {f.version} was approved, but its text has changed since "
            "without a new version number. Raise the version in the file, then approve it."
        )
    earlier = sorted({r.version for r in state.history if r.version != f.version})
    if earlier:
        listed = ", ".join(str(v) for v in earlier)
        return (
            f"NOT APPROVED: version {f.version} needs a new approval (approved before: "
            f"version {listed})."
        )
    return f"NOT APPROVED: version {f.version} has never been approved."


def approve(
    session: Session,
    f: ContentFile,
    *,
    clinic_id: int,
    user_id: int,
    version: str | None,
    digest: str | None,
    note: str | None,
    now: datetime,
) -> ContentApproval:
    """Record that ``user_id`` approved the version of ``f`` they were shown.

    ``version`` and ``digest`` are what the sheet showed: if the file has changed since
    (a new version, or new text), nothing is recorded and the admin reads the sheet again.
    """
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH or has_control_characters(note, multiline=True):
        raise ApprovalRefused(f"Keep the note to {NOTE_MAX_LENGTH} characters of text.", 400)
    if f.version is None:
        raise ApprovalRefused("This file has no version number, so it cannot be approved.")
    if version != str(f.version) or digest != f.digest:
        raise ApprovalRefused(
            f"{f.path} has changed since the sheet was shown (it is now version {f.version}). "
            "Nothing was approved: read the sheet again, then approve what it shows."
        )
    state = state_of(
        f,
        session.scalars(
            select(ContentApproval).where(
                ContentApproval.clinic_id == clinic_id,
                ContentApproval.template_id == f.content_id,
            )
        ).all(),
    )
    if state.status == "approved":
        raise ApprovalRefused(f"Version {f.version} of {f.path} is already approved.")
    if state.status == "changed":
        raise ApprovalRefused(
            f"Version {f.version} of {f.path} was approved with other words. Raise the "
            "version number in the file, so plans made from each text can be told apart, "
            "then approve the new version."
        )
    row = ContentApproval(
        clinic_id=clinic_id,
        template_id=f.content_id,
        version=f.version,
        content_digest=f.digest,
        approved_by_id=user_id,
        approved_at=now,
        note=note or None,
    )
    session.add(row)
    session.flush()
    return row
