"""FHIR R4 resources for questionnaires: the Questionnaire itself and a patient's scored
QuestionnaireResponse (the score as a read-only calculated item, as FHIR's structured data
capture does for totals), and the caregiver who entered answers or scores on the patient's
behalf, as a RelatedPerson (SPEC section 6, "Caregivers": what they enter is attributed to
them). Used by the care team's FHIR export (care/exports.py)."""

from __future__ import annotations

from typing import Any

from tracker.core.models import Caregiver, QuestionnaireResponse
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
    author_ref: str | None = None,
) -> dict[str, Any]:
    """``author_ref``: who entered the answers (the caregiver's RelatedPerson); the patient
    when not given."""
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
        "author": {"reference": author_ref or patient_ref},
        "item": items,
    }


# --- caregivers --------------------------------------------------------------------------

ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
# A caregiver's relation, in the words it was entered in (English or Spanish), as a
# v3-RoleCode; a relation not listed is sent as text only. "daughter" and "son" are DAUC and
# SONC (a daughter or son of any kind): DAU and SON mean a natural daughter or son, which the
# word alone does not say.
_ROLES = {
    ("DAUC", "daughter"): ("daughter", "hija"),
    ("SONC", "son"): ("son", "hijo"),
    ("WIFE", "wife"): ("wife", "esposa"),
    ("HUSB", "husband"): ("husband", "esposo", "marido"),
    ("SPS", "spouse"): ("spouse", "cónyuge", "conyuge"),
    ("DOMPART", "domestic partner"): ("partner", "domestic partner", "pareja"),
    ("FRND", "unrelated friend"): ("friend", "amigo", "amiga"),
    ("NBOR", "neighbor"): ("neighbor", "neighbour", "vecino", "vecina"),
    ("MTH", "mother"): ("mother", "madre", "mamá", "mama"),
    ("FTH", "father"): ("father", "padre", "papá", "papa"),
    ("SIS", "sister"): ("sister", "hermana"),
    ("BRO", "brother"): ("brother", "hermano"),
    ("GRNDDAU", "granddaughter"): ("granddaughter", "nieta"),
    ("GRNDSON", "grandson"): ("grandson", "nieto"),
    ("NIECE", "niece"): ("niece", "sobrina"),
    ("NEPHEW", "nephew"): ("nephew", "sobrino"),
}
RELATIONSHIP_CODES: dict[str, tuple[str, str]] = {
    word: code for code, words in _ROLES.items() for word in words
}


def relationship(relation: str) -> dict[str, Any]:
    """``relation`` ("daughter", "hija", "neighbour from church") as a CodeableConcept:
    coded where it maps to v3-RoleCode, its words as text always."""
    concept: dict[str, Any] = {"text": relation}
    code = RELATIONSHIP_CODES.get(" ".join(relation.lower().split()))
    if code is not None:
        concept["coding"] = [{"system": ROLE_CODE_SYSTEM, "code": code[0], "display": code[1]}]
    return concept


def related_person_resource(caregiver: Caregiver, *, patient_ref: str) -> dict[str, Any]:
    """A caregiver as a FHIR RelatedPerson of the patient; ``active`` false once removed."""
    resource: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "identifier": [{"system": f"{CANONICAL_BASE}:caregiver", "value": str(caregiver.id)}],
        "active": caregiver.removed_at is None,
        "patient": {"reference": patient_ref},
        "relationship": [relationship(caregiver.relation)],
        "name": [{"text": caregiver.name}],
        "communication": [
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": caregiver.language}]}}
        ],
    }
    telecom = []
    if caregiver.phone:
        telecom.append({"system": "phone", "value": caregiver.phone})
    if caregiver.email:
        telecom.append({"system": "email", "value": caregiver.email})
    if telecom:
        resource["telecom"] = telecom
    return resource
