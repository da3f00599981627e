"""FHIR R4 resources for questionnaires: the Questionnaire itself and a patient's scored
QuestionnaireResponse (the score as a read-only calculated item, as FHIR's structured data
capture does for totals). Used by the care team's FHIR export (care/exports.py)."""

from __future__ import annotations

from typing import Any

from tracker.core.models import QuestionnaireResponse
from tracker.outcomes.questionnaires import Questionnaire

CANONICAL_BASE = "urn:recovery-tracker"
SCORE_LINK_ID = "total-score"


def questionnaire_url(questionnaire: Questionnaire) -> str:
    return f"{CANONICAL_BASE}:questionnaire:{questionnaire.id}"


def answer_system(questionnaire: Questionnaire) -> str:
    return f"{CANONICAL_BASE}:questionnaire:{questionnaire.id}:answers"


def _score_text(questionnaire: Questionnaire) -> str:
    how = (
        "sum of the answers as a percentage of the most the answered questions could score"
        if questionnaire.method == "percent_of_answered"
        else "sum of the answers"
    )
    return (
        f"Total score ({questionnaire.min_score:g}-{questionnaire.max_score:g}; {how}; "
        f"not scored with more than {questionnaire.max_missing} unanswered)"
    )


def questionnaire_resource(questionnaire: Questionnaire) -> dict[str, Any]:
    items: list[dict[str, Any]] = [
        {
            "linkId": item.key,
            "text": item.text,
            "type": "choice",
            "required": False,
            "answerOption": [
                {
                    "valueCoding": {
                        "system": answer_system(questionnaire),
                        "code": str(option.value),
                        "display": option.text,
                    }
                }
                for option in item.options
            ],
        }
        for item in questionnaire.items
    ]
    items.append(
        {
            "linkId": SCORE_LINK_ID,
            "text": _score_text(questionnaire),
            "type": "decimal",
            "readOnly": True,
        }
    )
    return {
        "resourceType": "Questionnaire",
        "url": questionnaire_url(questionnaire),
        "version": str(questionnaire.version),
        "name": "".join(part.capitalize() for part in questionnaire.id.split("_")),
        "title": questionnaire.title,
        # Not yet confirmed by a clinician: a draft, not for clinical decisions.
        "status": "draft" if questionnaire.clinician_review else "active",
        "description": questionnaire.source,
        "subjectType": ["Patient"],
        "item": items,
    }


def response_resource(
    row: QuestionnaireResponse,
    questionnaire: Questionnaire,
    *,
    patient_ref: str,
    plan_ref: str,
    authored: str,
) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for item in questionnaire.items:
        value = (row.answers or {}).get(item.key)
        option = item.option(value) if isinstance(value, int) else None
        if option is None:
            continue
        items.append(
            {
                "linkId": item.key,
                "text": item.text,
                "answer": [
                    {
                        "valueCoding": {
                            "system": answer_system(questionnaire),
                            "code": str(option.value),
                            "display": option.text,
                        }
                    }
                ],
            }
        )
    if row.score is not None:
        items.append(
            {
                "linkId": SCORE_LINK_ID,
                "text": _score_text(questionnaire),
                "answer": [{"valueDecimal": row.score}],
            }
        )
    return {
        "resourceType": "QuestionnaireResponse",
        "identifier": {
            "system": f"{CANONICAL_BASE}:questionnaire-response",
            "value": str(row.id),
        },
        "questionnaire": f"{questionnaire_url(questionnaire)}|{row.questionnaire_version}",
        "basedOn": [{"reference": plan_ref}],
        "status": "amended" if row.replaced_at is not None else "completed",
        "subject": {"reference": patient_ref},
        "authored": authored,
        "item": items,
    }
