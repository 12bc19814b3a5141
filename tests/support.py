"""Helpers the tests import by name (`from support import ...`): the optional PyTorch
reference and dtype tolerances. Kept out of conftest.py, whose module name is not unique
once a test folder has its own conftest."""

from __future__ import annotations

import os

import numpy as np
import pytest


def import_torch():
    """PyTorch, or a skip; with LOGLOSS_REQUIRE_TORCH=1 (CI) a missing torch is a failure."""
    if os.environ.get("LOGLOSS_REQUIRE_TORCH") == "1":
        import torch

        return torch
    return pytest.importorskip("torch")


def eps_of(dtype) -> float:
    return float(np.finfo(dtype).eps)


@pytest.fixture(autouse=True)
def one_blas_thread():
    """BLAS limited to one thread for every test of a module that imports this fixture
    (``from support import one_blas_thread``): fits on the 2-core machine would otherwise
    spin OpenBLAS's threads against pytest-xdist's other worker."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield
