"""Rank deficiency of an encoded design: every kind named by its columns, before a fit.

The reference is the definition: a dependency ``sum_k c_k z_k = 0`` of the columns (and the
intercept) is checked on the data itself, and full-rank designs (numpy's ``matrix_rank``
of ``[1, X]``) pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from logloss.stats._inputs import linear_dependencies
from logloss.tables.preprocess import Preprocessor
from logloss.tables.rank import RankDeficiencyError, centred_gram, check_rank, dependencies

rng = np.random.default_rng(11)
N = 300
A, B, C = rng.normal(size=(3, N))


def _named(found):
    return [cols for cols, _ in found]


def test_full_rank_passes_and_agrees_with_matrix_rank():
    X = np.column_stack([A, B, C, A * B])
    assert np.linalg.matrix_rank(np.column_stack([np.ones(N), X])) == 5
    check_rank(X, ["a", "b", "c", "ab"])
    # nearly but not exactly collinear: identified, so no error
    check_rank(np.column_stack([A, A + 1e-3 * B]), ["a", "a2"])


def test_a_constant_column_is_named():
    X = np.column_stack([A, np.full(N, 3.5), B])
    assert dependencies(X, ["a", "k", "b"]) == [(["k"], "k is constant (3.5)")]
    with pytest.raises(RankDeficiencyError, match=r"column `k` is constant"):
        check_rank(X, ["a", "k", "b"])


def test_a_duplicated_column():
    X = np.column_stack([A, B, A])
    assert dependencies(X, ["a", "b", "a_again"]) == [(["a", "a_again"], "a = a_again")]


def test_a_sum_of_others_names_every_column_of_it():
    X = np.column_stack([A, B, C, B + C])
    [(cols, relation)] = dependencies(X, ["a", "b", "c", "s"])
    assert cols == ["b", "c", "s"] and relation == "b = -c + s"
    with pytest.raises(ValueError, match=r"columns `b`, `c` and `s` are linearly dependent"):
        check_rank(X, ["a", "b", "c", "s"])


def test_an_affine_relation_through_the_intercept():
    X = np.column_stack([A, 2.0 * A - 1.0])
    assert dependencies(X, ["a", "b"]) == [(["a", "b"], "a = 0.5·b + 0.5")]


def test_several_dependencies_are_all_named():
    X = np.column_stack([A, B, A, C, B - C, np.zeros(N)])
    names = ["a", "b", "a2", "c", "bc", "zero"]
    found = _named(dependencies(X, names))
    assert sorted(found) == sorted([["zero"], ["a", "a2"], ["b", "c", "bc"]])
    with pytest.raises(RankDeficiencyError) as err:
        check_rank(X, names)
    assert len(err.value.relations) == 3
    for name in names:
        assert f"`{name}`" in str(err.value)


def _encoded(df: pd.DataFrame):
    pre = Preprocessor().fit(df, list(df.columns))
    X, _ = pre.transform(df)
    from logloss.tables.rank import encoded_units

    offsets, scales = encoded_units(pre)
    return X, pre.feature_names_out, offsets, scales


def test_an_indicator_equal_to_another_column_in_the_tables_units():
    carrier = rng.choice(["AA", "UA", "DL"], N, p=[0.5, 0.3, 0.2])
    df = pd.DataFrame({"x": A, "carrier": carrier, "is_ua": (carrier == "UA") * 1.0})
    X, names, offsets, scales = _encoded(df)
    found = dependencies(X, names, offsets=offsets, scales=scales)
    # is_ua was standardised; the relation is written in the table's 0/1 units
    assert found == [(["carrier=UA", "is_ua"], "carrier=UA = is_ua")]


def test_indicators_of_two_text_columns_that_coincide():
    carrier = rng.choice(["AA", "UA", "DL"], N, p=[0.5, 0.3, 0.2])
    hub = np.where(carrier == "UA", "ORD", np.where(rng.random(N) < 0.6, "ATL", "JFK"))
    X, names, offsets, scales = _encoded(pd.DataFrame({"carrier": carrier, "hub": hub}))
    found = _named(dependencies(X, names, offsets=offsets, scales=scales))
    assert ["carrier=UA", "hub=ORD"] in found


def test_numeric_relation_in_the_tables_units():
    df = pd.DataFrame({"a": 10 + 3 * A, "b": 5 * B - 2})
    df["total"] = df["a"] + 2 * df["b"]
    X, names, offsets, scales = _encoded(df)
    assert dependencies(X, names, offsets=offsets, scales=scales) == [
        (["a", "b", "total"], "a = -2·b + total")
    ]


def test_blocks_and_sparse_give_the_same_gram():
    sparse = pytest.importorskip("scipy.sparse")
    X = np.column_stack([A, B > 0, C > 1]).astype(float) + [100.0, 0, 0]
    C0, m0, n0 = centred_gram(X, block_rows=N)
    C1, m1, n1 = centred_gram(X, block_rows=7)
    C2, m2, _ = centred_gram(sparse.csr_matrix(X), block_rows=64)
    reference = np.cov(X.T, bias=True)
    for Cx, mx in ((C0, m0), (C1, m1), (C2, m2)):
        np.testing.assert_allclose(Cx, reference, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(mx, X.mean(axis=0), rtol=1e-12)
    assert n0 == n1 == N
    dup = sparse.csr_matrix(np.column_stack([B > 0, B > 0]).astype(float))
    assert _named(dependencies(dup, ["p", "q"], block_rows=50)) == [["p", "q"]]


def test_each_null_vector_holds_on_the_data():
    Z = np.column_stack([np.ones(N), A, B, A + B, C, 2 * C, np.zeros(N)])
    found = linear_dependencies(Z.T @ Z)
    assert len(found) == 7 - np.linalg.matrix_rank(Z)
    for members, coefs in found:
        residual = Z[:, members] @ coefs
        assert np.abs(residual).max() < 1e-10 * max(1.0, np.abs(Z[:, members]).max())
        assert np.all(coefs != 0)


def test_bad_names_are_a_clear_error():
    with pytest.raises(ValueError, match="`names` has 1 names for 2 columns"):
        check_rank(np.column_stack([A, B]), ["a"])
