"""Detection of complete and quasi-complete separation by linear programming.

The maximum-likelihood estimate of a logit model exists if and only if no direction
``beta != 0`` keeps every row on its own side: ``s_i z_i^T beta >= 0`` for all rows, with
``s_i = +1`` for the second class and ``-1`` for the first (Albert and Anderson, 1984).
Such a direction is found, or ruled out, exactly by linear programming (Konis, 2007):

    complete:        minimise ||beta||_1  subject to  s_i z_i^T beta >= 1 for all i
    quasi-complete:  minimise ||beta||_1  subject to  s_i z_i^T beta >= 0, sum_i s_i z_i^T beta >= 1

(the intercept is free in the norm); either program is feasible exactly when the data
are separated that way. The L1 norm picks a sparse direction; its columns are then
pruned one at a time while the rest still separate, so the columns named are a minimal
set that separates on its own. The rows with ``s_i z_i^T beta > 0`` are predicted
perfectly. For several classes the
constraints are ``z_i^T (b_{y_i} - b_k) >= 0`` for every other class ``k`` (with
``b_0 = 0``). We chose the linear program over watching coefficients grow during the fit:
it is a yes/no answer that does not depend on the solver's tolerance, and it names the
columns. It costs a linear program over all rows (seconds for millions of design
entries), so above ``LP_ALWAYS_ENTRIES`` it runs only when a fitted probability comes
within 1e-6 of 0 or 1 (:func:`suspicious`); a separation that a short fit has not yet
pushed that far goes unreported there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Problems up to this many design entries always get the LP; larger ones only on suspicion.
LP_ALWAYS_ENTRIES = 500_000  # about half a second of dual simplex
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
        what = f"the column(s) {cols} separate" if cols else "the intercept alone separates"
        return (
            f"{self.kind} separation: {what} the classes "
            f"({self.n_perfect} of {self.n_rows} rows are predicted perfectly); the "
            "maximum-likelihood estimate does not exist, so the coefficients of these "
            "columns and their standard errors are meaningless (they grow without bound as "
            "the solver runs longer). Drop or merge the column(s), or fit Firth's penalised "
            "likelihood, LogisticRegression(penalty='firth'), whose estimates stay finite "
            "and which logloss.stats.infer supports (binary models)."
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
    cols = np.arange(d)
    for k in range(n_classes):
        rows = np.flatnonzero(y != k)
        # margin of row i against class k: z_i^T (b_{y_i} - b_k), with b_0 = 0
        parts_r, parts_c, parts_v = [], [], []
        own = y[rows]
        has_own = own > 0  # b_{y_i} is a variable unless y_i is the reference class
        r = np.flatnonzero(has_own)
        parts_r.append(np.repeat(r, d))
        parts_c.append(((own[r] - 1)[:, None] * d + cols[None, :]).ravel())
        parts_v.append(Z[rows[r]].ravel())
        if k > 0:
            parts_r.append(np.repeat(np.arange(rows.size), d))
            parts_c.append(np.tile((k - 1) * d + cols, rows.size))
            parts_v.append(-Z[rows].ravel())
        blocks.append(
            sparse.coo_matrix(
                (np.concatenate(parts_v), (np.concatenate(parts_r), np.concatenate(parts_c))),
                shape=(rows.size, d * J),
            ).tocsr()
        )
    return sparse.vstack(blocks).tocsr()


def _separated(A) -> bool:
    """Konis's test: ``max sum(A beta)`` subject to ``A beta >= 0``, ``-1 <= beta <= 1``
    is positive exactly when some direction separates (dual simplex: the fastest here)."""
    from scipy.optimize import linprog

    m = A.shape[0]
    res = linprog(
        -np.asarray(A.sum(axis=0)).ravel(), A_ub=-A, b_ub=np.zeros(m), bounds=(-1.0, 1.0),
        method="highs-ds",
    )  # fmt: skip
    return res.status == 0 and -res.fun > _TOL


def _sparsest(A, fixed_rhs: bool, free: NDArray):
    """Minimise ``||beta||_1`` over the columns not in `free` (the intercepts) subject to
    ``A beta >= 1`` (`fixed_rhs`: complete separation) or to ``A beta >= 0`` and
    ``sum(A beta) >= 1`` (quasi-complete). beta = p - m with p, m >= 0; None if infeasible."""
    from scipy import sparse
    from scipy.optimize import linprog

    m, q = A.shape
    cost = np.where(free, 0.0, 1.0)
    A2 = sparse.hstack([A, -A]).tocsr()
    if fixed_rhs:
        A_ub, b_ub = -A2, -np.ones(m)
    else:
        total = sparse.csr_matrix(np.asarray(A2.sum(axis=0)))
        A_ub, b_ub = sparse.vstack([-A2, -total]).tocsr(), np.r_[np.zeros(m), -1.0]
    res = linprog(np.r_[cost, cost], A_ub=A_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if res.status != 0:
        return None
    return res.x[:q] - res.x[q:]


def detect(
    Z: NDArray, y: NDArray, n_classes: int, names: list[str], *, intercept: bool = True
) -> Separation | None:
    """Find a separating direction of the design ``Z`` (intercept column first when
    `intercept`) and class indices `y`; None when the data are not separated.

    Of all separating directions the one with the smallest L1 norm (intercepts free) is
    taken, which tends to be sparse, so the columns named are few: first with every row
    strictly separated (complete), else with ties allowed (quasi-complete).
    """
    A = _constraints(Z, y, n_classes)
    A = A / max(1.0, float(abs(A).max()))
    d = Z.shape[1]
    free = np.zeros(A.shape[1], dtype=bool)
    if intercept:
        free[::d] = True
    if not _separated(A):
        return None
    complete = True
    beta = _sparsest(A, True, free)
    if beta is None:
        complete = False
        beta = _sparsest(A, False, free)
        if beta is None or float((A @ beta).max()) <= _TOL:
            return None
    beta, cols = _prune(A, beta, complete, free, d, intercept)
    margins = A @ beta
    perfect = margins > 1e-7 * float(margins.max())
    if n_classes > 2:
        # a row is predicted perfectly when its margins against every other class are positive
        counts = np.zeros(Z.shape[0], dtype=int)
        row_ids = np.concatenate([np.flatnonzero(y != k) for k in range(n_classes)])
        np.add.at(counts, row_ids, perfect.astype(int))
        n_perfect = int(np.sum(counts == n_classes - 1))
    else:
        n_perfect = int(perfect.sum())
    kind = "complete" if complete else "quasi-complete"
    return Separation(kind, tuple(names[i] for i in cols), n_perfect, Z.shape[0])


def _prune(A, beta: NDArray, complete: bool, free: NDArray, d: int, intercept: bool):
    """Drop the direction's columns one at a time (smallest weight first) while the rest
    still separate the same way, so the columns named are a minimal separating set."""
    weight = np.abs(beta.reshape(-1, d)).max(axis=0)  # over equations
    cols = [int(i) for i in np.argsort(weight) if weight[i] > 1e-9 * weight.max()]
    cols = [i for i in cols if not (intercept and i == 0)]
    for c in list(cols):
        if len(cols) == 1:
            break
        keep = [i for i in cols if i != c] + ([0] if intercept else [])
        mask = np.zeros(d, dtype=bool)
        mask[keep] = True
        var = np.tile(mask, A.shape[1] // d)  # the same columns in every equation
        trial = _sparsest(A[:, np.flatnonzero(var)], complete, free[var])
        if trial is not None and float((A[:, np.flatnonzero(var)] @ trial).max()) > _TOL:
            cols.remove(c)
            beta = np.zeros_like(beta)
            beta[var] = trial
    return beta, sorted(cols)


def suspicious(max_own_prob: float) -> bool:
    """The screen for large data: some row's fitted probability of its own class is within
    1e-6 of 1 (a margin of 13.8 on the logit scale), where separated rows sit after any
    solver has run a while along the separating direction."""
    return max_own_prob > 1.0 - 1e-6
