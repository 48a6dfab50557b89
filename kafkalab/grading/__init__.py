"""Grading: checks with points, a runner with timeouts, and reports (text, HTML, Gradescope JSON)."""

from kafkalab.grading.checks import check, checks_for
from kafkalab.grading.report import Report
from kafkalab.grading.runner import grade

__all__ = ["Report", "check", "checks_for", "grade"]
