"""The thread policy of the numba kernels, applied once, at the first kernel call.

numba's OpenMP threads busy-wait after each parallel kernel, and OpenBLAS's threads after
each matrix product. Where the two alternate on the same few cores (every objective
evaluation: X @ W, the kernel, X.T @ G) the spinning threads of one pool starve the
other: on the project's 2-core machine a digits-sized softmax evaluation took 8.0 ms with
GNU OpenMP's default spinning and 0.23 ms with passive waiting; a 1,000,000 x 50 binary
one 22.8 ms and 14.3 ms.

GNU OpenMP reads its policy from the environment when it loads, which is when numba's
threading layer starts (the first parallel launch). So :func:`apply_wait_policy` runs
just before the kernel modules are imported (``dispatch.load_numba``), never at
``import logloss``: unless the user chose a policy (``OMP_WAIT_POLICY`` or
``GOMP_SPINCOUNT`` set), the kernels' threads wait passively.
"""

from __future__ import annotations

import os

__all__ = ["apply_wait_policy"]

_USER_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def apply_wait_policy() -> None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the user set either OpenMP wait variable."""
    if not any(key in os.environ for key in _USER_SETTINGS):
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
