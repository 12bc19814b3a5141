"""Shared tables for the tests of logloss.tables."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")


@pytest.fixture
def frame():
    """Four rows: a float column with a gap, integers, booleans, text with a gap."""
    return pd.DataFrame(
        {
            "x": [1.0, np.nan, 3.0, 5.0],
            "n": [1, 2, 3, 4],
            "flag": [True, False, True, True],
            "colour": ["red", "blue", None, "red"],
        }
    )
