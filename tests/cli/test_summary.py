"""``logloss fit --summary``: the coefficient table against statsmodels on the same encoded
design, built here independently (pandas ``get_dummies`` dropping the most frequent level,
numeric columns standardised with the training mean and ddof-0 deviation); the refusals;
the report's section; the table file."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("typer")
sm = pytest.importorskip("statsmodels.api")

from typer.testing import CliRunner  # noqa: E402

from logloss.cli import app  # noqa: E402

runner = CliRunner()
FRAME_COLUMNS = ["class", "reference", "feature", "coef", "std_err", "z", "p_value",
                 "ci_lower", "ci_upper"]  # fmt: skip


def _table(path: Path, n: int, classes: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n, 2)) * [2.0, 0.5] + [10.0, -1.0], columns=["a", "b"])
    df["colour"] = rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2])
    eta = 0.4 * (df.a - 10) - 1.5 * (df.b + 1) + 0.7 * (df.colour == "green")
    if classes == 2:
        df["y"] = np.where(rng.random(n) < 1 / (1 + np.exp(-eta)), "yes", "no")
    else:
        logits = np.column_stack([np.zeros(n), eta, -eta + 0.3 * rng.normal(size=n)])
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        df["y"] = np.array(["c0", "c1", "c2"])[(rng.random(n)[:, None] > p.cumsum(1)).sum(1)]
    df.to_csv(path, index=False)
    return df


def _design(df: pd.DataFrame) -> pd.DataFrame:
    """The encoding the command line promises, written out independently."""
    out = pd.DataFrame(index=df.index)
    for col in ("a", "b"):
        out[col] = (df[col] - df[col].mean()) / df[col].std(ddof=0)
    reference = df["colour"].value_counts().idxmax()
    dummies = pd.get_dummies(df["colour"], prefix="colour", prefix_sep="=", dtype=float)
    out = out.join(dummies.drop(columns=f"colour={reference}"))
    return sm.add_constant(out).rename(columns={"const": "intercept"})


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    folder = tmp_path_factory.mktemp("summary2")
    df = _table(folder / "d.csv", 500, 2, seed=3)
    result = runner.invoke(
        app,
        ["fit", str(folder / "d.csv"), "-t", "y", "-o", str(folder / "m.npz"), "--test-size",
         "0", "--summary", "--summary-file", str(folder / "s.csv"), "--report",
         str(folder / "rep")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return df, result, pd.read_csv(folder / "s.csv"), folder


@pytest.fixture(scope="module")
def multinomial(tmp_path_factory):
    folder = tmp_path_factory.mktemp("summary3")
    df = _table(folder / "d.csv", 600, 3, seed=5)
    result = runner.invoke(
        app,
        ["fit", str(folder / "d.csv"), "-t", "y", "-o", str(folder / "m.npz"), "-m", "softmax",
         "--test-size", "0", "--summary-file", str(folder / "s.parquet")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return df, result, pd.read_parquet(folder / "s.parquet")


def _stat(stdout: str, name: str) -> float:
    line = next(line for line in stdout.splitlines() if line.strip().startswith(name))
    return float(line.split()[-1].replace(",", ""))


def test_binary_numbers_equal_statsmodels_logit(binary):
    df, result, table, _ = binary
    Z = _design(df)
    ref = sm.Logit((df["y"] == "yes").astype(float), Z).fit(method="newton", tol=1e-12, disp=0)
    assert list(table.columns) == FRAME_COLUMNS
    assert table["feature"].tolist() == list(Z.columns)  # intercept first, encoded names
    assert set(table["class"]) == {"yes"} and set(table["reference"]) == {"no"}
    ci = ref.conf_int().to_numpy()
    for column, expected in [("coef", ref.params), ("std_err", ref.bse), ("z", ref.tvalues),
                             ("p_value", ref.pvalues), ("ci_lower", ci[:, 0]),
                             ("ci_upper", ci[:, 1])]:  # fmt: skip
        np.testing.assert_allclose(table[column], np.asarray(expected), rtol=1e-6, atol=1e-9)
    out = result.stdout
    assert "fitted unpenalised" in out
    assert _stat(out, "observations") == ref.nobs
    for name, value in [("log-likelihood", ref.llf), ("null log-likelihood", ref.llnull),
                        ("LR χ²", ref.llr), ("pseudo R²", ref.prsquared), ("AIC", ref.aic),
                        ("BIC", ref.bic)]:  # fmt: skip
        assert _stat(out, name) == pytest.approx(value, abs=6e-5), name
    assert _stat(out, "LR p-value") == pytest.approx(ref.llr_pvalue, rel=1e-3)
    assert ["converged", "yes"] in [line.split() for line in out.splitlines()]
    # the printed table: one row per feature, coefficient to 4 decimals
    row = next(line for line in out.splitlines() if line.startswith("colour="))
    name = row.split()[0]
    assert float(row.split()[1]) == pytest.approx(ref.params[name], abs=6e-5)


def test_multinomial_numbers_equal_statsmodels_mnlogit(multinomial):
    df, result, table = multinomial
    Z = _design(df)
    codes = pd.Categorical(df["y"], categories=["c0", "c1", "c2"]).codes
    ref = sm.MNLogit(codes, Z).fit(method="newton", tol=1e-12, disp=0, maxiter=100)
    # one block per equation, relative to the first class
    assert table["class"].tolist() == ["c1"] * Z.shape[1] + ["c2"] * Z.shape[1]
    assert set(table["reference"]) == {"c0"}
    assert table["feature"].tolist() == list(Z.columns) * 2
    flat = lambda a: np.asarray(a).ravel(order="F")  # noqa: E731  equation-major
    np.testing.assert_allclose(table["coef"], flat(ref.params), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(table["std_err"], flat(ref.bse), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(table["p_value"], flat(ref.pvalues), rtol=1e-5, atol=1e-12)
    out = result.stdout
    assert "log-odds of y=c1 against y=c0" in out and "log-odds of y=c2 against y=c0" in out
    assert _stat(out, "log-likelihood") == pytest.approx(ref.llf, abs=6e-5)
    assert _stat(out, "LR χ²") == pytest.approx(ref.llr, abs=6e-5)
    assert "(8 df)" in out  # 4 features x (3 classes - 1)


def test_report_has_the_coefficient_section(binary):
    _, _, table, folder = binary
    page = (folder / "rep" / "index.html").read_text()
    section = page.split("<h2>Coefficients</h2>", 1)[1]
    assert "std. err." in section and "Fit statistics" in section
    assert "log-odds of yes against no" in section
    assert "colour=green" in section and "maximum likelihood" in section


def test_report_says_why_a_penalised_fit_has_no_standard_errors(tmp_path):
    _table(tmp_path / "d.csv", 200, 2, seed=1)
    for extra, words in [([], "l2 penalty"), (["-m", "mlp", "--max-iter", "3"], "not identified")]:
        result = runner.invoke(
            app,
            ["fit", str(tmp_path / "d.csv"), "-t", "y", "-o", str(tmp_path / "m.npz"),
             "--report", str(tmp_path / "rep"), *extra],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        section = (tmp_path / "rep" / "index.html").read_text().split("<h2>Coefficients</h2>")
        assert len(section) == 2 and words in section[1] and "standard errors" in section[1]
        assert "std. err." not in section[1]


def _one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--penalty", "l2"], ["--summary", "l2 penalty", "standard errors"]),
        (["--penalty", "elasticnet", "--solver", "gd"], ["--summary", "elasticnet penalty"]),
        (["-m", "mlp"], ["--summary", "logistic and softmax", "not identified"]),
        (["--class-weight", "balanced"], ["--summary", "--class-weight none"]),
        (["--summary-file", "s.txt"], ["suffix", ".csv"]),
        (["--summary-file", "-"], ["--summary-file", "must name a file"]),
    ],
)
def test_refusals_are_one_sentence_and_exit_2(tmp_path, extra, words):
    _table(tmp_path / "d.csv", 60, 2, seed=2)
    extra = [str(tmp_path / e) if e == "s.txt" else e for e in extra]
    result = runner.invoke(
        app, ["fit", str(tmp_path / "d.csv"), "-t", "y", "-o", str(tmp_path / "m.npz"),
              "--summary", *extra],
    )  # fmt: skip
    line = _one_line_error(result)
    for word in words:
        assert word in line
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("flag", [["--summary"], ["--penalty", "none"]])
def test_dependent_columns_stop_before_the_fit(tmp_path, flag):
    df = _table(tmp_path / "d.csv", 80, 2, seed=4)
    df["total"] = df["a"] + 2 * df["b"]
    df.to_csv(tmp_path / "d.csv", index=False)
    result = runner.invoke(
        app, ["fit", str(tmp_path / "d.csv"), "-t", "y", "-o", str(tmp_path / "m.npz"), *flag]
    )
    line = _one_line_error(result)
    assert "columns `a`, `b` and `total` are linearly dependent (a = -2·b + total)" in line
    assert not (tmp_path / "m.npz").exists()


def test_the_default_penalised_fit_ignores_dependent_columns(tmp_path):
    df = _table(tmp_path / "d.csv", 80, 2, seed=4)
    df["copy"] = df["a"]
    df.to_csv(tmp_path / "d.csv", index=False)
    result = runner.invoke(
        app, ["fit", str(tmp_path / "d.csv"), "-t", "y", "-o", str(tmp_path / "m.npz")]
    )
    assert result.exit_code == 0, result.output  # an L2 penalty identifies them


def test_a_terminal_gets_rich_tables():
    from rich.console import Console

    from logloss.stats import infer
    from logloss.tables.summary import Summary, print_summary

    # the CLI's own output above is plain text: CliRunner is not a terminal
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (rng.random(200) < 1 / (1 + np.exp(-X[:, 0]))).astype(int)
    from logloss import LogisticRegression

    model = LogisticRegression(penalty=None, solver="newton", tol=1e-10).fit(X, y)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100, color_system=None)
    print_summary(Summary(infer(model, X, y), converged=True), console)
    text = buffer.getvalue()
    assert "Fit statistics" in text and ("━" in text or "─" in text)
    assert "x1" in text and "log-odds of y=1 against y=0" in text


def test_firth_on_the_command_line(tmp_path):
    from logloss.models.linear import PENALTIES

    if "firth" not in PENALTIES:
        result = runner.invoke(
            app, ["fit", "x.csv", "-t", "y", "-o", str(tmp_path / "m.npz"), "--penalty", "firth"]
        )
        assert result.exit_code == 2 and "firth" in result.stderr
        pytest.skip("LogisticRegression(penalty='firth') is not in this logloss")
    df = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5, 6, 7], "y": [0, 0, 0, 0, 1, 1, 1, 1]})
    df.to_csv(tmp_path / "sep.csv", index=False)
    result = runner.invoke(
        app,
        ["fit", str(tmp_path / "sep.csv"), "-t", "y", "-o", str(tmp_path / "m.npz"),
         "--test-size", "0", "--penalty", "firth", "--summary-file", str(tmp_path / "s.csv")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "s.csv")
    assert list(table.columns) == [c if c != "z" else "chi2" for c in FRAME_COLUMNS]
    assert np.all(np.isfinite(table[["coef", "ci_lower", "ci_upper"]].to_numpy()))
    out = result.stdout
    assert "Firth" in out and "P>chi2" in out and "AIC" not in out
    assert "penalised LR χ²" in out


def test_a_constant_column_and_an_indicator_equal_to_a_column(tmp_path):
    df = _table(tmp_path / "d.csv", 80, 2, seed=6)
    df["site"] = 7
    df["is_green"] = (df["colour"] == "green") * 1
    df.to_csv(tmp_path / "d.csv", index=False)
    result = runner.invoke(
        app, ["fit", str(tmp_path / "d.csv"), "-t", "y", "-o", str(tmp_path / "m.npz"),
              "--summary", "--penalty", "none"],
    )  # fmt: skip
    line = _one_line_error(result)
    assert "column `site` is constant" in line
    assert "columns `colour=green` and `is_green` are linearly dependent" in line
    assert "(colour=green = is_green)" in line
