"""Benchmark: cross-entropy on 16-bit logits, the half kernels against converting.

For each of bfloat16 and float16 logits (raw uint16 bits, 2048x32000 by default), the
CPU time (``time.process_time``: all threads of the process) of one loss + gradient call,
best of ``--repeats``:

- ``ce_labels_half`` (gradient into a separate uint16 array, and in place);
- NumPy conversion to float32 + ``ce_labels`` (in place) + conversion back (``widen_half``,
  ``narrow_half``: the half module's own fallback path);
- PyTorch conversion (``tensor.float()``, ``copy_`` back to the 16-bit tensor) around
  ``ce_labels``, when torch is installed;
- ``ce_labels`` on float32 logits of the same shape, for scale.

Run ``python benchmarks/bench_half.py [--rows N] [--classes C] [--repeats K]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _machine import cpu_model  # this folder is on sys.path

from logloss._kernels import ce_labels, ce_labels_half
from logloss._kernels.half import narrow_half, widen_half


def best_cpu(f, repeats: int) -> float:
    f()  # compile / warm the caches
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        f()
        times.append(time.process_time() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2048)
    ap.add_argument("--classes", type=int, default=32000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    z32 = (rng.standard_normal((args.rows, args.classes)) * 2).astype(np.float32)
    y = rng.integers(0, args.classes, args.rows)
    try:
        import torch
    except ImportError:
        torch = None
    print(f"{args.rows}x{args.classes}, {cpu_model()}, "
          f"best of {args.repeats}, CPU seconds (process_time)")  # fmt: skip
    for kind in ("bfloat16", "float16"):
        z = narrow_half(z32, kind)
        g = np.empty_like(z)
        zi = z.copy()

        def numpy_convert(z=z, g=g, kind=kind):
            x = widen_half(z, kind)
            ce_labels(x, y, grad_out=x)
            narrow_half(x, kind, out=g)

        cases = {
            "ce_labels_half": lambda z=z, g=g, kind=kind: ce_labels_half(
                z, y, kind=kind, grad_out=g
            ),
            "ce_labels_half in place": lambda zi=zi, kind=kind: ce_labels_half(
                zi, y, kind=kind, grad_out=zi
            ),
            "NumPy convert + ce_labels": numpy_convert,
        }
        if torch is not None:
            tdt = getattr(torch, kind)
            zt = torch.from_numpy(z.view(np.int16)).view(tdt)
            gt = torch.from_numpy(g.view(np.int16)).view(tdt)

            def torch_convert(zt=zt, gt=gt):
                x = zt.float()
                xn = x.numpy()
                ce_labels(xn, y, grad_out=xn)
                gt.copy_(x)

            cases["torch convert + ce_labels"] = torch_convert
        for name, f in cases.items():
            print(f"{kind:9} {name:28} {best_cpu(f, args.repeats):8.3f} s")
    x = np.empty_like(z32)
    t = best_cpu(lambda: ce_labels(z32, y, grad_out=x), args.repeats)
    print(f"{'float32':9} {'ce_labels':28} {t:8.3f} s")


if __name__ == "__main__":
    main()
