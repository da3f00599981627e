"""The clinic report page: ``/coordinator/report`` (on screen) and ``/coordinator/report.csv``.

For admins and coordinators, always of their own clinic (the clinic comes from the signed-in
account, never from the request). The figures are computed by ``outcomes.clinic_report`` in a
fixed number of statements; viewing and downloading are audited.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request

from tracker.care.auth import account, coordinator_required, record
from tracker.care.exports import ExportError, parse_range
from tracker.core.clock import request_now
from tracker.core.db import get_session
from tracker.core.models import Clinic
from tracker.core.timeutil import local_day
from tracker.outcomes.clinic_report import ClinicReport, build_report, report_csv
from tracker.outcomes.expected_course import current_course
from tracker.outcomes.questionnaires import current_questionnaires
from tracker.web.charts import SECONDARY, Chart, Series, line_chart

bp = Blueprint(
    "coordinator_report", __name__, url_prefix="/coordinator", template_folder="templates"
)


def pain_chart(report: ClinicReport, procedure: str = "kyphoplasty") -> Chart:
    last_day = max([41, *report.pain_by_day])
    series = [
        Series(
            "Mean of the patients' daily mean pain",
            {d: s.mean for d, s in report.pain_by_day.items() if s.mean is not None},
            marks_threshold=False,
        )
    ]
    course = current_course(procedure)
    if course is not None:
        series.append(
            Series(
                f"Expected mean after {procedure} (published figures)",
                {b.day: b.expected for b in course.band(0, last_day)},
                style=SECONDARY,
                marks_threshold=False,
            )
        )
    days = len(report.pain_by_day)
    return line_chart(
        series,
        ident="report-pain-chart",
        title="Mean pain (0 to 10) by day since the procedure",
        description=(
            f"Mean pain of the clinic's patients on {days} day{'s' if days != 1 else ''} "
            "since the procedure."
            if days
            else "No pain scores in this range."
        ),
        x_label="Day since procedure",
        y_label="Pain (0-10)",
        first_day=0,
        last_day=last_day,
    )


def _range() -> tuple[Any, Any, dict[str, str]]:
    the_clinic = get_session().get(Clinic, account().clinic_id)
    today = local_day(request_now(), the_clinic.timezone)
    if "start" not in request.args and "end" not in request.args:
        return today - timedelta(days=90), today, {}
    try:
        start, end = parse_range(request.args.get("start"), request.args.get("end"))
    except ExportError as exc:
        return None, None, {exc.field: exc.message}
    return start, end, {}


def _refused_range(errors: dict[str, str]) -> tuple[str, int]:
    return (
        render_template(
            "coordinator/report.html",
            report=None,
            start=(request.args.get("start") or "")[:20],
            end=(request.args.get("end") or "")[:20],
            errors=errors,
        ),
        400,
    )


def _figures(start: date, end: date, action: str) -> ClinicReport:
    """The signed-in clinic's report for the range, audited as ``action``."""
    db = get_session()
    the_clinic = db.get(Clinic, account().clinic_id)
    figures = build_report(db, the_clinic, start, end, request_now())
    record(action, start=start.isoformat(), end=end.isoformat())
    db.commit()
    return figures


@bp.get("/report")
@coordinator_required
def report() -> Any:
    start, end, errors = _range()
    if errors:
        return _refused_range(errors)
    figures = _figures(start, end, "report.view")
    return render_template(
        "coordinator/report.html",
        report=figures,
        start=start.isoformat(),
        end=end.isoformat(),
        errors={},
        chart=pain_chart(figures),
        questionnaires=current_questionnaires(),
    )


@bp.get("/report.csv")
@coordinator_required
def report_csv_download() -> Any:
    start, end, errors = _range()
    if errors:
        return _refused_range(errors)
    figures = _figures(start, end, "report.csv")
    filename = f"clinic-report-{start.isoformat()}-to-{end.isoformat()}.csv"
    return Response(
        report_csv(figures),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def hours(value: timedelta | None) -> str:
    if value is None:
        return "—"
    total = value.total_seconds() / 3600
    return f"{total:.1f} hours" if total >= 1 else f"{round(value.total_seconds() / 60)} minutes"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_filter(hours, "report_hours")
