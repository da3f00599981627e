"""The shared line chart (tracker/web/charts.py): values by day in, SVG geometry out.

Pure functions, no database. The drawing size used here makes the arithmetic easy to read:
font 10 puts the plot at x 32..132 and y 16..116, so over days 0-9 each day is a 10-unit
column (a point at x = 37 + 10 * day) and each point of the 0-10 scale 10 units (y = 116 -
10 * value).
"""

from __future__ import annotations

import re

import pytest
from flask import render_template

from tracker.web.charts import (
    LARGE,
    MEDIUM,
    SECONDARY,
    SIZES,
    SMALL,
    Band,
    ChartError,
    ReferenceRange,
    Series,
    Size,
    Threshold,
    line_chart,
)

TEST_SIZE = Size("test", width=144, plot_height=100, font=10)
SEVERE = Threshold(7, "Severe: 7+", "Severe pain threshold: 7 or more", "A score of 7 or more")


def chart(values, *, first_day=0, last_day=9, sizes=(TEST_SIZE,), **options):
    return line_chart(
        [Series("Highest score of the day", values)],
        ident="t",
        title="Pain by day",
        description="A test chart.",
        x_label="Day since procedure",
        y_label="Pain (0-10)",
        first_day=first_day,
        last_day=last_day,
        sizes=sizes,
        **options,
    )


def drawing(values, **options):
    return chart(values, **options).drawings[0]


def points(d):
    return [(p.day, p.value, p.x, p.y) for p in d.lines[0].points]


def test_it_puts_each_day_in_the_middle_of_its_column_and_each_score_on_the_scale():
    d = drawing({0: 0, 3: 10, 4: 5})
    assert (d.plot_left, d.plot_right, d.plot_top, d.plot_bottom) == (32, 132, 16, 116)
    assert points(d) == [(0, 0, 37, 116), (3, 10, 67, 16), (4, 5, 77, 66)]
    assert d.view_box == "0 0 144 150"  # no bands: the plot and the day axis with its label


def test_zero_is_on_the_day_axis_and_ten_at_the_top_of_the_plot():
    d = drawing({0: 0, 1: 10})
    low, high = d.lines[0].points
    assert low.y == d.plot_bottom and high.y == d.plot_top
    assert [(t.label, t.position) for t in d.y_ticks] == [
        ("0", 116),
        ("2", 96),
        ("4", 76),
        ("6", 56),
        ("8", 36),
        ("10", 16),
    ]


def test_a_day_without_a_value_is_a_gap_in_the_line():
    d = drawing({0: 9, 1: 7, 3: 5, 5: 4, 6: 3})
    # Days 0-1 and 5-6 are lines; day 3 stands alone, a point with no line to it.
    assert d.lines[0].runs == ("37.0,26.0 47.0,46.0", "87.0,76.0 97.0,86.0")
    assert [p.day for p in d.lines[0].points] == [0, 1, 3, 5, 6]


def test_one_score_is_a_point_without_a_line():
    c = chart({2: 6})
    d = c.drawings[0]
    assert d.lines[0].runs == () and points(d) == [(2, 6, 57, 56)]
    assert [(i.kind, i.label) for i in c.legend] == [("line-primary", "Highest score of the day")]


def test_no_scores_draw_the_axes_and_no_legend_for_an_empty_line():
    c = chart({})
    d = c.drawings[0]
    assert d.lines[0].points == () and d.lines[0].runs == ()
    assert len(d.y_ticks) == 6 and d.x_ticks
    assert c.legend == ()


def test_the_threshold_line_is_at_its_exact_value_and_a_score_equal_to_it_is_marked():
    c = chart({0: 6, 1: 7, 2: 8}, threshold=SEVERE)
    d = c.drawings[0]
    assert d.threshold.y == 46 == 116 - 10 * 7
    assert d.threshold.label == "Severe: 7+"
    six, seven, eight = d.lines[0].points
    assert seven.y == d.threshold.y  # on the line, not above or below it
    assert (six.high, seven.high, eight.high) == (False, True, True)
    assert seven.radius > six.radius  # drawn larger, not only in another colour
    assert [i.kind for i in c.legend] == ["line-primary", "point-high", "threshold"]
    assert c.legend[1].label == "A score of 7 or more"


def test_under_the_threshold_nothing_is_marked_and_the_legend_says_only_what_is_drawn():
    c = chart({0: 6, 1: 3}, threshold=SEVERE)
    assert not any(p.high for p in c.drawings[0].lines[0].points)
    assert [i.kind for i in c.legend] == ["line-primary", "threshold"]


def test_only_the_series_the_threshold_is_about_is_marked():
    c = line_chart(
        [
            Series("Highest", {0: 9}),
            Series("Mean", {0: 8}, style=SECONDARY, marks_threshold=False),
        ],
        ident="t",
        title="t",
        description="t",
        x_label="x",
        y_label="y",
        first_day=0,
        last_day=3,
        threshold=SEVERE,
        sizes=(TEST_SIZE,),
    )
    highest, mean = c.drawings[0].lines
    assert highest.points[0].high and not mean.points[0].high
    assert mean.points[0].radius < highest.points[0].radius
    assert [i.kind for i in c.legend] == [
        "line-primary",
        "line-secondary",
        "point-high",
        "threshold",
    ]


def test_a_threshold_at_the_top_of_the_scale_is_labelled_below_its_line():
    d = drawing({}, threshold=Threshold(10, "Severe: 10", "l", "p"))
    assert d.threshold.y == d.plot_top and d.threshold.label_y > d.threshold.y
    assert drawing({}, threshold=SEVERE).threshold.label_y < 46


def test_today_is_a_line_on_its_day_and_in_the_legend():
    c = chart({0: 5}, today=4)
    assert c.drawings[0].today.x == 77
    assert ("today", "Today (day 4)") in [(i.kind, i.label) for i in c.legend]
    assert c.drawings[0].today.anchor == "middle"
    assert chart({}, today=0).drawings[0].today.anchor == "start"
    assert chart({}, today=9).drawings[0].today.anchor == "end"


def test_a_today_outside_the_days_shown_is_not_drawn_nor_explained():
    for today in (-1, 10, None):
        c = chart({0: 5}, today=today)
        assert c.drawings[0].today is None
        assert "today" not in [i.kind for i in c.legend]


def test_bands_are_labelled_bars_under_the_day_axis_cut_to_the_days_shown():
    c = chart(
        {},
        last_day=44,
        bands=[Band("Rest in bed", 0, 1), Band("No driving", 30, 60), Band("Old", -9, -2)],
        sizes=(LARGE,),
    )
    d = c.drawings[0]
    bed, driving = d.lanes  # a band wholly outside the days shown is left out
    assert (bed.label, driving.label) == ("Rest in bed (days 0-1)", "No driving (days 30-60)")
    assert bed.y > d.x_label_y and driving.y > bed.y  # one row each, under the axis label
    column = (d.plot_right - d.plot_left) / 45
    assert bed.x == d.plot_left and bed.width == pytest.approx(2 * column, abs=0.1)
    assert driving.x + driving.width == pytest.approx(d.plot_right, abs=0.1)
    # A bar in the right half is labelled from its end, so the label stays on the chart.
    assert (bed.anchor, driving.anchor) == ("start", "end")
    assert driving.text_x < d.plot_right
    assert c.legend[-1].kind == "band"
    assert d.height > drawing({}, last_day=44, sizes=(LARGE,)).height


def test_a_label_wider_than_a_phone_plot_is_wrapped_inside_it_and_its_bar_grows():
    long = Band("No driving on opioid pain medicine", 0, 41)
    d = chart({}, last_day=44, bands=[Band("Rest in bed", 0, 1), long], sizes=(SMALL,)).drawings[0]
    bed, driving = d.lanes
    assert [words for words, _ in bed.text_lines] == ["Rest in bed (days 0-1)"]
    assert [words for words, _ in driving.text_lines] == [
        "No driving on opioid pain",
        "medicine (days 0-41)",
    ]
    assert driving.anchor == "start" and driving.text_x > d.plot_left
    for words, _ in driving.text_lines:
        assert driving.text_x + len(words) * 0.6 * d.font <= d.plot_right
    (_, first), (_, second) = driving.text_lines
    assert bed.y + bed.height < driving.y < first < second < driving.y + driving.height
    assert driving.height > bed.height and d.height > driving.y + driving.height


def test_a_label_that_would_run_off_the_right_edge_ends_at_its_bar():
    d = drawing({}, last_day=44, bands=[Band("Walks", 20, 24)], sizes=(LARGE,))
    (walks,) = d.lanes
    assert walks.anchor == "start"  # from the start of a bar in the left half
    # Starts in the left half, but the words would not fit between its start and the edge.
    d = drawing({}, last_day=44, bands=[Band("No lifting", 15, 44)], sizes=(SMALL,))
    (limit,) = d.lanes
    assert limit.anchor == "end" and limit.text_x == round(d.plot_right - 0.3 * d.font, 1)


def test_days_before_the_procedure_are_drawn_left_of_day_zero():
    d = drawing({-2: 4, 0: 6}, first_day=-2, last_day=7, sizes=(LARGE,))
    assert points(d)[0][2] < points(d)[1][2]
    assert [t.label for t in d.x_ticks] == ["-2", "-1", "0", "1", "2", "3", "4", "5", "6", "7"]


def test_day_labels_never_crowd_each_other():
    c = chart({}, last_day=44, sizes=SIZES)
    small, medium, large = c.drawings
    assert [t.label for t in small.x_ticks] == ["0", "14", "28", "42"]
    assert [t.label for t in medium.x_ticks] == ["0", "7", "14", "21", "28", "35", "42"]
    assert [t.label for t in large.x_ticks] == [t.label for t in medium.x_ticks]
    for d in c.drawings:
        gaps = [b.position - a.position for a, b in zip(d.x_ticks, d.x_ticks[1:], strict=False)]
        assert min(gaps) >= 2.5 * d.font
    assert [t.label for t in chart({}, last_day=6, sizes=(LARGE,)).drawings[0].x_ticks] == [
        str(n) for n in range(7)
    ]


def test_each_size_renders_its_type_at_14_px_or_more_in_the_widths_css_gives_it():
    # site.css: small below a 560 px container, medium to 960 px, large above. A 360 px
    # phone leaves about 330 px for the chart.
    for size, narrowest in ((SMALL, 330), (MEDIUM, 560), (LARGE, 960)):
        assert size.font * narrowest / size.width >= 14
    # At 1280 px the care team's page is about 1240 px wide: the large drawing.
    assert LARGE.font * 1240 / LARGE.width >= 19


# --- the shaded reference range -------------------------------------------------------------


def expected(*points):
    return ReferenceRange("Expected range", points)


def test_a_reference_range_is_a_polygon_through_its_exact_values():
    c = chart({0: 9, 2: 5}, reference=expected((0, 6, 10), (2, 4, 8), (4, 2, 6)))
    area = c.drawings[0].reference
    # The high edge left to right (y = 116 - 10 * high), then the low edge back.
    assert area.points == "37.0,16.0 57.0,36.0 77.0,56.0 77.0,96.0 57.0,76.0 37.0,56.0"
    assert area.label == "Expected range"
    assert ("range", "Expected range") in [(i.kind, i.label) for i in c.legend]
    assert c.description == (
        "A test chart. Shaded: Expected range. It is 6 to 10 on day 0 and 2 to 6 on day 4."
    )
    assert c.reference is not None and c.reference.low_label == "Expected low"


def test_between_its_points_the_range_runs_straight_and_the_table_reads_it_there():
    ref = expected((0, 6, 10), (4, 2, 6))
    assert ref.at(1) == (5, 9) and ref.text_at(3) == ("3", "7")
    assert ref.text_at(-1) is None and ref.text_at(5) is None  # no figure says anything there
    uneven = expected((0, 8.7, 10), (7, 1.5, 5.5))
    assert uneven.text_at(3) == ("5.6", "8.1")  # 8.7 - 7.2 * 3/7 = 5.61; 10 - 4.5 * 3/7 = 8.07


def test_the_range_is_cut_at_the_edges_of_the_plot_with_its_values_there():
    # Low 0 -> 7 and high 3 -> 10 from day -2 to day 12: at the plot's edges (days -0.5 and
    # 9.5, x 32 and 132) low is 0.75 and 5.75, high 3.75 and 8.75.
    c = chart({}, reference=expected((-2, 0, 3), (12, 7, 10)))
    d = c.drawings[0]
    assert d.reference.points == "32.0,78.5 132.0,28.5 132.0,58.5 32.0,108.5"
    assert (d.plot_left, d.plot_right) == (32, 132)
    # The description gives the values on the first and last day shown, not beyond.
    assert c.description.endswith("It is 1 to 4 on day 0 and 5.5 to 8.5 on day 9.")
    # Points outside the plot are left out; a point inside is kept as a corner.
    # At day -0.5: 2.25 to 4.25; at day 9.5: 7.25 to 9.25 (half a point a day either side).
    d = drawing({}, reference=expected((-9, 0, 1), (-1, 2, 4), (3, 4, 6), (11, 8, 10), (20, 9, 10)))
    corners = d.reference.points.split()
    assert corners[:3] == ["32.0,73.5", "67.0,56.0", "132.0,23.5"]  # edge, day 3, edge
    assert corners[3:] == ["132.0,43.5", "67.0,76.0", "32.0,93.5"]


def test_a_range_ending_inside_the_plot_ends_at_its_last_day():
    d = drawing({}, reference=expected((2, 1, 3), (5, 1, 3)))
    assert d.reference.points == "57.0,86.0 87.0,86.0 87.0,106.0 57.0,106.0"


def test_a_lone_day_of_the_range_is_shaded_as_its_days_column():
    d = drawing({}, reference=expected((4, 2, 6)))
    assert d.reference.points == "72.0,56.0 82.0,56.0 82.0,96.0 72.0,96.0"
    c = chart({}, reference=expected((4, 2, 6)))
    assert c.description.endswith("It is 2 to 6 on day 4.")


@pytest.mark.parametrize(
    "reference",
    [
        None,
        expected(),  # no data
        expected((12, 1, 3), (20, 2, 4)),  # wholly after the days shown
        expected((-9, 1, 3), (-1, 2, 4)),  # wholly before them
    ],
)
def test_without_data_on_the_days_shown_there_is_no_range_legend_or_columns(reference):
    c = chart({0: 5}, reference=reference, sizes=SIZES)
    assert all(d.reference is None for d in c.drawings)
    assert "range" not in [i.kind for i in c.legend]
    assert c.description == "A test chart." and c.reference is None


def test_every_size_draws_the_range_over_the_same_days():
    c = chart({}, last_day=44, reference=expected((0, 6, 10), (44, 1, 5)), sizes=SIZES)
    for d in c.drawings:
        column = (d.plot_right - d.plot_left) / 45
        height = d.plot_bottom - d.plot_top

        def at(day, value, d=d, column=column, height=height):
            x = d.plot_left + (day + 0.5) * column
            return (pytest.approx(x, abs=0.06), pytest.approx(d.plot_bottom - height * value / 10))

        corners = [tuple(map(float, c.split(","))) for c in d.reference.points.split()]
        assert corners == [at(0, 10), at(44, 5), at(44, 1), at(0, 6)]
        assert corners[0][1] == d.plot_top


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([(0, 5, 4)], "5 to 4 on day 0 is not a range within 0 to 10"),
        ([(0, -1, 4)], "-1 to 4 on day 0 is not a range within 0 to 10"),
        ([(0, 1, 10.5)], "1 to 10.5 on day 0 is not a range within 0 to 10"),
        ([(0, 1, 2), (0, 2, 3)], "a day is given more than once"),
        ([(0.5, 1, 2)], "the day 0.5 is not a whole number"),
    ],
)
def test_it_refuses_a_range_it_cannot_draw(points, message):
    with pytest.raises(ChartError, match=re.escape(f"Expected range: {message}")):
        chart({}, reference=expected(*points))


@pytest.mark.parametrize(
    ("values", "options", "message"),
    [
        ({0: 11}, {}, "11 on day 0 is outside 0 to 10"),
        ({0: -1}, {}, "-1 on day 0 is outside 0 to 10"),
        ({}, {"first_day": 3, "last_day": 2}, "the last day (2) is before the first (3)"),
        ({}, {"threshold": Threshold(12, "x", "y", "z")}, "the threshold 12 is outside"),
        ({}, {"sizes": ()}, "at least one size"),
    ],
)
def test_it_refuses_what_it_cannot_draw(values, options, message):
    with pytest.raises(ChartError, match=re.escape(message)):
        chart(values, **options)


def test_the_template_draws_every_size_escapes_labels_and_names_the_chart(app):
    c = chart(
        {0: 8, 1: 5},
        last_day=44,
        threshold=SEVERE,
        today=1,
        bands=[Band("No <heavy> lifting", 0, 41)],
        sizes=SIZES,
    )
    with app.test_request_context():
        html = render_template("_chart.html", chart=c)
    assert html.count('<svg class="pain-chart"') == 3
    for size in ("small", "medium", "large"):
        assert f'data-size="{size}"' in html
        assert f'aria-labelledby="t-{size}-title" aria-describedby="t-summary"' in html
    assert '<p class="chart-summary" id="t-summary">A test chart.</p>' in html
    assert "No &lt;heavy&gt; lifting (days 0-41)" in html and "<heavy>" not in html
    assert html.count('class="threshold"') == 3 and html.count(">Severe: 7+</text>") == 3
    assert html.count('class="line line-primary"') == 3
    assert html.count('class="point point-primary point-high"') == 3  # the 8, once per size
    assert 'font-size="16"' in html and "style=" not in html
    legend = html.split('<ul class="chart-legend">', 1)[1].split("</ul>", 1)[0]
    # Every mark in the legend has its words: no stray key.
    assert legend.count("<li>") == legend.count('class="swatch ') == 5
    assert "Today (day 1)" in legend and "Severe pain threshold: 7 or more" in legend


def test_the_template_draws_the_range_first_and_explains_it(app):
    c = chart(
        {0: 8, 1: 5},
        last_day=44,
        threshold=SEVERE,
        today=1,
        reference=ReferenceRange("Expected <range>", [(0, 6, 10), (44, 1, 5)]),
        sizes=SIZES,
    )
    with app.test_request_context():
        html = render_template("_chart.html", chart=c)
    svgs = html.split('<svg class="pain-chart"')[1:]
    assert len(svgs) == 3
    for svg in svgs:
        # Behind everything: the first mark after the title, before the grid and the lines.
        after_title = svg.split("</title>", 1)[1].lstrip()
        assert after_title.startswith('<polygon class="range" points="')
        assert svg.count("<polygon") == 1
    legend = html.split('<ul class="chart-legend">', 1)[1].split("</ul>", 1)[0]
    assert '<span class="swatch swatch-range" aria-hidden="true"></span>Expected &lt;range&gt;' in (
        legend
    )
    summary = html.split('id="t-summary">', 1)[1].split("</p>", 1)[0]
    assert summary == (
        "A test chart. Shaded: Expected &lt;range&gt;. It is 6 to 10 on day 0 and 1 to 5 on day 44."
    )
    assert "style=" not in html
    without = chart({0: 8}, sizes=SIZES)
    with app.test_request_context():
        assert "<polygon" not in render_template("_chart.html", chart=without)
