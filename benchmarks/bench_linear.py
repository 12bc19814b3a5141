"""Benchmark: linear cross-entropy forward + backward (gradients of hidden and weight).

Measured in the same process on the same float32 inputs (N rows, D features, V classes):

- ``logloss``: ``value_and_grad(linear_cross_entropy, argnums=(0, 1))`` with the default
  chunk size (or ``--chunk-size``);
- ``3 bare matmuls``: the products any implementation must do, ``h @ W.T``, ``G @ W`` and
  ``G.T @ h``, into preallocated outputs (the arithmetic floor; target ratio <= 1.15);
- ``torch eager``: logits materialised, ``F.cross_entropy`` and ``backward()`` (if installed).

Times are medians of ``--repeats`` runs, the implementations taking turns. Peak extra memory
is measured in a fresh subprocess per implementation: the rise of VmHWM (peak resident set,
reset through ``/proc/self/clear_refs``) over the resident set before the call, minus the
bytes of the gradients the call returns; for logloss also the peak of NumPy's allocations
under ``tracemalloc``. Target: at most 1/8 of the float32 (N, V) logits.

Run ``python benchmarks/bench_linear.py`` (N=4096, D=2048, V=32000; about 10 s per call,
so a few minutes in all) or ``--quick`` (N=1024, D=512, V=8000).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

FULL = (4096, 2048, 32000)
QUICK = (1024, 512, 8000)


def make_inputs(n: int, d: int, v: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, d), dtype=np.float32)
    w = rng.standard_normal((v, d), dtype=np.float32) * np.float32(d**-0.5)
    y = rng.integers(0, v, n)
    return h, w, y


def make_runner(name: str, h, w, y, chunk_size):
    """A zero-argument callable doing forward + backward; it returns the gradients it made."""
    if name == "logloss":
        import logloss as ll

        f = ll.value_and_grad(ll.linear_cross_entropy, argnums=(0, 1))

        def run():
            return f(h, w, y, chunk_size=chunk_size)[1]

        return run
    if name == "matmuls":
        n, v = h.shape[0], w.shape[0]
        z = np.empty((n, v), np.float32)
        gh = np.empty_like(h)
        gw = np.empty_like(w)

        def run():
            np.matmul(h, w.T, out=z)  # logits
            np.matmul(z, w, out=gh)  # G W (z standing in for G)
            np.matmul(z.T, h, out=gw)  # G^T h
            return ()  # outputs preallocated: nothing new is returned

        return run
    if name == "torch":
        import torch

        ht = torch.from_numpy(h).requires_grad_()
        wt = torch.from_numpy(w).requires_grad_()
        yt = torch.from_numpy(y)

        def run():
            ht.grad = wt.grad = None
            loss = torch.nn.functional.cross_entropy(ht @ wt.T, yt)
            loss.backward()
            return (ht.grad, wt.grad)

        return run
    raise ValueError(f"unknown implementation {name!r}")


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        return int(re.search(rf"^{field}:\s+(\d+) kB", fh.read(), re.M).group(1))


def child(name: str, n: int, d: int, v: int, chunk_size) -> None:
    """Measure one implementation's peak extra memory; print one JSON line."""
    h, w, y = make_inputs(n, d, v)
    run = make_runner(name, h, w, y, chunk_size)
    run()  # warm-up: imports, compilation, thread pools, BLAS buffers (result freed)
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset VmHWM to the current resident set
    base = _status_kb("VmRSS")
    traced = None
    if name == "logloss":
        import tracemalloc

        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
    grads = run()
    hwm = _status_kb("VmHWM")
    returned = sum(int(g.nbytes) if hasattr(g, "nbytes") else g.numel() * 4 for g in grads)
    if name == "logloss":
        traced = tracemalloc.get_traced_memory()[1] - before - returned
        tracemalloc.stop()
    print(json.dumps({"peak_extra": (hwm - base) * 1024 - returned, "traced": traced}))


def measure_memory(name: str, n: int, d: int, v: int, chunk_size) -> dict:
    cmd = [sys.executable, __file__, "--child", name, "--shape", str(n), str(d), str(v)]
    if chunk_size is not None:
        cmd += ["--chunk-size", str(chunk_size)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return {"peak_extra": None, "traced": None, "error": res.stderr.strip().splitlines()[-1:]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def _mb(x) -> str:
    return "-" if x is None else f"{x / 1e6:,.0f}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"small shapes {QUICK}")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per implementation")
    ap.add_argument("--shape", type=int, nargs=3, metavar=("N", "D", "V"), default=None)
    ap.add_argument("--chunk-size", type=int, default=None, help="rows per chunk (default: auto)")
    ap.add_argument("--no-torch", action="store_true", help="skip torch even if installed")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    n, d, v = args.shape or (QUICK if args.quick else FULL)
    if args.child:
        child(args.child, n, d, v, args.chunk_size)
        return

    import logloss as ll
    from logloss import _kernels
    from logloss.losses.linear import default_chunk_size

    names = ["matmuls", "logloss"]
    if not args.no_torch:
        try:
            import torch

            names.append("torch")
        except ImportError:
            pass
    chunk = args.chunk_size or default_chunk_size(n, v, 4)
    logits_bytes = n * v * 4
    h, w, y = make_inputs(n, d, v)
    runners = {name: make_runner(name, h, w, y, args.chunk_size) for name in names}
    for run in runners.values():
        run()  # warm-up (and compilation)
    print("command:", " ".join(["python", *sys.argv]))
    print(
        f"N={n} D={d} V={v} float32, chunk {chunk} rows ({chunk * v * 4 / 1e6:.1f} MB); "
        f"logits would be {logits_bytes / 1e6:,.0f} MB; logloss {ll.__version__} "
        f"(kernel path: {_kernels.last_path()}), numpy {np.__version__}"
        + (
            f", torch {torch.__version__} ({torch.get_num_threads()} threads)"
            if "torch" in names
            else ""
        )
    )
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} at start")
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.repeats):
        for name in names:
            t0 = time.perf_counter()
            grads = runners[name]()
            times[name].append(time.perf_counter() - t0)
            del grads
    del runners
    mem = {
        name: (measure_memory(name, n, d, v, args.chunk_size) if not args.no_memory else {})
        for name in names
    }
    print(f"load average {os.getloadavg()[0]:.2f} at end")

    base = statistics.median(times["matmuls"])
    labels = {"logloss": "logloss linear_cross_entropy", "matmuls": "3 bare matmuls",
              "torch": "torch eager (logits materialised)"}  # fmt: skip
    print()
    base_min = min(times["matmuls"])
    print(
        f"| {'implementation':34} | median s | min s | vs matmuls (median) | (min) "
        "| extra MB | vs logits |"
    )
    print(f"|{'-' * 36}|---------:|------:|--------------------:|------:|---------:|----------:|")
    for name in names:
        med, lo = statistics.median(times[name]), min(times[name])
        extra = mem[name].get("peak_extra")
        frac = "-" if extra is None else f"{extra / logits_bytes:.3f}"
        print(
            f"| {labels[name]:34} | {med:8.3f} | {lo:5.2f} | {med / base:19.3f} "
            f"| {lo / base_min:5.3f} | {_mb(extra):>8} | {frac:>9} |"
        )
    ours = mem["logloss"]
    if ours.get("traced") is not None:
        print(
            f"\nlogloss NumPy allocations beyond the gradients (tracemalloc): "
            f"{_mb(ours['traced'])} MB"
        )
    ratio = statistics.median(times["logloss"]) / base
    verdict = "met" if ratio <= 1.15 else "NOT met"
    print(f"target time <= 1.15x the matmuls (medians): {verdict} ({ratio:.3f}x)")
    if ours.get("peak_extra") is not None:
        frac = ours["peak_extra"] / logits_bytes
        verdict = "met" if frac <= 0.125 else "NOT met"
        print(f"target extra memory <= 1/8 of the logits (VmHWM): {verdict} ({frac:.3f})")


if __name__ == "__main__":
    main()
