"""The assignment the grading tests check submissions against: hidden and visible tests.

Its test files are text here (never collected by this test pass). The
hidden file has a test worth 2 points, a parametrized test (its cases score
together) and a unittest-style class, so a forgery aimed at any of those shows.
"""

from __future__ import annotations

HIDDEN = {
    "test_stats.py": """\
import unittest

import pytest

from solution import mean, median


@pytest.mark.points(2)
def test_mean():
    assert mean([1, 2, 3, 4]) == 2.5


@pytest.mark.parametrize(("values", "expected"), [([3, 1, 2], 2), ([4, 1, 3, 2], 2.5)])
def test_median(values, expected):
    assert median(values) == expected


class TestEdges(unittest.TestCase):
    def test_single(self):
        self.assertEqual(median([7]), 7)

    def test_empty_mean_raises(self):
        with self.assertRaises(ValueError):
            mean([])
""",
}
HIDDEN_NAMES = [
    "test_stats.py::test_mean",
    "test_stats.py::test_median",
    "test_stats.py::TestEdges::test_single",
    "test_stats.py::TestEdges::test_empty_mean_raises",
]
HIDDEN_MAX = 5.0

VISIBLE = {
    "test_visible.py": """\
from solution import mean


def test_mean_of_one():
    assert mean([5]) == 5
""",
}

# A correct solution, with one thing for ruff to say (an unused import).
CORRECT = {
    "solution.py": """\
import os


def mean(values):
    if not values:
        raise ValueError("mean of nothing")
    return sum(values) / len(values)


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
""",
}
