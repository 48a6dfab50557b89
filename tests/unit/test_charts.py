"""The SVG line charts that replace matplotlib (so the browser edition can draw too)."""

from __future__ import annotations

import re

import pytest

from kafkalab.charts import line_chart, nice_ticks, side_by_side


def test_ticks_are_round_and_cover_the_data() -> None:
    assert nice_ticks(0, 40) == [0, 10, 20, 30, 40]
    assert nice_ticks(0, 24.7) == [0, 5, 10, 15, 20, 25]
    assert nice_ticks(4.1, 4.1)[0] <= 4.1 <= nice_ticks(4.1, 4.1)[-1]


def test_a_chart_draws_every_point_inside_its_frame() -> None:
    chart = line_chart([0, 5, 40], [1, 4.5, 40], x_label="linger.ms", y_label="records per request")
    svg = chart.svg()
    points = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
    assert len(points) == 3 and svg.count("<circle") == 3
    for point in points:
        x, y = map(float, point.split(","))
        assert 62 <= x <= 460 - 16 and 14 <= y <= 280 - 46
    assert ">linger.ms<" in svg and ">records per request<" in svg
    assert repr(chart) == "LineChart(records per request against linger.ms: 3 points)"
    assert chart.svg() == line_chart([0, 5, 40], [1, 4.5, 40], x_label="linger.ms", y_label="records per request").svg()


def test_a_log2_axis_has_one_tick_per_point_and_bad_input_is_named() -> None:
    svg = line_chart([512, 1024, 16384], [3, 4, 9], x_label="batch.size", y_label="ms", log2_x=True).svg()
    assert all(f">{size}<" in svg for size in (512, 1024, 16384))
    with pytest.raises(ValueError, match="as many y values as x values"):
        line_chart([1, 2], [1], x_label="x", y_label="y")
    with pytest.raises(ValueError, match="positive x values"):
        line_chart([0, 2], [1, 2], x_label="x", y_label="y", log2_x=True)
    both = side_by_side(line_chart([1], [1], "a", "b"), line_chart([1], [2], "c", "d"))
    assert both._repr_html_().count("<svg") == 2
