"""Five questions about cross-entropy, answered with numbers computed on the spot.

``logloss explain`` prints these answers; each function here returns one
:class:`Answer`: a few sentences whose numbers come from logloss's own losses
and estimators, a table of those numbers, and a Matplotlib figure.

1. :func:`purpose` — what the loss is for: it prices the probability given to
   what happened.
2. :func:`suitability` — which problems it suits: it is a proper scoring rule,
   so honest probabilities minimise it.
3. :func:`versus_mse` — how it compares with mean squared error: the gradient
   of a confidently wrong sigmoid output.
4. :func:`likelihood` — its relation to the log-likelihood, checked on the
   breast-cancer data that ships with scikit-learn.
5. :func:`overfitting` — how overfitting is kept in check: L2, label smoothing
   and early stopping against a plain fit.

Everything is deterministic and offline; together they take a few seconds.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._stable import sigmoid, softplus
from .descent import curvature_bound, gradient_descent

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

__all__ = [
    "Answer",
    "QUESTIONS",
    "answer",
    "likelihood",
    "overfitting",
    "purpose",
    "suitability",
    "versus_mse",
]

QUESTIONS = {
    1: "What is cross-entropy loss for?",
    2: "Which problems does it suit?",
    3: "How does it compare with mean squared error?",
    4: "How is it related to the log-likelihood?",
    5: "How is overfitting kept in check?",
}


@dataclass
class Answer:
    """One answer: the question, a few sentences, the numbers behind them and a figure.

    The figure is drawn on first access of :attr:`figure` (by `draw`), so an answer read
    as text never imports Matplotlib.
    """

    number: int
    question: str
    text: str
    numbers: dict[str, float]
    table: list[tuple[str, str]]
    draw: Callable[[], Figure] = field(repr=False)
    slug: str  # file name stem of the figure, e.g. "1-purpose"
    extra: dict[str, Any] = field(default_factory=dict)
    _figure: Figure | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def figure(self) -> Figure:
        """The answer's figure, drawn the first time it is asked for."""
        if self._figure is None:
            self._figure = self.draw()
        return self._figure


def answer(number: int) -> Answer:
    """The answer to question `number` (1 to 5; see :data:`QUESTIONS`).

    Examples
    --------
    >>> from logloss.tutorial.explain import answer
    >>> a = answer(1)
    >>> a.question, round(a.numbers["loss_at_0.5"], 4)
    ('What is cross-entropy loss for?', 0.6931)
    """
    if (
        isinstance(number, bool)
        or not isinstance(number, (int, np.integer))
        or number not in QUESTIONS
    ):
        raise ValueError(f"`number` must be one of 1, 2, 3, 4, 5; got {number!r}")
    return _ANSWERS[int(number)]()


# ---------------------------------------------------------------------------
# 1. what it is for
# ---------------------------------------------------------------------------


def purpose() -> Answer:
    """Question 1: the loss is the price of the probability given to what happened."""
    from .. import plot
    from ..losses import binary_cross_entropy, cross_entropy

    p = np.array([0.99, 0.9, 0.5, 0.1, 0.01])
    loss = binary_cross_entropy(p, np.ones_like(p), reduction="none")
    uniform3 = float(cross_entropy(np.zeros((1, 3)), np.array([0])))
    ln2 = float(binary_cross_entropy(np.array([0.5]), np.array([1.0])))
    halving = float(binary_cross_entropy(np.array([0.25]), np.array([1.0]))) - ln2
    numbers = {f"loss_at_{q:g}": float(v) for q, v in zip(p, loss, strict=True)}
    numbers["uniform_3_classes"] = uniform3
    numbers["cost_of_halving"] = halving
    text = (
        "Cross-entropy grades a prediction by one number: the probability it gave to what "
        "actually happened. The loss of an example is -log p, with p the predicted probability "
        f"of the true class. Sure and right costs almost nothing (p = 0.99 costs "
        f"{loss[0]:.4f}); sitting on the fence costs ln 2 = {ln2:.4f}; sure and wrong is "
        f"expensive (p = 0.01 costs {loss[4]:.3f}), and the price has no ceiling as p falls "
        "to 0. Read it as surprise: halving the probability put on the truth always adds the "
        f"same {halving:.4f} nats, one bit. Averaged over a data set, it is the number a "
        "classifier is trained to lower, and the yardstick for any model is the loss of "
        f"knowing nothing: guessing evenly among three classes costs ln 3 = {uniform3:.4f}."
    )
    table = [(f"p(true class) = {q:g}", f"loss {v:.4f}") for q, v in zip(p, loss, strict=True)]
    table.append(("even guess among 3 classes", f"loss {uniform3:.4f}"))
    return Answer(1, QUESTIONS[1], text, numbers, table, plot.loss_curve, "1-purpose")


# ---------------------------------------------------------------------------
# 2. which problems it suits
# ---------------------------------------------------------------------------


def suitability() -> Answer:
    """Question 2: a strictly proper scoring rule, for outcomes from a fixed set."""
    from ..losses import binary_cross_entropy, cross_entropy
    from .explain_figures import suitability_figure

    grid = np.linspace(0.001, 0.999, 999)
    frequencies = (0.1, 0.3, 0.7)
    curves = {}
    best = {}
    for q in frequencies:
        # Expected loss when the event happens a fraction q of the time: the loss
        # with the soft target q, -[q log p + (1 - q) log(1 - p)].
        curves[q] = binary_cross_entropy(grid, np.full_like(grid, q), reduction="none")
        best[q] = float(grid[np.argmin(curves[q])])
    right_hedged = float(binary_cross_entropy(np.array([0.51]), np.array([1.0])))
    right_sure = float(binary_cross_entropy(np.array([0.99]), np.array([1.0])))
    t = np.array([[0.7, 0.2, 0.1]])
    at_truth = float(cross_entropy(np.log(t), t))  # the entropy of t: the least achievable
    at_uniform = float(cross_entropy(np.zeros((1, 3)), t))
    numbers = {f"argmin_at_q={q:g}": best[q] for q in frequencies}
    numbers.update(
        loss_right_at_0_51=right_hedged,
        loss_right_at_0_99=right_sure,
        soft_target_at_truth=at_truth,
        soft_target_at_uniform=at_uniform,
    )
    text = (
        "It suits problems whose answer is a probability over a fixed set of outcomes: yes/no "
        "classification (a sigmoid output), one-of-K classification (a softmax), multi-label "
        "tagging (one sigmoid per label), soft or noisy labels, and next-token prediction in "
        "language models, where the exponential of the mean loss is the perplexity. The reason "
        "is that cross-entropy is a strictly proper scoring rule: if an event happens a "
        "fraction q of the time, the expected loss is lowest exactly when the model says q. "
        "On a grid of predictions, the minimum for q = 0.1, 0.3 and 0.7 falls at p = "
        f"{best[0.1]:.3f}, {best[0.3]:.3f} and {best[0.7]:.3f}. The same holds for soft "
        f"targets over three classes: (0.7, 0.2, 0.1) costs {at_truth:.4f} when predicted "
        f"exactly (its entropy) and {at_uniform:.4f} when predicted evenly. Accuracy has no "
        f"such pull: 0.51 and 0.99 on the right class are equally accurate, but cost "
        f"{right_hedged:.4f} and {right_sure:.4f}. It is the wrong tool for a quantity on a "
        "continuous scale (regression), or where only the ranking of the scores matters."
    )
    table = [
        (f"event frequency q = {q:g}", f"loss lowest at p = {best[q]:.3f}") for q in frequencies
    ]
    table += [
        ("right class at p = 0.51", f"loss {right_hedged:.4f}"),
        ("right class at p = 0.99", f"loss {right_sure:.4f}"),
        ("soft target (0.7, 0.2, 0.1) predicted exactly", f"loss {at_truth:.4f}"),
        ("soft target (0.7, 0.2, 0.1) predicted evenly", f"loss {at_uniform:.4f}"),
    ]

    fig = functools.partial(suitability_figure, grid, curves, best)
    return Answer(2, QUESTIONS[2], text, numbers, table, fig, "2-suitability")


# ---------------------------------------------------------------------------
# 3. versus mean squared error
# ---------------------------------------------------------------------------


def _sigmoid_mse_grad(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d/dz of (sigmoid(z) - y)^2 = 2 (p - y) p (1 - p), p = sigmoid(z)."""
    p = sigmoid(z)
    return 2.0 * (p - y) * p * (1.0 - p)


def versus_mse() -> Answer:
    """Question 3: CE keeps a full-size gradient where MSE on a sigmoid goes flat."""
    from ..grad import value_and_grad
    from ..losses import binary_cross_entropy_with_logits
    from .explain_figures import versus_mse_figure

    ce_grad = value_and_grad(binary_cross_entropy_with_logits)
    z = np.linspace(-10.0, 10.0, 401)
    y = np.ones_like(z)
    # reduction="sum" gives the per-example gradient dJ/dz_i = sigmoid(z_i) - y_i.
    _, g_ce = ce_grad(z, y, reduction="sum")
    g_mse = _sigmoid_mse_grad(z, y)

    z0 = -6.0
    p0 = float(sigmoid(np.array([z0]))[0])
    _, g0 = ce_grad(np.array([z0]), np.array([1.0]), reduction="sum")
    g0_ce = float(g0[0])
    g0_mse = float(_sigmoid_mse_grad(np.array([z0]), np.array([1.0]))[0])
    # The MSE gradient checked by central finite differences (it is not a library loss).
    h = 1e-6
    fd = float(
        ((sigmoid(np.array([z0 + h])) - 1) ** 2 - (sigmoid(np.array([z0 - h])) - 1) ** 2)[0]
        / (2 * h)
    )

    steps = _escape_steps()
    numbers = {
        "z": z0,
        "p": p0,
        "grad_ce": g0_ce,
        "grad_mse": g0_mse,
        "grad_mse_finite_difference": fd,
        "ratio": g0_ce / g0_mse,
        "steps_ce": float(steps["ce"]),
        "steps_mse": float(steps["mse"]),
    }
    text = (
        "Both losses are zero for a perfect prediction, but they treat mistakes very "
        "differently once a sigmoid sits in front of them. Take one example with label 1 and "
        f"logit z = {z0:g}, so the model gives the true class p = {p0:.4f}: confidently wrong. "
        f"The cross-entropy gradient with respect to z is p - 1 = {g0_ce:.4f}, almost the "
        "largest it can be. The squared error (p - 1)^2 has gradient 2(p - 1)p(1 - p) = "
        f"{g0_mse:.6f} (finite differences agree: {fd:.6f}), {g0_ce / g0_mse:.0f} times "
        "smaller, because the flat tail of the sigmoid multiplies it by p(1 - p). The log in "
        "cross-entropy cancels that factor, so the worse the mistake, the harder it pushes. "
        "Training shows the same: gradient descent with the same step size, started from "
        f"weights that get every example wrong, reaches 90 % accuracy in {steps['ce']} steps on "
        f"cross-entropy and {_steps_text(steps['mse'])} on squared error. Squared error of a "
        "probability (the Brier score) does reward honesty too, but it caps the cost of a "
        "certain, wrong answer at 1, so it hardly tells a bad prediction from a disastrous one."
    )
    table = [
        (f"label 1, logit z = {z0:g}", f"p = {p0:.4f}"),
        ("dCE/dz", f"{g0_ce:.4f}"),
        ("dMSE/dz", f"{g0_mse:.6f}"),
        ("ratio", f"{g0_ce / g0_mse:.0f} x"),
        ("steps to 90 % accuracy, cross-entropy", _steps_text(steps["ce"])),
        ("steps to 90 % accuracy, squared error", _steps_text(steps["mse"])),
    ]

    fig = functools.partial(versus_mse_figure, z, g_ce, g_mse, z0, g0_ce, g0_mse)
    return Answer(
        3, QUESTIONS[3], text, numbers, table, fig, "3-versus-mse", extra={"steps": steps}
    )


def _steps_text(steps: int | None) -> str:
    return "not within 2,000 steps" if steps is None else f"{steps} steps"


def _escape_steps(max_steps: int = 2000) -> dict[str, int | None]:
    """Gradient descent from a confidently wrong start: steps to 90 % training accuracy."""
    rng = np.random.default_rng(3)
    n = 200
    y = (np.arange(n) % 2).astype(np.float64)
    x = np.where(y == 1, 1.0, -1.0) + 0.6 * rng.standard_normal(n)
    X = np.column_stack([np.ones(n), x])
    # dJ/dz_i of the mean loss: (p - y) / n for cross-entropy, 2 (p - y) p (1 - p) / n for
    # the squared error of p = sigmoid(z).
    logit_grads = {
        "ce": lambda z: (sigmoid(z) - y) / n,
        "mse": lambda z: _sigmoid_mse_grad(z, y) / n,
    }

    def accurate(step: int, w: np.ndarray) -> bool:
        return bool(np.mean((X @ w > 0) == (y == 1)) >= 0.9)

    out: dict[str, int | None] = {}
    for name, logit_grad in logit_grads.items():
        start = np.array([0.0, -6.0])  # every example on the wrong side, with conviction
        w, taken = gradient_descent(
            X, logit_grad, steps=max_steps, learning_rate=0.5, start=start, on_step=accurate
        )
        out[name] = taken if accurate(taken, w) else None
    return out


# ---------------------------------------------------------------------------
# 4. log-likelihood
# ---------------------------------------------------------------------------


def likelihood() -> Answer:
    """Question 4: the summed cross-entropy is the negative log-likelihood, exactly."""
    from sklearn.datasets import load_breast_cancer, load_wine

    from ..losses import binary_cross_entropy_with_logits, cross_entropy
    from ..models import LogisticRegression, SoftmaxRegression
    from .explain_figures import likelihood_figure

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    n = y.size
    model = LogisticRegression(C=1.0).fit(X, y)
    z = model.decision_function(X)
    p = sigmoid(z)
    # The Bernoulli log-likelihood, term by term: log p if y = 1, log(1 - p) if y = 0.
    log_lik = math.fsum(
        math.log(pi) if yi == 1 else math.log1p(-pi)
        for pi, yi in zip(p.tolist(), y.tolist(), strict=True)
    )
    mean_ce = float(binary_cross_entropy_with_logits(z, y.astype(np.float64)))
    rel = abs(n * mean_ce + log_lik) / abs(log_lik)

    Xw, yw = load_wine(return_X_y=True)
    Xw = (Xw - Xw.mean(axis=0)) / Xw.std(axis=0)
    soft = SoftmaxRegression(C=1.0).fit(Xw, yw)
    Zw = soft.decision_function(Xw)
    proba = soft.predict_proba(Xw)
    log_lik_w = math.fsum(math.log(proba[i, yw[i]]) for i in range(yw.size))
    mean_ce_w = float(cross_entropy(Zw, yw))
    rel_w = abs(yw.size * mean_ce_w + log_lik_w) / abs(log_lik_w)

    # Along the ray s * (w, b): the likelihood peaks where the mean cross-entropy bottoms out.
    scales = np.linspace(0.0, 4.0, 161)
    ce_path = np.array(
        [float(binary_cross_entropy_with_logits(s * z, y.astype(np.float64))) for s in scales]
    )
    ll_path = -n * ce_path
    s_ll = float(scales[np.argmax(ll_path)])
    s_ce = float(scales[np.argmin(ce_path)])

    numbers = {
        "n": float(n),
        "log_likelihood": log_lik,
        "n_times_mean_ce": n * mean_ce,
        "relative_difference": rel,
        "wine_log_likelihood": log_lik_w,
        "wine_n_times_mean_ce": yw.size * mean_ce_w,
        "wine_relative_difference": rel_w,
        "best_scale_likelihood": s_ll,
        "best_scale_cross_entropy": s_ce,
    }
    text = (
        "A classifier that outputs probabilities defines a likelihood: the probability it gave "
        "to the labels that were observed, the product of p(y_i | x_i) over the examples. Its "
        "logarithm is the sum of log p(y_i | x_i), and cross-entropy is the mean of -log "
        "p(y_i | x_i). So n times the mean cross-entropy is the negative log-likelihood, and "
        "minimising one is maximising the other. On the breast-cancer data (n = "
        f"{n}), a logistic regression has log-likelihood {log_lik:.10f} summed term by term, "
        f"and -n times its mean cross-entropy is {-n * mean_ce:.10f}: a relative difference "
        f"of {rel:.1e}, rounding alone. With three classes (wine, softmax regression) it is "
        f"{log_lik_w:.10f} against {-yw.size * mean_ce_w:.10f}. Scaling the fitted weights by "
        f"s, the likelihood is highest at s = {s_ll:.3g} and the cross-entropy lowest at "
        f"s = {s_ce:.3g}, the same point (beyond 1, because the fit itself is penalised)."
    )
    table = [
        ("breast cancer: log-likelihood", f"{log_lik:.10f}"),
        ("breast cancer: -n x mean cross-entropy", f"{-n * mean_ce:.10f}"),
        ("relative difference", f"{rel:.1e}"),
        ("wine (3 classes): log-likelihood", f"{log_lik_w:.10f}"),
        ("wine: -n x mean cross-entropy", f"{-yw.size * mean_ce_w:.10f}"),
        ("best weight scale: likelihood / cross-entropy", f"{s_ll:.3g} / {s_ce:.3g}"),
    ]

    fig = functools.partial(likelihood_figure, scales, ll_path, ce_path, s_ll, s_ce, n)
    return Answer(4, QUESTIONS[4], text, numbers, table, fig, "4-likelihood")


# ---------------------------------------------------------------------------
# 5. overfitting
# ---------------------------------------------------------------------------


def _fit_watched(
    X: np.ndarray,
    y: np.ndarray,
    steps: int,
    *,
    l2: float = 0.0,
    smoothing: float = 0.0,
    watch: dict[str, tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Gradient descent on the mean BCE of a linear model, watching other data sets.

    Returns the final weights and, for each watched set, the plain (unsmoothed)
    mean cross-entropy after every step. Thousands of steps on tiny arrays: the
    loss and its gradient are the plain NumPy formulas (the library's validating
    loss would cost more than the arithmetic), checked against the library's loss
    by :func:`overfitting`.
    """
    n = y.size
    # A fifth of 1/L keeps the steps small enough for the held-out curve to show its minimum.
    lr = 0.2 / curvature_bound(X, l2)
    target = y * (1.0 - smoothing) + smoothing / 2.0  # label smoothing over two classes
    curves = {name: np.empty(steps) for name in watch}

    def record(step: int, w: np.ndarray) -> None:
        for name, (Xs, ys) in watch.items():
            zs = Xs @ w
            # BCE from logits: -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] = softplus(z) - y z
            curves[name][step - 1] = float(np.mean(softplus(zs) - ys * zs))

    # dJ/dz_i = (sigmoid(z_i) - t_i) / n for the mean BCE against the (smoothed) target t.
    w, _ = gradient_descent(
        X,
        lambda z: (sigmoid(z) - target) / n,
        steps=steps,
        learning_rate=lr,
        l2=l2,
        on_step=record,
    )
    return w, curves


def overfitting(steps: int = 2000) -> Answer:
    """Question 5: a plain fit against L2, label smoothing and early stopping."""
    from ..losses import binary_cross_entropy, binary_cross_entropy_with_logits
    from .explain_figures import overfitting_figure

    rng = np.random.default_rng(5)
    d, informative, n_train, n_test = 40, 5, 100, 2000
    true_w = np.zeros(d)
    true_w[:informative] = rng.choice([-1.5, 1.5], size=informative)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        X = rng.standard_normal((n, d))
        p = sigmoid(X @ true_w)
        return np.column_stack([np.ones(n), X]), (rng.random(n) < p).astype(np.float64)

    X_tr, y_tr = draw(n_train)
    X_te, y_te = draw(n_test)
    lam, eps = 0.1, 0.2
    watch = {"train": (X_tr, y_tr), "test": (X_te, y_te)}
    w_plain, plain = _fit_watched(X_tr, y_tr, steps, watch=watch)
    w_ridge, ridge = _fit_watched(X_tr, y_tr, steps, l2=lam, watch=watch)
    w_smooth, smooth = _fit_watched(X_tr, y_tr, steps, smoothing=eps, watch=watch)
    # Early stopping: a quarter of the training rows decides when to stop.
    cut = n_train * 3 // 4
    _, early = _fit_watched(
        X_tr[:cut],
        y_tr[:cut],
        steps,
        watch={"validation": (X_tr[cut:], y_tr[cut:]), "test": (X_te, y_te)},
    )
    stop = int(np.argmin(early["validation"]))
    prior = float(y_tr.mean())
    baseline = float(binary_cross_entropy(np.full(n_test, prior), y_te))
    # The curves above are plain NumPy; the library's loss must give the same final values.
    check = max(
        abs(float(binary_cross_entropy_with_logits(X_te @ w, y_te)) - curve["test"][-1])
        for w, curve in ((w_plain, plain), (w_ridge, ridge), (w_smooth, smooth))
    )

    results = {
        "plain": float(plain["test"][-1]),
        "l2": float(ridge["test"][-1]),
        "label_smoothing": float(smooth["test"][-1]),
        "early_stopping": float(early["test"][stop]),
    }
    names = {
        "plain": "no remedy",
        "l2": f"L2 penalty λ = {lam:g}",
        "label_smoothing": f"label smoothing ε = {eps:g}",
        "early_stopping": f"early stopping at step {stop + 1}",
    }
    best = min((k for k in results if k != "plain"), key=results.get)
    numbers = {
        **{f"test_{k}": v for k, v in results.items()},
        "train_plain": float(plain["train"][-1]),
        "early_stopping_step": float(stop + 1),
        "baseline": baseline,
        "steps": float(steps),
        "library_check": check,
    }
    text = (
        "Cross-entropy always rewards a little more confidence on the training examples. Once "
        "a model can separate them, the loss keeps falling as the weights grow, so an unchecked "
        "fit grows ever more certain, and on new data its confident mistakes are priced at "
        f"-log of a tiny number. Here a linear model has {d} features (only {informative} "
        f"matter) and {n_train} training rows, trained by {steps:,} steps of gradient descent "
        f"and scored on {n_test:,} new rows. With no remedy the training loss falls to "
        f"{plain['train'][-1]:.3f} while the held-out loss ends at {results['plain']:.3f}, worse "
        f"than the {baseline:.3f} of predicting the class frequency for everyone. An L2 penalty "
        f"(λ = {lam:g}) keeps the weights small: {results['l2']:.3f}. Label smoothing "
        f"(ε = {eps:g}) aims at {1 - eps / 2:g} instead of 1, so certainty stops paying: "
        f"{results['label_smoothing']:.3f}. Early stopping watches a validation quarter of the "
        f"training rows and keeps the weights of step {stop + 1}, where its loss was lowest: "
        f"{results['early_stopping']:.3f}. Each remedy trades a worse fit of the training rows "
        f"for a better one of new rows; the best here is {names[best]}."
    )
    table = [(names[k], f"held-out log loss {v:.4f}") for k, v in results.items()]
    table.append(("predicting the class frequency", f"held-out log loss {baseline:.4f}"))

    curves = {"plain": plain, "l2": ridge, "smoothing": smooth, "early": early}
    fig = functools.partial(overfitting_figure, curves, stop, baseline, lam=lam, eps=eps)
    return Answer(
        5,
        QUESTIONS[5],
        text,
        numbers,
        table,
        fig,
        "5-overfitting",
        extra={"curves": curves},
    )


_ANSWERS: dict[int, Callable[[], Answer]] = {
    1: purpose,
    2: suitability,
    3: versus_mse,
    4: likelihood,
    5: overfitting,
}
