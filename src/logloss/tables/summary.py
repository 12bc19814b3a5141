"""``logloss fit --summary``: the coefficient table and fit statistics of maximum likelihood.

:func:`summary_options` checks that ``--summary`` fits the other options and says how it
changes them (no penalty, Newton to a tight tolerance); :func:`infer_prepared` runs
:func:`logloss.stats.infer` on the training rows, with the encoded feature names;
:func:`coefficient_frame` is the table as a script reads it (``--summary-file``),
:func:`fit_statistics` the statistics, and :func:`print_summary` shows both, as rich
tables on a terminal and as plain text otherwise.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .options import OptionError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    from rich.console import Console

    from ..stats import InferenceResult
    from .training import Prepared

__all__ = [
    "FRAME_COLUMNS",
    "Summary",
    "coefficient_frame",
    "fit_statistics",
    "infer_prepared",
    "no_inference_reason",
    "print_summary",
    "summary_options",
]

# The Newton solver and tolerance --summary uses when --solver is not given: the standard
# errors are those of the maximum, and Newton reaches it to 1e-8 in a few steps.
SUMMARY_SOLVER = "newton-cholesky"
SUMMARY_TOL = 1e-8
# Penalties whose fit logloss.stats.infer reports on (firth: with its own inference).
INFERENCE_PENALTIES = ("none", "firth")
FRAME_COLUMNS = (
    "class", "reference", "feature", "coef", "std_err", "z", "p_value", "ci_lower", "ci_upper",
)  # fmt: skip
# A Firth fit's tests are penalised likelihood-ratio tests: "chi2" replaces "z".
_STATISTIC = {"z": ("z", "P>|z|"), "chi2": ("chi2", "P>chi2")}


def _is_firth(res: Any) -> bool:
    return bool(getattr(res, "firth", False))


def summary_options(
    *,
    model: str,
    penalty: str | None,
    solver: str | None,
    tol: float | None,
    class_weight: str | None,
) -> tuple[dict[str, Any], str | None]:
    """The options ``--summary`` sets (``{"penalty": "none", ...}``) and the note that says
    so; an :class:`OptionError` when it cannot apply.

    Examples
    --------
    >>> summary_options(model="logistic", penalty=None, solver=None, tol=None, class_weight=None)[0]
    {'penalty': 'none', 'solver': 'newton-cholesky', 'tol': 1e-08}
    >>> summary_options(model="logistic", penalty="l2", solver=None, tol=None, class_weight=None)
    Traceback (most recent call last):
    ...
    logloss.tables.options.OptionError: invalid value for --summary: needs an unpenalised fit (--penalty none, or no --penalty), since an l2 penalty shrinks the coefficients towards zero and the standard errors of maximum likelihood do not apply to them
    """  # noqa: E501
    if model == "mlp":
        raise OptionError(
            "--summary",
            "applies to --model logistic and softmax only, since the weights of a neural "
            "network are not identified (hidden units can be swapped) and have no standard errors",
        )
    if penalty is not None and penalty not in INFERENCE_PENALTIES:
        raise OptionError(
            "--summary",
            "needs an unpenalised fit (--penalty none, or no --penalty), since an "
            f"{penalty} penalty shrinks the coefficients towards zero and the standard "
            "errors of maximum likelihood do not apply to them",
        )
    if class_weight is not None:
        raise OptionError(
            "--summary",
            f"needs --class-weight none, since {class_weight} class weights make the "
            "likelihood differ from the data's and its standard errors do not apply",
        )
    changes: dict[str, Any] = {}
    if penalty is None:
        changes["penalty"] = "none"
    if solver is None:
        changes["solver"] = SUMMARY_SOLVER
        if tol is None:
            changes["tol"] = SUMMARY_TOL
    if not changes:
        return changes, None
    parts = ["Note: with --summary"]
    parts.append(" and no --penalty the model is fitted unpenalised" if penalty is None
                 else " the model is fitted")  # fmt: skip
    if solver is None:
        parts.append(
            f"{',' if penalty is None else ''} by --solver {SUMMARY_SOLVER} to --tol "
            f"{_short(changes.get('tol', tol))} (to the optimum)"
        )
    note = "".join(parts) + "."
    return changes, note


def _short(x: float | None) -> str:
    """``1e-08`` as ``1e-8``."""
    return "the default" if x is None else f"{x:g}".replace("e-0", "e-")


def no_inference_reason(model: Any, penalty: str | None) -> str | None:
    """Why a fitted model has no standard errors (None when it has them): an MLP's weights,
    or a penalised fit.

    Examples
    --------
    >>> from logloss import LogisticRegression
    >>> no_inference_reason(LogisticRegression(C=0.5), None)[:49]
    'The model was fitted with an l2 penalty (C = 0.5)'
    """
    params = model.get_params()
    if "penalty" not in params:  # an MLPClassifier
        return (
            f"A {type(model).__name__}'s weights are not identified (hidden units can be "
            "swapped), so they have no standard errors."
        )
    if penalty in INFERENCE_PENALTIES:
        return None
    return (
        f"The model was fitted with an {params['penalty']} penalty (C = {params['C']:g}), which "
        "shrinks its coefficients towards zero, so the standard errors of maximum likelihood "
        "do not apply; fit with --penalty none (or --summary) for them."
    )


@dataclass
class Summary:
    """The inference of a fitted model on its training rows."""

    result: InferenceResult
    converged: bool  # not interrupted, and within 1e-3 standard errors of the maximum
    warnings: list[str] = field(default_factory=list)  # separation, convergence
    calibrated: bool = False  # the coefficients are those before temperature scaling
    firth: bool = False  # fitted with Firth's penalty: infer's own inference

    @property
    def title(self) -> str:
        if self.firth:
            return (
                "Coefficients (Firth's penalised likelihood: Wald standard errors, penalised "
                "likelihood-ratio tests, profile intervals)"
            )
        return f"Coefficients (maximum likelihood, {self.result.cov_type} standard errors)"

    def sentence(self) -> str:
        """What the table is, for the report: the method, the rows, the units, warnings."""
        before = ", before temperature scaling" if self.calibrated else ""
        text = (
            f"{self.title} on the {self.result.nobs:,.0f} training rows{before}, with "
            f"{1 - self.result.alpha:.0%} intervals; {CAPTION}."
        )
        return " ".join([text, *(f"Warning: {m}" for m in self.warnings)])


def infer_prepared(prepared: Prepared, model: Any) -> Summary:
    """:func:`logloss.stats.infer` of `model` (the classifier inside a calibrated one) on the
    training rows of `prepared`, its rows named by the encoded features (``intercept``
    first); the warnings it raises become ``Summary.warnings``."""
    from ..stats import NotConvergedWarning, infer
    from .training import base_estimator

    inner = base_estimator(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = infer(inner, prepared.X["training"], prepared.y["training"])
    names = list(prepared.preprocessor.feature_names_out)
    res = dataclasses.replace(res, feature_names=["intercept", *names])
    messages = list(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))
    off = any(issubclass(w.category, NotConvergedWarning) for w in caught)
    return Summary(
        result=res,
        converged=not off and not getattr(inner, "interrupted_", False),
        warnings=messages,
        calibrated=inner is not model,
        firth=_is_firth(res),
    )


def coefficient_frame(res: InferenceResult) -> pd.DataFrame:
    """The coefficients as a script reads them: one row per (class, feature), with the
    columns of :data:`FRAME_COLUMNS`. ``class`` is the class whose log-odds against
    ``reference`` (the first class) the row's equation gives: the second class of a binary
    model; every other class of a multinomial one, equation by equation. For a Firth fit
    the column ``z`` is ``chi2``, the penalised likelihood-ratio statistic whose p-value
    ``p_value`` is, and the interval is the profile one."""
    import pandas as pd

    frame = res.to_frame()  # coef, std err, z (or chi2), its p-value, the interval's bounds
    coef, se, stat, p, lo, hi = (frame[c].to_numpy() for c in frame.columns[:6])
    if isinstance(frame.index, pd.MultiIndex):
        classes, features = (frame.index.get_level_values(i).astype(str) for i in (0, 1))
    else:
        classes, features = [str(res.classes[1])] * len(frame), frame.index.astype(str)
    return pd.DataFrame(
        {
            "class": list(classes),
            "reference": str(res.classes[0]),
            "feature": list(features),
            "coef": coef,
            "std_err": se,
            "chi2" if _is_firth(res) else "z": stat,
            "p_value": p,
            "ci_lower": lo,
            "ci_upper": hi,
        }
    )


def fit_statistics(summary: Summary) -> list[tuple[str, str]]:
    """``(name, value)`` of the fit statistics, as printed and in the report."""
    res = summary.result
    lr = "penalised LR χ²" if summary.firth else "LR χ²"
    rows = [
        ("observations", f"{res.nobs:,.0f}"),
        ("log-likelihood", f"{res.llf:.4f}"),
        ("null log-likelihood", f"{res.llnull:.4f}"),
        (f"{lr} ({res.df_model:g} df)", f"{res.llr:.4f}"),
        ("LR p-value", f"{res.llr_pvalue:.4g}"),
        ("pseudo R² (McFadden)", f"{res.prsquared:.4f}"),
    ]
    if not summary.firth:  # a Firth fit does not maximise the likelihood: no AIC, BIC
        rows += [("AIC", f"{res.aic:.4f}"), ("BIC", f"{res.bic:.4f}")]
    return rows + [("converged", "yes" if summary.converged else "no")]


def _cell(value: float) -> str:
    """Four decimals, or four significant digits for the very small and very large."""
    if not np.isfinite(value):
        return str(value)
    if value == 0.0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.4f}"
    return f"{value:.4g}"


def _blocks(summary: Summary, target: str) -> list[tuple[str, list[list[str]]]]:
    """(heading, rows of cells) per equation."""
    res = summary.result
    frame = coefficient_frame(res)
    blocks = []
    for cls, part in frame.groupby("class", sort=False):
        heading = f"log-odds of {target}={cls} against {target}={res.classes[0]}"
        rows = [[r[2], *map(_cell, r[3:9])] for r in part.itertuples(index=False)]
        blocks.append((heading, rows))
    return blocks


def _headers(res: InferenceResult) -> list[str]:
    a = res.alpha
    stat, p = _STATISTIC["chi2" if _is_firth(res) else "z"]
    return ["feature", "coef", "std. err.", stat, p, f"[{a / 2:g}", f"{1 - a / 2:g}]"]


CAPTION = (
    "per unit of each encoded feature: a numeric column per standard deviation (it was "
    "standardised), a level's indicator against the column's reference level"
)


def print_summary(summary: Summary, out: Console, target: str = "y") -> None:
    """Print the coefficient table(s) and the fit statistics on `out`: rich tables on a
    terminal, plain aligned text otherwise (for a pipe or a file)."""
    res = summary.result
    blocks = _blocks(summary, target)
    stats = fit_statistics(summary)
    if summary.calibrated:
        out.print("The coefficients are those before temperature scaling.")
    if out.is_terminal:
        _print_rich(summary, blocks, stats, out)
    else:
        out.print(_plain_text(summary.title, _headers(res), blocks, stats), highlight=False)
    for message in summary.warnings:
        out.print(f"Warning: {message}", highlight=False)


def _print_rich(summary: Summary, blocks, stats, out: Console) -> None:
    from rich import box
    from rich.table import Table

    headers = _headers(summary.result)
    out.print(f"[bold]{summary.title}[/bold]")
    for k, (heading, rows) in enumerate(blocks):
        last = k == len(blocks) - 1
        table = Table(
            title=heading, title_style="bold", header_style="bold", box=box.SIMPLE_HEAD,
            caption=CAPTION if last else None, title_justify="left",
        )  # fmt: skip
        for i, title in enumerate(headers):
            table.add_column(title, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*row)
        out.print(table)
    grid = Table(title="Fit statistics", title_style="bold", box=box.SIMPLE, show_header=False)
    grid.add_column("statistic")
    grid.add_column("value", justify="right")
    for name, value in stats:
        grid.add_row(name, value)
    out.print(grid)


def _plain_text(title: str, headers: list[str], blocks, stats) -> str:
    """The tables as aligned text: one header line per equation, columns right-aligned."""
    width0 = max([len(headers[0])] + [len(r[0]) for _, rows in blocks for r in rows])
    widths = [max([len(headers[i])] + [len(r[i]) for _, rows in blocks for r in rows])
              for i in range(1, len(headers))]  # fmt: skip

    def line(cells: list[str]) -> str:
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths, strict=True)]
        return "  ".join([cells[0].ljust(width0), *rest])

    lines = [title]
    for heading, rows in blocks:
        lines += ["", heading, line(headers)]
        lines += [line(r) for r in rows]
    lines += ["", CAPTION + ".", "", "Fit statistics"]
    name_width = max(len(n) for n, _ in stats)
    lines += [f"  {n.ljust(name_width)}  {v}" for n, v in stats]
    return "\n".join(lines)
