"""The pain chart on the care team's patient page: the chart, its legend, the clinic's
severe threshold as a labelled line, the expected course after kyphoplasty shaded behind the
lines, and the table with the same values. The patient's own chart never has the band."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.patient.conftest import sign_in
from tracker.web.charts import SIZES

TODAY = date(2026, 11, 21)
EXPECTED = (
    "Expected range after kyphoplasty (published study mean ± 2 points; an estimate for a "
    "clinician to confirm)"
)


@pytest.fixture
def patient(enrolled, record):
    result = enrolled(days_ago=3, name="Chart Patient")
    plan = result.plan
    record.pain(plan, TODAY - timedelta(days=3), 8, context="rest")
    record.pain(plan, TODAY - timedelta(days=3), 6, context="activity", hour=15)
    wrong = record.pain(plan, TODAY - timedelta(days=2), 9)
    record.pain(plan, TODAY - timedelta(days=2), 7, hour=11, supersedes=wrong)
    record.pain(plan, TODAY, 4)  # day 3; day 1 has no score
    return result


def page_of(client, patient) -> str:
    response = client.get(f"/coordinator/patients/{patient.patient.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(html: str) -> str:
    return html.split('<section id="pain"', 1)[1].split("</section>", 1)[0]


def legend(html: str) -> list[str]:
    items = html.split('<ul class="chart-legend">', 1)[1].split("</ul>", 1)[0]
    return [re.sub(r"<[^>]+>", "", item).strip() for item in items.split("<li>")[1:]]


def test_the_chart_has_its_threshold_legend_and_summary(coordinator_client, patient):
    html = section(page_of(coordinator_client, patient))
    assert html.count('<svg class="pain-chart"') == len(SIZES)
    assert 'role="img" aria-labelledby="pain-chart-large-title"' in html
    assert "Daily pain scores (0 to 10) by day since the procedure</title>" in html
    assert ">Day since procedure</text>" in html and ">Pain (0-10)</text>" in html
    # The clinic's threshold (7 by default) as a labelled line, once per drawing.
    assert html.count('<line class="threshold"') == len(SIZES)
    assert html.count(">Severe: 7+</text>") == len(SIZES)
    # Today (day 3) is a line, labelled and explained.
    assert html.count('<line class="today"') == len(SIZES) and ">Today</text>" in html
    assert legend(html) == [
        "Highest score of the day",
        "Mean of the day",
        EXPECTED,
        "Day with a score of 7 or more",
        "Severe pain threshold of the clinic: 7 or more",
        "Today (day 3)",
        "Bars under the day axis: limits of the plan, from their first to their last day",
    ]
    assert "No heavy lifting (days 0-44)" in html
    assert (
        "3 days with pain scores, from day 0 to day 3; the latest highest score is 4 on day 3. "
        "2 days reached the severe threshold of 7."
    ) in html


def test_a_corrected_score_is_plotted_with_its_corrected_value(coordinator_client, patient):
    html = section(page_of(coordinator_client, patient))
    # Day 1: 9 was corrected to 7, which is exactly the threshold: marked, on the line.
    assert "<title>Day 1: 7</title>" in html and "<title>Day 1: 9</title>" not in html
    large = html.split('data-size="large"', 1)[1].split("</svg>", 1)[0]
    threshold_y = re.search(r'<line class="threshold"[^>]* y1="([\d.]+)"', large).group(1)
    marked = re.findall(r'class="point point-primary point-high" cx="[\d.]+" cy="([\d.]+)"', large)
    assert len(marked) == 2 and threshold_y in marked  # the 8 on day 0 and the 7 on day 1
    # Day 2 has no score: the highest-score line is days 0-1, then day 3 alone.
    assert large.count('<polyline class="line line-primary"') == 1


def test_the_table_lists_the_same_days_with_the_severe_ones(coordinator_client, patient):
    html = section(page_of(coordinator_client, patient))
    assert "Pain scores as a table (3 days)" in html
    assert '<th scope="col">Severe (7+)</th>' in html
    assert "<td>Nov 18</td><td>0</td><td>8</td><td>7</td>" in html
    rows = re.findall(r"<tr><td>(Nov \d\d)</td>.*?<td>(Yes|No)</td>", html, re.S)
    assert rows == [("Nov 18", "Yes"), ("Nov 19", "Yes"), ("Nov 21", "No")]


def test_the_line_follows_the_clinic_threshold(coordinator_client, patient, session):
    patient.patient.clinic.severe_pain_threshold = 8
    session.commit()
    html = section(page_of(coordinator_client, patient))
    assert ">Severe: 8+</text>" in html and "Severe: 7+" not in html
    assert "Severe pain threshold of the clinic: 8 or more" in legend(html)
    assert html.count("point-primary point-high") == len(SIZES)  # only the 8 now
    assert '<th scope="col">Severe (8+)</th>' in html


def test_a_patient_without_scores_has_an_empty_chart_that_says_so(coordinator_client, enrolled):
    html = section(page_of(coordinator_client, enrolled(days_ago=0, name="No Scores")))
    assert "No pain scores yet." in html
    assert "point-primary" not in html and "<polyline" not in html
    assert legend(html)[:3] == [
        EXPECTED,  # the band is drawn before any score
        "Severe pain threshold of the clinic: 7 or more",
        "Today (day 0)",
    ]
    assert html.count('<polygon class="range"') == len(SIZES)
    assert '<td colspan="10">No pain scores yet.</td>' in html


# --- the expected course behind the lines: the care team's only ------------------------------


def test_the_expected_course_is_shaded_behind_the_lines_of_a_kyphoplasty_patient(
    coordinator_client, patient
):
    html = section(page_of(coordinator_client, patient))
    for size in ("small", "medium", "large"):
        svg = html.split(f'data-size="{size}"', 1)[1].split("</svg>", 1)[0]
        # One shaded polygon, drawn first: before the grid, the threshold and the lines.
        assert svg.count('<polygon class="range"') == 1
        assert svg.index('<polygon class="range"') < svg.index('<line class="grid"')
    assert '<span class="swatch swatch-range" aria-hidden="true"></span>' in html
    # The description says it, with its values on the first and last day of the chart:
    # day 0 is 8.7 +- 2 (at most 10); day 44 is 3.3 - 0.6 * 14 / 60 = 3.16 +- 2.
    assert (
        f"2 days reached the severe threshold of 7. Shaded: {EXPECTED}. "
        "It is 6.7 to 10 on day 0 and 1.2 to 5.2 on day 44."
    ) in html


def test_the_table_gives_the_expected_low_and_high_of_each_day(coordinator_client, patient):
    html = section(page_of(coordinator_client, patient))
    assert (
        '<th scope="col">Severe (7+)</th><th scope="col">Expected low</th>'
        '<th scope="col">Expected high</th></tr>'
    ) in html
    rows = re.findall(
        r"<tr><td>(Nov \d\d)</td>.*?<td>(?:Yes|No)</td>\s*<td>([\d.]+)</td><td>([\d.]+)</td></tr>",
        html,
        re.S,
    )
    # The EVOLVE figures: 8.7 before, 8.7 - 5.2 = 3.5 at day 7, a straight line between;
    # day 1 is 7.96 and day 3 is 6.47, each +- 2 (at most 10), to one decimal.
    assert rows == [
        ("Nov 18", "6.7", "10"),
        ("Nov 19", "6", "10"),
        ("Nov 21", "4.5", "8.5"),
    ]


def test_a_vertebroplasty_patient_has_no_band_no_legend_entry_and_no_columns(
    coordinator_client, enrolled, record
):
    result = enrolled(days_ago=3, name="Verte Patient", procedure="vertebroplasty")
    record.pain(result.plan, TODAY, 5)
    html = section(page_of(coordinator_client, result))
    assert html.count('<svg class="pain-chart"') == len(SIZES)  # the chart is there
    assert "<polygon" not in html and "swatch-range" not in html
    assert "Expected" not in html and "Shaded" not in html
    assert "Highest score of the day" in legend(html)
    assert '<th scope="col">Severe (7+)</th></tr>' in html


def test_the_patients_own_chart_never_has_the_band_or_the_word_expected(app, patient):
    client = sign_in(app.test_client(), patient)
    response = client.get("/me/progress")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('<svg class="pain-chart"') == len(SIZES)  # the patient's chart is there
    assert "<polygon" not in html and "swatch-range" not in html and "Shaded" not in html
    assert "expected" not in html.lower()
