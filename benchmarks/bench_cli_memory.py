"""Peak memory of `logloss fit` and `logloss predict` on a flights-like table (issue 14, item 3).

Generates a table shaped like the issue's 5M-row flights CSV: five numeric columns
(hour, month, weekday, distance, departure delay with 2 % missing), a carrier of
16 levels, origin and destination airports of 120 levels each (Zipf-distributed),
a tail-number-like column of 5,000 levels (Zipf-distributed, so a long tail of
rare aircraft) and a two-class target. It is written as CSV and as Parquet; then
``logloss fit`` and ``logloss predict`` run on each file as child processes, and
each child's peak resident memory is read from ``os.wait4``'s ``ru_maxrss``.

The ratio is taken against the **table in memory**: ``memory_usage(deep=True)``
of the DataFrame that logloss reads from the file (pyarrow-backed columns),
measured in a separate child; the file sizes are printed beside it. Target (the
issue): peak ≤ 3 × the table in both commands. The peak of a child that only
imports what the commands import is printed too, so the part the data costs can
be read off.

Usage::

    python benchmarks/bench_cli_memory.py --quick     # 500,000 rows
    python benchmarks/bench_cli_memory.py             # 5,000,000 rows (the issue's size)
    python benchmarks/bench_cli_memory.py --quick --drop tail --max-categories 200
        # without the 5,000-level column: what logloss 0.x (dense design) could fit
    python benchmarks/bench_cli_memory.py --quick --hash-features 1024

The children run ``python -m logloss.cli`` with this interpreter and the caller's
``PYTHONPATH``, so the same script measures any checkout of logloss.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import cpu_model

N_TAILS = 5_000
N_AIRPORTS = 120
N_CARRIERS = 16


def _zipf_codes(rng, n: int, levels: int, s: float):  # noqa: ANN001, ANN202
    """`n` draws of 0..levels-1 with P(k) proportional to 1 / (k + 1)**s."""
    import numpy as np

    p = 1.0 / np.arange(1, levels + 1) ** s
    return rng.choice(levels, size=n, p=p / p.sum())


def generate(folder: Path, rows: int, seed: int = 0) -> tuple[Path, Path]:
    """Write the table as CSV and Parquet in blocks (bounded memory); returns both paths."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    carriers = np.array([f"C{k:02d}" for k in range(N_CARRIERS)])
    airports = np.array([f"A{k:03d}" for k in range(N_AIRPORTS)])
    tails = np.array([f"N{k:04d}X" for k in range(N_TAILS)])
    effects = {
        "carrier": rng.normal(0, 0.3, N_CARRIERS),
        "origin": rng.normal(0, 0.3, N_AIRPORTS),
        "dest": rng.normal(0, 0.2, N_AIRPORTS),
        "tail": rng.normal(0, 0.2, N_TAILS),
    }
    csv_path, parquet_path = folder / "flights.csv", folder / "flights.parquet"
    csv_writer = parquet_writer = None
    block = 250_000
    try:
        for start in range(0, rows, block):
            n = min(block, rows - start)
            hour = rng.integers(5, 24, n)
            month = rng.integers(1, 13, n)
            weekday = rng.integers(1, 8, n)
            distance = rng.gamma(2.0, 400.0, n).round(0)
            delay = rng.normal(5.0, 20.0, n).round(0)
            codes = {
                "carrier": _zipf_codes(rng, n, N_CARRIERS, 0.8),
                "origin": _zipf_codes(rng, n, N_AIRPORTS, 1.0),
                "dest": _zipf_codes(rng, n, N_AIRPORTS, 1.0),
                "tail": _zipf_codes(rng, n, N_TAILS, 1.1),
            }
            z = 0.04 * (hour - 14) + 0.03 * delay - 0.8
            for name, c in codes.items():
                z += effects[name][c]
            y = np.where(z + rng.logistic(size=n) > 0, "late", "on_time")
            delay_col = pa.array(delay, mask=rng.random(n) < 0.02)
            table = pa.table(
                {
                    "hour": hour,
                    "month": month,
                    "weekday": weekday,
                    "distance": distance,
                    "dep_delay": delay_col,
                    "carrier": carriers[codes["carrier"]],
                    "origin": airports[codes["origin"]],
                    "dest": airports[codes["dest"]],
                    "tail": tails[codes["tail"]],
                    "arrival": y,
                }
            )
            if csv_writer is None:
                csv_writer = pcsv.CSVWriter(str(csv_path), table.schema)
                parquet_writer = pq.ParquetWriter(str(parquet_path), table.schema)
            csv_writer.write_table(table)
            parquet_writer.write_table(table)
    finally:
        if csv_writer is not None:
            csv_writer.close()
            parquet_writer.close()
    return csv_path, parquet_path


def run_child(cmd: list[str], cwd: Path) -> tuple[float, int, str, str, int]:
    """(wall seconds, peak RSS in bytes, stdout, stderr, exit code) of one child process;
    the peak RSS is the child's own, from ``wait4``."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return wall, usage.ru_maxrss * 1024, out.read(), err.read(), proc.returncode


TABLE_SIZE = (
    "import sys; from logloss.tables import read_table; df = read_table(sys.argv[1]); "
    "print(int(df.memory_usage(deep=True).sum()))"
)
IMPORTS = (
    "import numpy, pandas, pyarrow, pyarrow.csv, pyarrow.parquet, scipy.sparse, sklearn, "
    "rich, logloss.models, logloss.tables, logloss.cli.app"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500,000 rows instead of 5,000,000")
    parser.add_argument("--rows", type=int, help="number of rows (overrides --quick)")
    parser.add_argument("--drop", action="append", default=[], help="column to leave out")
    parser.add_argument("--hash-features", type=int, help="passed to logloss fit")
    parser.add_argument("--max-categories", type=int, help="passed to logloss fit")
    parser.add_argument("--keep", action="store_true", help="keep the files in ./bench-mem-data")
    args = parser.parse_args()
    rows = args.rows or (500_000 if args.quick else 5_000_000)
    folder = Path("bench-mem-data") if args.keep else Path(tempfile.mkdtemp(prefix="bench-mem-"))
    folder.mkdir(exist_ok=True)
    py = sys.executable
    try:
        t0 = time.perf_counter()
        paths = generate(folder, rows)
        print(f"generated {rows:,} rows in {time.perf_counter() - t0:.1f} s", flush=True)
        _, base_rss, where, _, _ = run_child(
            [py, "-c", IMPORTS + "; print(logloss.__file__)"], folder
        )
        print(f"logloss from {where.strip()}")
        results = []
        for path in paths:
            _, _, size_out, err, code = run_child([py, "-c", TABLE_SIZE, path.name], folder)
            if code != 0:
                print(err, file=sys.stderr)
                return 1
            table = int(size_out.strip())
            fit = [py, "-m", "logloss.cli", "fit", path.name, "-t", "arrival", "-o", "m.npz"]
            fit += ["--max-iter", "30"]
            for col in args.drop:
                fit += ["--drop", col]
            if args.hash_features:
                fit += ["--hash-features", str(args.hash_features)]
            if args.max_categories:
                fit += ["--max-categories", str(args.max_categories)]
            predict = [py, "-m", "logloss.cli", "predict", "m.npz", path.name, "-o", "p.csv"]
            for name, cmd in (("fit", fit), ("predict", predict)):
                wall, peak, out, err, code = run_child(cmd, folder)
                if code != 0:
                    print(out, err, sep="\n", file=sys.stderr)
                    return 1
                if name == "fit":
                    features = next((ln for ln in out.splitlines() if "Features:" in ln), "")
                    print(f"{path.suffix[1:]}: {features.strip()}")
                results.append((path, name, wall, peak, table, cmd))
        print()
        print(
            f"{'file':<8} {'command':<8} {'on disk':>9} {'in memory':>10} {'peak RSS':>9} "
            f"{'peak / table':>12} {'(peak - imports) / table':>24} {'wall':>7}"
        )
        for path, name, wall, peak, table, _ in results:
            print(
                f"{path.suffix[1:]:<8} {name:<8} {path.stat().st_size / 1e6:>7.0f}MB "
                f"{table / 1e6:>8.0f}MB {peak / 1e6:>7.0f}MB {peak / table:>11.2f}x "
                f"{(peak - base_rss) / table:>23.2f}x "
                f"{wall:>6.1f}s"
            )
        print(f"\ninterpreter + imports alone: {base_rss / 1e6:.0f} MB peak RSS")
        print("table = the DataFrame logloss reads (memory_usage(deep=True)); target peak <= 3x")
        print(f"commands (cwd {folder}):")
        for _, _, _, _, _, cmd in results[:2]:
            print("  $ " + " ".join(cmd[1:]))
        print(
            f"machine: {cpu_model()}, {os.cpu_count()} CPUs; python {sys.version.split()[0]}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
