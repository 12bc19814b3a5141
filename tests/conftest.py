"""Shared test configuration: hypothesis profiles and the optional PyTorch reference."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "quick", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


def import_torch():
    """PyTorch, or a skip; with LOGLOSS_REQUIRE_TORCH=1 (CI) a missing torch is a failure."""
    if os.environ.get("LOGLOSS_REQUIRE_TORCH") == "1":
        import torch

        return torch
    return pytest.importorskip("torch")


@pytest.fixture(scope="session")
def torch():
    return import_torch()


def eps_of(dtype) -> float:
    return float(np.finfo(dtype).eps)
