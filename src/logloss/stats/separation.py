"""Detection of complete and quasi-complete separation by linear programming.

The maximum-likelihood estimate of a logit model exists if and only if no direction
``beta != 0`` keeps every row on its own side: ``s_i z_i^T beta >= 0`` for all rows, with
``s_i = +1`` for the second class and ``-1`` for the first (Albert and Anderson, 1984).
Such a direction is found, or ruled out, exactly by the linear program (Konis, 2007)

    maximise  sum_i s_i z_i^T beta   subject to  s_i z_i^T beta >= 0,  -1 <= beta <= 1,

whose optimum is positive exactly when the data are separated; the columns with a
non-zero ``beta`` are the ones that separate, and the rows with ``s_i z_i^T beta > 0``
are predicted perfectly. A second program, maximising ``t`` with ``s_i z_i^T beta >= t``,
tells complete separation (``t > 0``) from quasi-complete. For several classes the
constraints are ``z_i^T (b_{y_i} - b_k) >= 0`` for every other class ``k`` (with
``b_0 = 0``). We chose the linear program over watching coefficients grow during the fit:
it is a yes/no answer that does not depend on the solver's tolerance, and it names the
columns. It costs one LP over all rows, so on large data (see :func:`find_separation`)
it runs only when the fitted probabilities come within 1e-8 of 0 or 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Problems up to this many design entries always get the LP; larger ones only on suspicion.
LP_ALWAYS_ENTRIES = 2_000_000
_TOL = 1e-7


class SeparationWarning(UserWarning):
    """The data are separated: the maximum-likelihood estimate does not exist."""


@dataclass(frozen=True)
class Separation:
    """A separating direction found by the linear program."""

    kind: str  # "complete" or "quasi-complete"
    columns: tuple[str, ...]
    n_perfect: int  # rows the direction predicts perfectly
    n_rows: int

    def message(self) -> str:
        cols = ", ".join(repr(c) for c in self.columns)
        return (
            f"{self.kind} separation: the column(s) {cols} separate the classes "
            f"({self.n_perfect} of {self.n_rows} rows are predicted perfectly); the "
            "maximum-likelihood estimate does not exist, so the coefficients of these "
            "columns and their standard errors are meaningless (they grow without bound as "
            "the solver runs longer). Drop or merge the column(s), or use a penalised "
            "(e.g. Firth) fit."
        )


def _constraints(Z: NDArray, y: NDArray, n_classes: int):
    """Rows ``A`` with ``A @ beta >= 0`` for no separation to be possible, beta flattened
    equation-major over the non-reference classes."""
    from scipy import sparse

    n, d = Z.shape
    if n_classes == 2:
        s = np.where(y == 1, 1.0, -1.0)
        return sparse.csr_matrix(s[:, None] * Z)
    J = n_classes - 1
    blocks = []
    for k in range(n_classes):
        rows = np.flatnonzero(y != k)
        # margin of row i against class k: z_i^T (b_{y_i} - b_k), with b_0 = 0
        A = sparse.lil_matrix((rows.size, d * J))
        yi = y[rows]
        for j in range(1, n_classes):
            sel = np.flatnonzero(yi == j)
            if sel.size:
                A[sel[:, None], np.arange((j - 1) * d, j * d)[None, :]] = Z[rows[sel]]
        if k > 0:
            A[:, (k - 1) * d : k * d] = A[:, (k - 1) * d : k * d] - Z[rows]
        blocks.append(A.tocsr())
    return sparse.vstack(blocks).tocsr()


def detect(
    Z: NDArray, y: NDArray, n_classes: int, names: list[str]
) -> Separation | None:
    """Run the linear programs on the design ``Z`` (intercept column included) and
    class indices `y`; None when the data are not separated."""
    from scipy.optimize import linprog

    A = _constraints(Z, y, n_classes)
    m, q = A.shape
    scale = max(1.0, float(abs(A).max()))
    A = A / scale
    res = linprog(
        -np.asarray(A.sum(axis=0)).ravel(), A_ub=-A, b_ub=np.zeros(m),
        bounds=[(-1.0, 1.0)] * q, method="highs",
    )  # fmt: skip
    if res.status != 0 or -res.fun <= _TOL * max(1, m):
        return None
    beta = res.x
    margins = A @ beta
    if float(margins.max()) <= _TOL:
        return None
    # complete separation: some beta gives every margin >= t > 0
    from scipy import sparse

    A_t = sparse.hstack([-A, np.ones((m, 1))]).tocsr()
    res_t = linprog(
        np.r_[np.zeros(q), -1.0], A_ub=A_t, b_ub=np.zeros(m),
        bounds=[(-1.0, 1.0)] * q + [(0.0, 1.0)], method="highs",
    )  # fmt: skip
    complete = res_t.status == 0 and -res_t.fun > _TOL
    if complete:
        beta = res_t.x[:q]
        margins = A @ beta
    d = Z.shape[1]
    coef = np.abs(beta.reshape(-1, d)).max(axis=0)  # over equations
    columns = tuple(names[i] for i in np.flatnonzero(coef > 1e-6))
    # a row is predicted perfectly when all its margins are positive
    perfect = margins > _TOL
    if n_classes > 2:
        per_row = np.zeros(Z.shape[0], dtype=bool)
        counts = np.zeros(Z.shape[0], dtype=int)
        row_ids = np.concatenate([np.flatnonzero(y != k) for k in range(n_classes)])
        np.add.at(counts, row_ids, perfect.astype(int))
        per_row = counts == n_classes - 1
        n_perfect = int(per_row.sum())
    else:
        n_perfect = int(perfect.sum())
    return Separation(
        "complete" if complete else "quasi-complete", columns, n_perfect, Z.shape[0]
    )


def suspicious(extreme_prob: float) -> bool:
    """A cheap screen for large data: some row's fitted probability of its own class is
    within 1e-8 of 1."""
    return extreme_prob > 1.0 - 1e-8
