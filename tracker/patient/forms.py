"""Forms patients fill in: the pain score and the warning-signs check (Flask-WTF).

CSRF: ``CSRFProtect`` (http_headers.py) checks the token of every POST before any view runs,
and templates put ``csrf_token()`` in each form. The forms themselves do not check it again:
Flask-WTF's form-level check would only repeat that one (it defers to ``CSRFProtect``) and
sign a fresh token on every POST, for nothing.

Every word a patient reads here is a lazy string (``lazy_gettext``): it is written in the
page's language when the page is rendered, not when this module is imported.
"""

from __future__ import annotations

import re
from functools import cache

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from tracker.core.models import NOTE_MAX_LENGTH
from tracker.plans.warning_signs import WarningSign

# The numeric rating scale with words at its anchors (SPEC section 1).
SCORE_WORDS = {0: _l("No pain"), 10: _l("Worst pain you can imagine")}
SCORE_MESSAGE = _l("Choose a number from 0 (no pain) to 10 (worst pain you can imagine).")
CONTEXT_CHOICES = [("rest", _l("At rest")), ("activity", _l("With activity"))]
_WHOLE_NUMBER = re.compile(r"^(10|[0-9])$")
# Control characters other than line breaks and tabs have no place in a note.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _score_in_range(form: FlaskForm, field: Field) -> None:
    if not isinstance(field.data, str) or not _WHOLE_NUMBER.fullmatch(field.data.strip()):
        raise ValidationError(SCORE_MESSAGE)


def _known_context(form: FlaskForm, field: Field) -> None:
    if field.data not in {value for value, _ in CONTEXT_CHOICES}:
        raise ValidationError(_l("Choose “At rest”, “With activity”, or leave it empty."))


def _clean_note(value: str | None) -> str | None:
    if value is None:
        return None
    value = _CONTROL.sub("", value).strip()
    return value or None


class PatientForm(FlaskForm):
    class Meta:
        csrf = False  # checked by CSRFProtect for every POST (see above)


class PainForm(PatientForm):
    # Plain text fields rendered as radio buttons by the template (which owns the markup),
    # so that every bad value gets the one plain-language message above.
    score = StringField(
        _l("How much pain do you have right now?"),
        validators=[InputRequired(SCORE_MESSAGE), _score_in_range],
    )
    context = StringField(
        _l("When do you feel this pain? (optional)"),
        # Blank (spaces included) is "not said": Optional() lets "  " through unvalidated.
        filters=[lambda value: value.strip() or None if isinstance(value, str) else value],
        validators=[Optional(), _known_context],
    )
    note = TextAreaField(
        _l("Anything you want your care team to know? (optional)"),
        filters=[_clean_note],
        validators=[
            Optional(),
            Length(
                max=NOTE_MAX_LENGTH,
                # Length fills in %(max)d itself.
                message=_l("Please keep your note to %(max)d characters or fewer."),
            ),
        ],
    )

    @property
    def score_value(self) -> int:
        return int(self.score.data)


ANSWER_MESSAGE = _l("Please answer yes or no.")
ANSWER_CHOICES = [("yes", _l("Yes")), ("no", _l("No"))]


def _yes_or_no(form: FlaskForm, field: Field) -> None:
    if field.data not in ("yes", "no"):
        raise ValidationError(ANSWER_MESSAGE)


def field_name(sign: WarningSign) -> str:
    # Prefixed so that no sign key can shadow a form attribute such as ``data``.
    return f"q_{sign.key}"


@cache
def warning_signs_form_class(signs: tuple[WarningSign, ...]) -> type[FlaskForm]:
    """A form with one yes/no question per sign in schedules/checks/warning_signs.yaml."""
    fields = {
        field_name(sign): StringField(
            sign.question, validators=[InputRequired(ANSWER_MESSAGE), _yes_or_no]
        )
        for sign in signs
    }
    form_class = type("WarningSignsForm", (PatientForm,), fields)
    form_class.signs = signs
    return form_class


def answers_of(form: FlaskForm, signs: tuple[WarningSign, ...]) -> dict[str, bool]:
    return {sign.key: form[field_name(sign)].data == "yes" for sign in signs}
