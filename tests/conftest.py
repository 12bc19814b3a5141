"""Shared test configuration: hypothesis profiles and the optional PyTorch reference."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from support import import_torch

settings.register_profile(
    "quick", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


@pytest.fixture(scope="session")
def torch():
    return import_torch()
