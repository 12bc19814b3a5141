"""A guided tour of cross-entropy on bundled data, run by ``logloss demo``.

:func:`run_demo` works offline with the Wisconsin breast-cancer data that ships
with scikit-learn. It

1. draws the loss of one example against the predicted probability;
2. trains a logistic regression by full-batch gradient descent on the mean
   cross-entropy, with the gradient from :func:`logloss.value_and_grad`;
3. checks numerically that the mean cross-entropy of the fitted model is its
   negative Bernoulli log-likelihood divided by the number of examples;
4. reports log loss and accuracy on the training and held-out examples;
5. fits the same model with ``LogisticRegression`` (gradient descent against
   L-BFGS), softmax regression and an MLP on the digits data, and calibrates the
   MLP with ``TemperatureScaling`` (:mod:`logloss.tutorial.demo_estimators`);
6. writes the figures and a summary (text and JSON) to one folder.

Matplotlib, scikit-learn and rich are imported inside :func:`run_demo`.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._stable import sigmoid
from .._validation import check_int, check_scalar
from ._console import heading
from .descent import curvature_bound, gradient_descent

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.console import Console

__all__ = ["run_demo"]

TEST_SIZE = 0.25


def run_demo(
    out_dir: str | Path = "logloss-demo",
    *,
    console: Console | None = None,
    seed: int = 0,
    n_iter: int = 2000,
    learning_rate: float | None = None,
) -> dict[str, Any]:
    r"""Walk through cross-entropy and logistic regression on the breast-cancer data.

    A logistic regression :math:`\phi(z) = \sigma(z)`, :math:`z = w_0 + x^\top w`, is
    trained by plain gradient descent on the mean cross-entropy

    .. math::

        J(w) = -\frac{1}{n} \sum_{i=1}^{n} \bigl[ y_i \log \phi(z_i)
               + (1 - y_i) \log(1 - \phi(z_i)) \bigr] = -\frac{1}{n} \log L(w),

    where :math:`L(w) = \prod_i \phi(z_i)^{y_i} (1 - \phi(z_i))^{1 - y_i}` is the
    Bernoulli likelihood. The gradient with respect to the logits,
    :math:`\partial J / \partial z_i = (\phi(z_i) - y_i) / n`, comes from
    ``value_and_grad(binary_cross_entropy_with_logits)`` and is chained to the
    weights by :math:`\nabla_w J = X^\top g` (a column of ones gives the intercept).

    The data (569 tumours, 30 features, ``y = 1`` for benign) are split into 75 %
    training and 25 % held-out examples, stratified by class, and standardised
    with the training mean and standard deviation. The default step size is
    :math:`1/L` with :math:`L = \lambda_{\max}(X^\top X) / (4n)`, a bound on the
    curvature of :math:`J` (the Hessian is :math:`X^\top \operatorname{diag}(\phi(1-\phi)) X / n`
    and :math:`\phi(1-\phi) \le 1/4`); with it every step lowers the cost.

    Parameters
    ----------
    out_dir : str or path-like, default "logloss-demo"
        Folder for ``loss_curve.png``, ``gd_cost.png``, ``summary.txt`` and
        ``summary.json``; created if missing, files in it are overwritten.
    console : rich.console.Console, optional
        Where to print; by default a new console on standard output. Pass
        ``Console(quiet=True)`` for silence.
    seed : int, default 0
        Seed of the train/held-out split.
    n_iter : int, default 2000
        Number of gradient-descent steps.
    learning_rate : float, optional
        Step size; by default :math:`1/L` as above.

    Returns
    -------
    dict
        The numbers shown: ``n_train``, ``n_test``, ``n_features``,
        ``log_likelihood``, ``neg_log_likelihood_over_n``, ``mean_bce``,
        ``identity_rel_diff``, ``learning_rate``, ``n_iter``, ``cost`` and
        ``test_cost`` (per iteration, ``n_iter + 1`` values), ``train_log_loss``,
        ``test_log_loss``, ``train_accuracy``, ``test_accuracy``,
        ``baseline_log_loss`` (held-out log loss of predicting the training
        class frequency), ``coef`` (intercept first), ``seconds`` and ``files``
        (name to path).

    Examples
    --------
    >>> import tempfile
    >>> from rich.console import Console
    >>> from logloss.tutorial.demo import run_demo
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     res = run_demo(tmp, console=Console(quiet=True), n_iter=200)
    >>> res["test_accuracy"] > 0.9
    True
    """
    started = time.perf_counter()
    seed = check_int(seed, "seed", low=0)
    n_iter = check_int(n_iter, "n_iter", low=1)
    if learning_rate is not None:
        learning_rate = check_scalar(learning_rate, "learning_rate", low=0.0, low_inclusive=False)
    out = _prepare_out_dir(out_dir)

    from rich.console import Console

    con = console if console is not None else Console()
    con.rule("[bold]logloss demo[/bold]: cross-entropy, step by step")

    files = {"loss_curve": out / "loss_curve.png"}
    _step_loss_curve(con, files["loss_curve"])
    data = _load_split(con, seed)
    fit = _step_gradient_descent(con, data, n_iter, learning_rate)
    identity = _step_likelihood(con, data, fit["coef"])
    metrics = _step_metrics(con, data, fit["coef"])

    files["gd_cost"] = out / "gd_cost.png"
    from .. import plot

    plot.save_figure(plot.cost_history(fit["cost"], held_out=fit["test_cost"]), files["gd_cost"])
    from .demo_estimators import run_estimators

    estimators, figures = run_estimators(con, data, out, seed, first_step=6)
    files.update(figures)

    result: dict[str, Any] = {
        "n_train": int(data["y_train"].size),
        "n_test": int(data["y_test"].size),
        "n_features": int(data["X_train"].shape[1] - 1),
        **identity,
        **fit,
        **metrics,
        **estimators,
        "coef": fit["coef"].tolist(),
    }
    files["summary_txt"] = out / "summary.txt"
    files["summary_json"] = out / "summary.json"
    result["files"] = {k: str(v) for k, v in files.items()}
    result["seconds"] = time.perf_counter() - started
    _write_summaries(result, files["summary_txt"], files["summary_json"])

    con.print()
    con.print("[bold]Files written[/bold]")
    for path in files.values():
        con.print(f"  {path}", highlight=False)
    con.print(f"Done in {result['seconds']:.1f} s.")
    return result


# ---------------------------------------------------------------------------
# steps
# ---------------------------------------------------------------------------


def _step_loss_curve(con: Console, path: Path) -> None:
    from rich.table import Table

    from .. import plot
    from ..losses import binary_cross_entropy

    heading(con, 1, "The cost of one example")
    plot.save_figure(plot.loss_curve(), path)
    con.print(
        "J(w) = -log φ(z) when y = 1 and -log(1 - φ(z)) when y = 0: "
        "near 0 for a confident right answer, unbounded for a confident wrong one."
    )
    table = Table("φ(z)", "J(w) if y=1", "J(w) if y=0", box=None, padding=(0, 2))
    phi = np.array([0.01, 0.1, 0.5, 0.9, 0.99])
    cost_1 = binary_cross_entropy(phi, np.ones_like(phi), reduction="none")
    cost_0 = binary_cross_entropy(phi, np.zeros_like(phi), reduction="none")
    for p, c1, c0 in zip(phi, cost_1, cost_0, strict=True):
        table.add_row(f"{p:g}", f"{c1:.4f}", f"{c0:.4f}")
    con.print(table)
    con.print(f"Figure: {path}", highlight=False)


def _load_split(con: Console, seed: int) -> dict[str, np.ndarray]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    heading(con, 2, "Data: Wisconsin breast cancer (bundled with scikit-learn)")
    X, y = load_breast_cancer(return_X_y=True)
    y = y.astype(np.float64)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=TEST_SIZE, stratify=y, random_state=seed
    )
    mean = X_tr.mean(axis=0)
    std = X_tr.std(axis=0)
    std[std == 0] = 1.0  # a constant feature stays 0 after centring
    X_tr = (X_tr - mean) / std
    X_te = (X_te - mean) / std
    # A leading column of ones makes w[0] the intercept: z = X1 @ w.
    X_tr = np.hstack([np.ones((X_tr.shape[0], 1)), X_tr])
    X_te = np.hstack([np.ones((X_te.shape[0], 1)), X_te])
    con.print(
        f"{y.size} tumours, {X.shape[1]} features; y = 1 (benign) for {int(y.sum())}, "
        f"y = 0 (malignant) for {int(y.size - y.sum())}.\n"
        f"Stratified split: {y_tr.size} training, {y_te.size} held-out examples "
        f"(seed {seed}); features standardised with the training mean and std."
    )
    return {"X_train": X_tr, "y_train": y_tr, "X_test": X_te, "y_test": y_te}


def _step_gradient_descent(
    con: Console, data: dict[str, np.ndarray], n_iter: int, learning_rate: float | None
) -> dict[str, Any]:
    from ..grad import value_and_grad
    from ..losses import binary_cross_entropy_with_logits

    X, y = data["X_train"], data["y_train"]
    X_te, y_te = data["X_test"], data["y_test"]
    heading(con, 3, "Gradient descent on J(w)")
    # 1/L, with L = lambda_max(X^T X) / (4 n) bounding the curvature: J never increases.
    lr = 1.0 / curvature_bound(X) if learning_rate is None else learning_rate
    if learning_rate is None:
        con.print(f"Step size 1/L = {lr:.4g}, where L = λmax(XᵀX)/(4n) bounds the curvature of J.")
    else:
        con.print(f"Step size {lr:.4g}.")
    con.print(f"{n_iter} full-batch steps from w = 0:")

    loss_and_grad = value_and_grad(binary_cross_entropy_with_logits)
    cost: list[float] = []
    test_cost: list[float] = []
    every = max(1, n_iter // 10)

    def record(it: int, w: np.ndarray) -> None:
        cost.append(float(binary_cross_entropy_with_logits(X @ w, y)))
        test_cost.append(float(binary_cross_entropy_with_logits(X_te @ w, y_te)))
        if it % every == 0 or it == n_iter:
            con.print(
                f"  iteration {it:>5d}   J(w) = {cost[-1]:.6f}   held-out {test_cost[-1]:.6f}",
                highlight=False,
            )

    def logit_grad(z: np.ndarray) -> np.ndarray:
        # g_i = dJ/dz_i = (phi(z_i) - y_i) / n, from the library's fused loss and gradient.
        return loss_and_grad(z, y)[1]

    record(0, np.zeros(X.shape[1]))
    w, _ = gradient_descent(X, logit_grad, steps=n_iter, learning_rate=lr, on_step=record)
    best = int(np.argmin(test_cost))
    con.print(
        f"The held-out cost is lowest at iteration {best} ({test_cost[best]:.4f})"
        + (
            "; past it the unregularised fit starts to learn the noise of the training set."
            if best < n_iter
            else "."
        )
    )
    return {
        "best_test_iteration": best,
        "learning_rate": lr,
        "n_iter": n_iter,
        "cost": cost,
        "test_cost": test_cost,
        "coef": w,
    }


def _step_likelihood(con: Console, data: dict[str, np.ndarray], w: np.ndarray) -> dict[str, float]:
    from rich.table import Table

    from ..losses import binary_cross_entropy, binary_cross_entropy_with_logits

    X, y = data["X_train"], data["y_train"]
    n = y.size
    heading(con, 4, "Cross-entropy is the negative log-likelihood")
    z = X @ w
    h = sigmoid(z)  # the fitted probabilities phi(z) = 1 / (1 + e^-z), without overflow
    # The Bernoulli log-likelihood, term by term in plain Python and summed exactly.
    log_lik = math.fsum(
        math.log(hi) if yi == 1.0 else math.log(1.0 - hi)
        for hi, yi in zip(h.tolist(), y.tolist(), strict=True)
    )
    neg_over_n = -log_lik / n
    mean_bce = float(binary_cross_entropy(h, y))
    from_logits = float(binary_cross_entropy_with_logits(z, y))
    rel = abs(mean_bce - neg_over_n) / abs(neg_over_n)

    table = Table(box=None, padding=(0, 2), show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("log-likelihood  Σ y log h + (1-y) log(1-h)", f"{log_lik:.12f}")
    table.add_row("-log-likelihood / n", f"{neg_over_n:.15f}")
    table.add_row("mean BCE, ll.binary_cross_entropy(h, y)", f"{mean_bce:.15f}")
    table.add_row("difference", f"{mean_bce - neg_over_n:.3e}  (relative {rel:.1e})")
    table.add_row("mean BCE from logits (the objective J)", f"{from_logits:.15f}")
    con.print(f"At the fitted weights, on the {n} training examples (h = φ(z)):")
    con.print(table)
    return {
        "log_likelihood": log_lik,
        "neg_log_likelihood_over_n": neg_over_n,
        "mean_bce": mean_bce,
        "mean_bce_from_logits": from_logits,
        "identity_rel_diff": rel,
    }


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Log loss of the probabilities of y = 1, with scikit-learn's semantics."""
    from ..metrics import log_loss

    return float(log_loss(y, p, labels=[0.0, 1.0]))


def _step_metrics(con: Console, data: dict[str, np.ndarray], w: np.ndarray) -> dict[str, float]:
    from rich.table import Table

    heading(con, 5, "How good is the fit?")
    scores: dict[str, float] = {}
    table = Table(title=None, header_style="bold", padding=(0, 2))
    table.add_column("examples")
    table.add_column("n", justify="right")
    table.add_column("log loss", justify="right")
    table.add_column("accuracy", justify="right")
    for split, label in (("train", "training"), ("test", "held-out")):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        z = X @ w
        scores[f"{split}_log_loss"] = _log_loss(y, sigmoid(z))
        # phi(z) >= 1/2 exactly when z >= 0
        scores[f"{split}_accuracy"] = float(np.mean((z >= 0) == (y == 1)))
        table.add_row(
            label,
            str(y.size),
            f"{scores[f'{split}_log_loss']:.4f}",
            f"{scores[f'{split}_accuracy']:.1%}",
        )
    prior = float(data["y_train"].mean())
    y_te = data["y_test"]
    scores["baseline_log_loss"] = _log_loss(y_te, np.full(y_te.size, prior))
    scores["baseline_accuracy"] = float(np.mean(y_te == float(prior >= 0.5)))
    table.add_row(
        f"held-out, baseline φ = {prior:.3f}",
        str(y_te.size),
        f"{scores['baseline_log_loss']:.4f}",
        f"{scores['baseline_accuracy']:.1%}",
        style="dim",
    )
    con.print(table)
    con.print(
        "The baseline predicts the training frequency of y = 1 for every example; "
        "its log loss is about the entropy of the labels.",
        style="dim",
    )
    return scores


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _prepare_out_dir(out_dir: str | Path) -> Path:
    if not isinstance(out_dir, (str, Path)):
        raise TypeError(f"`out_dir` must be a path; got {type(out_dir).__name__}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"`out_dir` {str(out)!r} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _write_summaries(result: dict[str, Any], txt: Path, js: Path) -> None:
    lines = [
        "logloss demo: logistic regression by gradient descent on the breast-cancer data",
        "",
        f"examples            {result['n_train']} training, {result['n_test']} held-out "
        f"(stratified {TEST_SIZE:.0%} split), {result['n_features']} standardised features",
        f"gradient descent    {result['n_iter']} steps of size {result['learning_rate']:.6g}",
        f"cost J(w)           {result['cost'][0]:.6f} -> {result['cost'][-1]:.6f}",
        "",
        "cross-entropy = negative log-likelihood / n (training set, fitted weights)",
        f"  log-likelihood        {result['log_likelihood']:.12f}",
        f"  -log-likelihood / n   {result['neg_log_likelihood_over_n']:.15f}",
        f"  mean BCE              {result['mean_bce']:.15f}",
        f"  relative difference   {result['identity_rel_diff']:.2e}",
        "",
        f"{'':20s}{'log loss':>10s}{'accuracy':>10s}",
        f"{'training':20s}{result['train_log_loss']:>10.4f}{result['train_accuracy']:>10.1%}",
        f"{'held-out':20s}{result['test_log_loss']:>10.4f}{result['test_accuracy']:>10.1%}",
        f"{'held-out baseline':20s}{result['baseline_log_loss']:>10.4f}"
        f"{result['baseline_accuracy']:>10.1%}",
        "",
    ]
    txt.write_text("\n".join(lines), encoding="utf-8")
    js.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
