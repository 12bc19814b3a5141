"""``logloss warmup``: compile the numba kernels into the cache, once, at set-up time."""

from __future__ import annotations

from typing import Annotated

import typer


def warmup(
    dtype: Annotated[
        list[str] | None,
        typer.Option(
            "--dtype",
            help="Compile for this dtype (float32 or float64; repeat for both; default both).",
            show_default=False,
        ),
    ] = None,
    dask: Annotated[
        bool,
        typer.Option(
            "--dask", help="Also compile the variants for Dask's read-only, unaligned blocks."
        ),
    ] = False,
) -> None:
    """Compile the numba kernels now, so the first fit or loss call does not wait.

    Run once after installing (``make`` does): the machine code goes to numba's
    cache and later processes load it in milliseconds. Prints each kernel, its
    dtype, whether it was compiled or found in the cache, and the time taken.
    """
    import time

    from .._kernels.warmup import warm_up

    def show(step) -> None:
        what = f"compiled {step.compiled}" if step.compiled else f"cached {step.loaded}"
        typer.echo(
            f"{step.kernel:<20} {step.dtype:<8} {step.layout:<9} {what:<12} {step.seconds:7.2f} s"
        )

    t0 = time.perf_counter()
    try:
        steps = warm_up(dtype or ("float32", "float64"), unaligned=dask, on_step=show)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--dtype") from None
    total = time.perf_counter() - t0
    if not steps:
        typer.echo("numba is unavailable or disabled (LOGLOSS_DISABLE_NUMBA): nothing to compile.")
        return
    compiled = sum(s.compiled for s in steps)
    typer.echo(f"{compiled} specialisations compiled, {len(steps)} kernels ready in {total:.2f} s")
