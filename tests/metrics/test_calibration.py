"""Reliability bins and the expected calibration error (logloss.metrics.calibration)."""

from __future__ import annotations

import numpy as np
import pytest

from logloss.metrics.calibration import N_BINS, expected_calibration_error, reliability_bins


def test_calibration_error_by_hand():
    codes = np.array([0, 1, 1, 1])
    P = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    bins = reliability_bins(codes, P, n_bins=10)
    # second-class probabilities 0.1, 0.1, 0.8, 0.6 against outcomes 0, 1, 1, 1
    assert bins["ece"] == pytest.approx((abs(1 - 0.2) + abs(1 - 0.8) + abs(1 - 0.6)) / 4)
    assert bins["count"].sum() == 4 and bins["edges"].size == 11


def test_reliability_bins_by_hand():
    codes = np.array([0, 0, 1, 1, 1, 0])
    p1 = np.array([0.05, 0.15, 0.85, 0.95, 0.9, 0.8])
    bins = reliability_bins(codes, np.column_stack([1 - p1, p1]), n_bins=2)
    assert bins["count"].tolist() == [2, 4]
    np.testing.assert_allclose(bins["mean_predicted"], [0.1, 0.875])
    np.testing.assert_allclose(bins["observed"], [0.0, 0.75])
    # |0 - 0.1| * 2/6 + |0.75 - 0.875| * 4/6
    assert bins["ece"] == pytest.approx(0.2 / 6 + 0.5 / 6)


def test_empty_bins_are_nan_and_edges_cover_the_unit_interval():
    bins = reliability_bins(np.array([1, 0]), np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert bins["edges"][0] == 0.0 and bins["edges"][-1] == 1.0 and bins["edges"].size == N_BINS + 1
    # probability 0 falls in the first bin, 1 in the last
    assert bins["count"][0] == 1 and bins["count"][-1] == 1
    assert np.isnan(bins["observed"][1:-1]).all() and bins["ece"] == 0.0


def test_multiclass_bins_use_the_top_label_confidence():
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])
    codes = np.array([0, 2, 2])  # right, wrong, right
    bins = reliability_bins(codes, P, n_bins=5)
    assert bins["count"].tolist() == [0, 0, 2, 1, 0]
    np.testing.assert_allclose(bins["mean_predicted"][2:4], [0.6, 0.7])
    np.testing.assert_allclose(bins["observed"][2:4], [0.5, 1.0])
    # the top-label ECE is the same number from either function
    assert bins["ece"] == pytest.approx(expected_calibration_error(codes, P, n_bins=5))
    assert bins["ece"] == pytest.approx((abs(1 - 1.2) + abs(1 - 0.7)) / 3)


def test_expected_calibration_error_by_hand_and_weighted():
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    y = np.array([0, 1, 1, 1])
    # confidences 0.9, 0.9, 0.8, 0.6; correct 1, 0, 1, 1
    expected = (abs(1 - 1.8) + abs(1 - 0.8) + abs(1 - 0.6)) / 4
    assert expected_calibration_error(y, p, n_bins=10) == pytest.approx(expected)
    # an integer weight counts a row that many times
    w = np.array([2.0, 1.0, 1.0, 3.0])
    repeated = np.repeat(np.arange(4), w.astype(int))
    assert expected_calibration_error(y, p, n_bins=10, sample_weight=w) == pytest.approx(
        expected_calibration_error(y[repeated], p[repeated], n_bins=10)
    )
    assert expected_calibration_error(np.array([0, 0]), np.array([[1.0, 0.0], [1.0, 0.0]])) == 0
    assert expected_calibration_error(y, p, sample_weight=np.zeros(4)) == 0.0
