"""Benchmark: the first calls with an empty numba cache (a fresh install, a new container).

Run as ``python benchmarks/bench_cold.py [--cases a,b,...] [--demo] [--warm]``. Each case
runs in a new Python process with ``NUMBA_CACHE_DIR`` set to a new, empty folder, so it
pays for every kernel it compiles. Printed per case: the wall seconds of the child
process and its CPU seconds (user + system, from the child's rusage: on a shared machine
the CPU time moves less than the wall time), then whether the targets of issue #11 are met:

- each case <= 3 s (binary fit, 10-class fit, MLP fit, temperature scaling, float32
  cross-entropy and BCE ``value_and_grad``);
- all six in one process <= 10 s;
- ``logloss demo`` on an empty cache <= 12 s (``--demo``).

``--warm`` first runs ``logloss warmup`` once into a cache folder (the set-up step) and
then times each case against a copy of that cache.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

from _machine import cpu_model  # this folder is on sys.path

_DATA = """
import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.preprocessing import StandardScaler
"""

CASES = {
    "binary fit": _DATA
    + """
from logloss.models import LogisticRegression
X, y = load_breast_cancer(return_X_y=True)
LogisticRegression().fit(StandardScaler().fit_transform(X), y)
""",
    "10-class fit": _DATA
    + """
from logloss.models import LogisticRegression
X, y = load_digits(return_X_y=True)
LogisticRegression().fit(StandardScaler().fit_transform(X), y)
""",
    "MLP fit": _DATA
    + """
from logloss.models import MLPClassifier
X, y = load_digits(return_X_y=True)
MLPClassifier(hidden_layer_sizes=(32,), max_iter=5).fit(StandardScaler().fit_transform(X), y)
""",
    "temperature scaling": """
import numpy as np
from logloss.models import TemperatureScaling
rng = np.random.default_rng(0)
z = rng.normal(size=(2000, 10)) * 3
y = rng.integers(0, 10, size=2000)
TemperatureScaling().fit(z, y)
""",
    "float32 CE value_and_grad": """
import numpy as np
import logloss as ll
rng = np.random.default_rng(0)
z = rng.normal(size=(256, 1000)).astype(np.float32)
y = rng.integers(0, 1000, size=256)
ll.value_and_grad(ll.cross_entropy)(z, y)
""",
    "float32 BCE value_and_grad": """
import numpy as np
import logloss as ll
rng = np.random.default_rng(0)
x = rng.normal(size=100_000).astype(np.float32)
t = (rng.random(100_000) < 0.5).astype(np.float32)
ll.value_and_grad(ll.binary_cross_entropy_with_logits)(x, t)
""",
}
TARGET_CASE, TARGET_ALL, TARGET_DEMO = 3.0, 10.0, 12.0


def run_child(argv: list[str], cache: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system of the child) and exit code of `argv`."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        sys.stderr.write(proc.stderr.decode(errors="replace")[-2000:])
    return wall, cpu, proc.returncode


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", help="comma-separated case names (default: all six)")
    p.add_argument("--demo", action="store_true", help="also time `logloss demo` cold")
    p.add_argument("--warm", action="store_true", help="run `logloss warmup` into the cache first")
    args = p.parse_args()
    names = list(CASES) if not args.cases else [c.strip() for c in args.cases.split(",")]

    print(f"# Cold start (empty numba cache), {cpu_model()}, {os.cpu_count()} logical CPUs")
    print(f"command: {' '.join([os.path.basename(sys.executable), *sys.argv])}")
    print(f"load average: {os.getloadavg()[0]:.2f}; times: wall and CPU (user + system) s\n")
    print("| case | wall s | CPU s | target | met (wall) |")
    print("|---|---:|---:|---:|---|")
    warmup = [sys.executable, "-m", "logloss.cli", "warmup"]
    rows = [(n, [sys.executable, "-c", textwrap.dedent(CASES[n])], TARGET_CASE) for n in names]
    if len(names) > 1:
        everything = "\n".join(textwrap.dedent(CASES[n]) for n in names)
        rows.append(("all above, one process", [sys.executable, "-c", everything], TARGET_ALL))
    if args.demo:
        out = tempfile.mkdtemp(prefix="logloss-demo-")
        demo = [sys.executable, "-m", "logloss.cli", "demo", "--out", out]
        rows.append(("logloss demo", demo, TARGET_DEMO))
    template = None
    if args.warm:  # the set-up step, once; each case then starts from a copy of its cache
        template = tempfile.mkdtemp(prefix="numba-warm-")
        wall, cpu, rc = run_child(warmup, template)
        print(f"| (set-up) logloss warmup | {wall:.2f} | {cpu:.2f} | | exit {rc} |", flush=True)
    for name, argv, target in rows:
        cache = tempfile.mkdtemp(prefix="numba-cold-")
        try:
            if template is not None:
                shutil.copytree(template, cache, dirs_exist_ok=True)
            wall, cpu, rc = run_child(argv, cache)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        met = f"FAILED (exit {rc})" if rc else ("yes" if wall <= target else "no")
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | <= {target:g} | {met} |", flush=True)


if __name__ == "__main__":
    main()
