"""The command line on a big table: time and peak memory of `logloss fit`, and `--help` latency.

Generates a CSV of N rows x 50 columns (45 numeric columns with 1 % missing
values, 4 text columns of 3-6 categories, and a text target of two classes),
runs ``logloss fit`` on it as a separate process, and reports:

- the wall time of the whole command and the fitting time it prints;
- the peak resident memory of that process (``ru_maxrss`` from ``wait4``), against
  the in-memory size of the table (pandas' ``memory_usage(deep=True)``, which
  the command prints) — the target is a peak under 3x that size;
- the same peak with the interpreter and its imports subtracted (the RSS of
  ``logloss fit --help`` importing the same modules is not comparable, so the
  baseline is a process that imports numpy, pandas, pyarrow, scipy, sklearn and
  logloss.models and exits);
- ``logloss --help``: median wall time and CPU time over 7 runs (target < 0.5 s).

Usage::

    python benchmarks/bench_cli.py            # 1,000,000 rows (about 500 MB of CSV)
    python benchmarks/bench_cli.py --quick    # 100,000 rows
    python benchmarks/bench_cli.py --rows 300000 --keep   # keep the files in ./bench-cli-data
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_NUMERIC = 45
N_TEXT = 4
SCRIPT = Path(sys.executable).with_name("logloss")


def generate(path: Path, rows: int, seed: int = 0) -> int:
    """Write the CSV in blocks (bounded memory); returns its size in bytes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(seed)
    weights = rng.normal(size=N_NUMERIC) / np.sqrt(N_NUMERIC)
    levels = [[f"c{j}_{k}" for k in range(3 + j)] for j in range(N_TEXT)]
    effects = [rng.normal(size=len(lv)) for lv in levels]
    block = 200_000
    with pcsv.CSVWriter(str(path), schema=_schema(pa)) as writer:
        for start in range(0, rows, block):
            n = min(block, rows - start)
            X = rng.normal(size=(n, N_NUMERIC))
            z = X @ weights
            cols: dict[str, object] = {}
            for j in range(N_NUMERIC):
                col = X[:, j].copy()
                col[rng.random(n) < 0.01] = np.nan  # 1 % missing
                cols[f"x{j}"] = pa.array(col, from_pandas=True)
            for j in range(N_TEXT):
                codes = rng.integers(0, len(levels[j]), size=n)
                z += effects[j][codes]
                cols[f"cat{j}"] = pa.array(np.asarray(levels[j])[codes])
            y = np.where(z + rng.logistic(size=n) > 0, "yes", "no")
            cols["target"] = pa.array(y)
            writer.write_table(pa.table(cols, schema=_schema(pa)))
    return path.stat().st_size


def _schema(pa):  # noqa: ANN001, ANN202 - pyarrow is imported lazily
    fields = [pa.field(f"x{j}", pa.float64()) for j in range(N_NUMERIC)]
    fields += [pa.field(f"cat{j}", pa.string()) for j in range(N_TEXT)]
    fields.append(pa.field("target", pa.string()))
    return pa.schema(fields)


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, int, str, int]:
    """(wall seconds, peak RSS in bytes, stdout, exit code) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss * 1024, out, proc.returncode


def help_latency(runs: int = 7) -> tuple[float, float]:
    """Median wall and CPU (user + sys) seconds of `logloss --help`."""
    walls, cpus = [], []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen([str(SCRIPT), "--help"], stdout=subprocess.DEVNULL)
        _, _, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        cpus.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("--rows", type=int, help="number of rows (overrides --quick)")
    parser.add_argument("--keep", action="store_true", help="keep the files in ./bench-cli-data")
    args = parser.parse_args()
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    if not SCRIPT.exists():
        print(
            f"the logloss console script is not installed next to {sys.executable}", file=sys.stderr
        )
        return 1

    folder = Path("bench-cli-data") if args.keep else Path(tempfile.mkdtemp(prefix="bench-cli-"))
    folder.mkdir(exist_ok=True)
    try:
        data = folder / "data.csv"
        t0 = time.perf_counter()
        size = generate(data, rows)
        print(
            f"generated {data}: {rows:,} rows x 50 columns, {size / 1e6:.0f} MB of CSV "
            f"in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )

        baseline_code = (
            "import numpy, pandas, pyarrow, pyarrow.csv, scipy, sklearn, rich, "
            "logloss.models, logloss.tables"
        )
        _, base_rss, _, _ = run_measured([sys.executable, "-c", baseline_code], folder)

        cmd = [str(SCRIPT), "fit", str(data.name), "--target", "target", "-o", "model.npz"]
        wall, peak, out, code = run_measured(cmd, folder)
        if code != 0:
            print(out)
            print(f"logloss fit exited with status {code}", file=sys.stderr)
            return 1
        match = re.search(r"\(([\d.]+) (kB|MB|GB) in memory\)", out)
        scale = {"kB": 1e3, "MB": 1e6, "GB": 1e9}
        in_memory = float(match.group(1)) * scale[match.group(2)] if match else float("nan")
        fit_match = re.search(r"in ([\d.]+) s \((\d+) iteration", out)
        fit_seconds = float(fit_match.group(1)) if fit_match else float("nan")
        help_wall, help_cpu = help_latency()

        print()
        print(f"$ {' '.join(cmd)}   (cwd {folder})")
        print(out.rstrip())
        print()
        rows_out = [
            ("rows x columns", f"{rows:,} x 50"),
            ("CSV on disk", f"{size / 1e6:.0f} MB"),
            ("table in memory (pandas)", f"{in_memory / 1e6:.0f} MB"),
            ("logloss fit: wall time", f"{wall:.1f} s (of which fitting {fit_seconds:.1f} s)"),
            ("logloss fit: peak RSS", f"{peak / 1e6:.0f} MB = {peak / in_memory:.2f} x the table"),
            ("  interpreter + imports", f"{base_rss / 1e6:.0f} MB"),
            (
                "  peak above that",
                f"{(peak - base_rss) / 1e6:.0f} MB = "
                f"{(peak - base_rss) / in_memory:.2f} x the table",
            ),
            ("target: peak RSS < 3 x table", "met" if peak < 3 * in_memory else "NOT met"),
            ("logloss --help (median of 7)", f"{help_wall:.3f} s wall, {help_cpu:.3f} s CPU"),
            (
                "target: --help < 0.5 s",
                "met"
                if help_wall < 0.5
                else (
                    "NOT met on wall time (CPU time "
                    + ("met" if help_cpu < 0.5 else "not met")
                    + "; a loaded machine inflates wall time)"
                ),
            ),
        ]
        width = max(len(k) for k, _ in rows_out)
        for key, value in rows_out:
            print(f"{key:<{width}}  {value}")
        print(
            f"\nmachine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
