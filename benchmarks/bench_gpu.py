"""Benchmark (GPU): logloss.torch's Triton kernels against PyTorch, torch.compile, Liger-Kernel
and Cut Cross-Entropy, at real shapes, time and peak memory.

Cases (bfloat16 logits unless said): cross-entropy forward+backward through
``loss.backward()`` at 8192x32000, 8192x128256 and 8192x256000; linear cross-entropy (hidden
2048 and 4096, vocabulary 32000 and 128256, 8192 rows). Each implementation runs in turn
(median of ``--repeats`` timed with CUDA events after a warm-up); peak memory is
``torch.cuda.max_memory_allocated`` above the inputs. The GPU's own copy bandwidth (a
device-to-device copy of 1 GiB) is measured in the same run, and each cross-entropy time is
also given as a fraction of that limit (bytes read + written by an ideal one-pass kernel:
the logits once read and the gradient once written).

Peers are optional (``pip install liger-kernel cut-cross-entropy``); a missing one is a row
saying so. Run on a CUDA machine: ``python benchmarks/bench_gpu.py``. ``--smoke`` runs tiny
shapes on the CPU through Triton's interpreter, to check the script itself anywhere.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--smoke", action="store_true", help="tiny shapes, CPU, Triton interpreter")
    args = ap.parse_args()
    if args.smoke:
        os.environ["TRITON_INTERPRET"] = "1"
    import torch
    import torch.nn.functional as F

    import logloss.torch as lt

    device = "cpu" if args.smoke else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        print("bench_gpu.py: no CUDA device here; nothing measured (--smoke checks the script)")
        return
    ce = lt.cross_entropy
    name = "CPU (Triton interpreter)" if args.smoke else torch.cuda.get_device_name()
    print(f"command: python benchmarks/bench_gpu.py{' --smoke' if args.smoke else ''}")
    print(f"device: {name}; torch {torch.__version__}")

    def timed(fn) -> float:
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times = []
        for _ in range(args.repeats):
            if device == "cuda":
                start, end = (
                    torch.cuda.Event(enable_timing=True),
                    torch.cuda.Event(enable_timing=True),
                )
                start.record()
                fn()
                end.record()
                torch.cuda.synchronize()
                times.append(start.elapsed_time(end) / 1e3)
            else:
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
        return statistics.median(times)

    def peak(fn) -> float:
        if device != "cuda":
            return float("nan")
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20

    if device == "cuda":
        a = torch.empty(2**28, dtype=torch.float32, device=device)
        b = torch.empty_like(a)
        copy = timed(lambda: b.copy_(a))
        limit = 2 * a.numel() * 4 / copy  # bytes read + written per second
        del a, b
        print(f"device copy bandwidth: {limit / 1e9:.0f} GB/s")
    else:
        limit = None

    peers = {"logloss.torch": ce, "F.cross_entropy": F.cross_entropy}
    if not args.smoke:
        peers["torch.compile(F.cross_entropy)"] = torch.compile(F.cross_entropy)
        try:
            from liger_kernel.transformers.functional import liger_cross_entropy

            peers["Liger-Kernel"] = liger_cross_entropy
        except ImportError:
            print("Liger-Kernel: not installed")
    shapes = [(8, 64), (16, 300)] if args.smoke else [(8192, 32000), (8192, 128256), (8192, 256000)]
    dtype = torch.float32 if args.smoke else torch.bfloat16
    print("\n| cross-entropy fwd+bwd | implementation | time | fraction of copy bandwidth "
          "| peak MiB |")  # fmt: skip
    print("|---|---|---:|---:|---:|")
    for n, v in shapes:
        x = torch.randn(n, v, device=device, dtype=dtype).requires_grad_(True)
        y = torch.randint(0, v, (n,), device=device)
        for label, fn in peers.items():
            step = _ce_step(fn, x, y, direct=args.smoke and label == "logloss.torch")
            t = timed(step)
            frac = "-" if limit is None else f"{2 * x.numel() * x.element_size() / t / limit:.2f}"
            print(f"| {n}x{v} | {label} | {t * 1e3:,.2f} ms | {frac} | {peak(step):,.0f} |")
        del x, y

    print("\n| linear cross-entropy fwd+bwd | implementation | time | peak MiB |")
    print("|---|---|---:|---:|")
    lin = [(4, 8, 50)] if args.smoke else [(8192, 2048, 32000), (8192, 4096, 128256)]
    impls = {"logloss.torch": lt.linear_cross_entropy, "F.linear_cross_entropy": None}
    impls["F.linear_cross_entropy"] = F.linear_cross_entropy
    if not args.smoke:
        try:
            from cut_cross_entropy import linear_cross_entropy as cce

            impls["Cut Cross-Entropy"] = cce
        except ImportError:
            print("Cut Cross-Entropy: not installed")
    for n, d, v in lin:
        h = torch.randn(n, d, device=device, dtype=dtype).requires_grad_(True)
        w = (torch.randn(v, d, device=device, dtype=dtype) * d**-0.5).requires_grad_(True)
        y = torch.randint(0, v, (n,), device=device)
        for label, fn in impls.items():
            run = _linear_step(fn, h, w, y, direct=args.smoke and label == "logloss.torch")
            t = timed(run)
            print(f"| {n}x{d}x{v} | {label} | {t * 1e3:,.2f} ms | {peak(run):,.0f} |")


def _ce_step(fn, x, y, direct: bool):
    """One forward+backward; `direct` calls the Triton implementation itself (the
    interpreter's CPU tensors would otherwise dispatch to the CPU kernels)."""
    if direct:
        from logloss.torch import _triton_ops

        return lambda: _triton_ops.ce_triton(x, y, None, -100, "mean", 0.0, 0.0, None, None, True)

    def step():
        x.grad = None
        fn(x, y).backward()

    return step


def _linear_step(fn, h, w, y, direct: bool):
    if direct:
        from logloss.torch import _triton_ops

        return lambda: _triton_ops.linear_ce_triton(
            h, w, y, None, None, "mean", -100, 0.0, 0.0, None, None, None, True
        )

    def step():
        h.grad = w.grad = None
        fn(h, w, y).backward()

    return step


if __name__ == "__main__":
    main()
