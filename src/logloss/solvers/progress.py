"""What a fit shows while it runs and says when it ends.

:func:`progress` turns the user's callback into the solver callback that also draws a
progress bar (rich when installed, else one plain line per iteration on stderr);
:func:`report` warns when a run was interrupted or did not converge.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sklearn.exceptions import ConvergenceWarning

from .result import FitInterruptedWarning, IterationInfo, OptimizeResult


def _calling(user_callback: Callable | None) -> Callable[[IterationInfo], bool]:
    """The user's callback as one returning a bool (False when there is none)."""

    def call(info: IterationInfo) -> bool:
        return bool(user_callback(info)) if user_callback is not None else False

    return call


@contextmanager
def progress(
    verbose: int, total: int, description: str, user_callback: Callable | None = None
) -> Iterator[Callable[[IterationInfo], bool]]:
    """A solver callback: updates a rich progress bar (when `verbose`) and calls the user's.

    Examples
    --------
    >>> import numpy as np
    >>> with progress(0, 10, "fit", lambda info: info.iteration >= 2) as cb:
    ...     cb(IterationInfo(1, 0.5, np.zeros(1))), cb(IterationInfo(2, 0.4, np.zeros(1)))
    (False, True)
    """
    call = _calling(user_callback)
    if not verbose:
        yield call
        return

    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )
    except ImportError:  # rich is optional: one plain line per iteration instead

        def plain(info: IterationInfo) -> bool:
            extra = "" if info.validation_loss is None else f" val {info.validation_loss:.6g}"
            print(
                f"{description} {info.iteration}/{total} loss {info.loss:.6g}{extra}",
                file=sys.stderr,
            )
            return call(info)

        yield plain
        return

    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("{task.fields[extra]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(description, total=total, loss="-", extra="")

        def callback(info: IterationInfo) -> bool:
            extra = "" if info.validation_loss is None else f"val {info.validation_loss:.6g}"
            bar.update(task, completed=info.iteration, loss=f"{info.loss:.6g}", extra=extra)
            return call(info)

        yield callback


def report(
    result: OptimizeResult, est_name: str, solver: str, max_iter: int, stacklevel: int = 3
) -> None:
    """Warn when the fit was interrupted (:class:`FitInterruptedWarning`) or did not
    converge (``ConvergenceWarning``); `stacklevel` points the warning at the user's call.

    Examples
    --------
    >>> import numpy as np, warnings
    >>> cut = OptimizeResult(np.zeros(1), float("inf"), 0, False, interrupted=True)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     report(cut, "MLPClassifier", "adam", 200)
    >>> str(caught[0].message)
    'MLPClassifier.fit was interrupted (KeyboardInterrupt) after 0 iterations; keeping the starting parameters'
    """  # noqa: E501
    if result.interrupted:
        if math.isfinite(result.fun):
            kept = f"keeping the best parameters found so far (loss {result.fun:.6g})"
        else:  # stopped inside the first iteration (epoch): no loss was measured yet
            kept = "keeping the starting parameters"
        done = result.n_iter
        warnings.warn(
            f"{est_name}.fit was interrupted (KeyboardInterrupt) after {done} "
            f"iteration{'' if done == 1 else 's'}; {kept}",
            FitInterruptedWarning,
            stacklevel=stacklevel,
        )
    elif not result.converged and result.n_iter >= max_iter:
        warnings.warn(
            f"{est_name} with solver={solver!r} did not converge in max_iter={max_iter} "
            f"iterations ({result.message}); increase `max_iter` or scale the data",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
    elif not result.converged and "callback" not in result.message:
        warnings.warn(
            f"{est_name} with solver={solver!r} stopped before converging: {result.message}",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
