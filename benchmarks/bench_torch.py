"""Benchmark: logloss.torch inside PyTorch training, against torch's own losses.

Measured in one process on the same CPU tensors (medians of ``--repeats``, the
implementations taking turns), each case a full ``loss.backward()``:

- cross-entropy fwd+bwd, 8192x32000 and 2048x128256, float32 and bfloat16:
  ``logloss.torch.cross_entropy`` against ``F.cross_entropy`` eager and under
  ``torch.compile`` (the compiled versions are warmed up first);
- linear cross-entropy fwd+bwd (gradients of hidden and weight), 4096x2048x32000 float32:
  ``logloss.torch.linear_cross_entropy`` against ``F.linear_cross_entropy`` with
  ``LinearCrossEntropyOptions()`` (PyTorch's chunked path) and without (logits
  materialised), and the three bare matrix products; peak extra memory of each in a
  fresh subprocess (VmHWM over the resident set before the call, minus the gradients);
- one training step of a small language-model head (embedding 32000x256, two
  Linear+GELU layers, vocabulary projection 256->32000, batch 4096 tokens, SGD) with
  each loss.

Run ``python benchmarks/bench_torch.py`` (a few minutes) or ``--quick`` (a quarter of
the rows, smaller linear shapes). Targets (issue 4/7): CE >= 4x F.cross_entropy eager and
>= 2x torch.compile in float32 and bfloat16; linear CE <= 0.9x PyTorch's chunked path and
<= 1.1x the bare matmuls, at no more peak memory.
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

import torch
import torch.nn.functional as F
from _machine import cpu_model  # this folder is on sys.path

import logloss as ll
import logloss.torch as lt


def timed(fns: dict, repeats: int) -> dict[str, float]:
    for fn in fns.values():
        fn()  # warm-up: compilation, thread pools, page faults
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def ce_runners(n: int, v: int, dtype: torch.dtype, compile_: bool) -> dict:
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(n, v, generator=g) * 2).to(dtype).requires_grad_(True)
    y = torch.randint(0, v, (n,), generator=g)

    def step(loss_fn):
        def run():
            x.grad = None
            loss_fn(x, y).backward()

        return run

    fns = {"logloss.torch": step(lt.cross_entropy), "F.cross_entropy": step(F.cross_entropy)}
    if dtype != torch.bfloat16:  # the generic API: value and gradient of a plain tensor
        vg = ll.value_and_grad(ll.cross_entropy)
        fns["ll.value_and_grad on tensors"] = lambda: vg(x.detach(), y)
    if compile_:
        fns["torch.compile(F.cross_entropy)"] = step(torch.compile(F.cross_entropy))
        fns["torch.compile(logloss.torch)"] = step(torch.compile(lt.cross_entropy, fullgraph=True))
    return fns


def linear_inputs(n: int, d: int, v: int):
    g = torch.Generator().manual_seed(1)
    h = torch.randn(n, d, generator=g).requires_grad_(True)
    w = (torch.randn(v, d, generator=g) * d**-0.5).requires_grad_(True)
    y = torch.randint(0, v, (n,), generator=g)
    return h, w, y


def linear_runner(name: str, h, w, y):
    from torch.nn.modules.linear_cross_entropy_options import LinearCrossEntropyOptions

    if name == "matmuls":
        z = torch.empty(h.shape[0], w.shape[0])
        gh, gw = torch.empty_like(h), torch.empty_like(w)

        def run():
            with torch.no_grad():
                torch.matmul(h, w.T, out=z)
                torch.matmul(z, w, out=gh)
                torch.matmul(z.T, h, out=gw)
            return ()

        return run
    loss_fn = {
        "logloss.torch": lambda: lt.linear_cross_entropy(h, w, y),
        "F.linear_cross_entropy chunked": lambda: F.linear_cross_entropy(
            h, w, y, options=LinearCrossEntropyOptions()
        ),
        "F.linear_cross_entropy": lambda: F.linear_cross_entropy(h, w, y),
    }[name]

    def run():
        h.grad = w.grad = None
        loss_fn().backward()
        return (h.grad, w.grad)

    return run


LINEAR = ["matmuls", "logloss.torch", "F.linear_cross_entropy chunked", "F.linear_cross_entropy"]


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        return int(re.search(rf"^{field}:\s+(\d+) kB", fh.read(), re.M).group(1))


def child(name: str, n: int, d: int, v: int) -> None:
    run = linear_runner(name, *linear_inputs(n, d, v))
    run()
    grads = run()  # second call: the gradients' own memory is already resident
    del grads
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # VmHWM := VmRSS
    base = _status_kb("VmRSS")
    run()
    print(json.dumps({"peak_extra": (_status_kb("VmHWM") - base) * 1024}))


def peak_extra(name: str, n: int, d: int, v: int):
    cmd = [sys.executable, __file__, "--child", name, "--linear", str(n), str(d), str(v)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])["peak_extra"]


def lm_step_runner(loss: str, vocab: int, tokens: int):
    torch.manual_seed(2)
    width = 256
    emb = torch.nn.Embedding(vocab, width)
    body = torch.nn.Sequential(
        torch.nn.Linear(width, width), torch.nn.GELU(), torch.nn.Linear(width, width),
        torch.nn.GELU(),
    )  # fmt: skip
    head = torch.nn.Linear(width, vocab, bias=False)
    params = [*emb.parameters(), *body.parameters(), *head.parameters()]
    opt = torch.optim.SGD(params, lr=0.1)
    ids = torch.randint(0, vocab, (tokens,))
    nxt = torch.roll(ids, -1)

    def run():
        opt.zero_grad(set_to_none=True)
        hidden = body(emb(ids))
        if loss == "logloss.torch (linear CE)":
            value = lt.linear_cross_entropy(hidden, head.weight, nxt)
        elif loss == "logloss.torch (CE)":
            value = lt.cross_entropy(head(hidden), nxt)
        else:
            value = F.cross_entropy(head(hidden), nxt)
        value.backward()
        opt.step()

    return run


def _ms(s: float | None) -> str:
    return "-" if s is None else f"{s * 1e3:,.1f} ms"


def _ratio(s: float | None, ours: float) -> str:
    return "-" if s is None else f"{s / ours:.1f}x"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--only", choices=["ce", "linear", "lm"], help="run one of the three tables")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--linear", type=int, nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, *args.linear)
        return
    print("command: python " + " ".join(["benchmarks/bench_torch.py", *sys.argv[1:]]))
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs; torch {torch.__version__} "
        f"({torch.get_num_threads()} threads); load average before {os.getloadavg()[0]:.2f}"
    )
    q = 4 if args.quick else 1
    print("\n| cross-entropy fwd+bwd | logloss.torch | F.cross_entropy | ratio | "
          "torch.compile(F) | ratio | torch.compile(logloss.torch) | ll.value_and_grad "
          "(tensors) | ratio |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    cases = [(8192 // q, 32000), (2048 // q, 128256)]
    for dtype in (torch.float32, torch.bfloat16) if args.only in (None, "ce") else ():
        for n, v in cases:  # fmt: skip
            t = timed(ce_runners(n, v, dtype, not args.no_compile), args.repeats)
            ours, eager = t["logloss.torch"], t["F.cross_entropy"]
            comp = t.get("torch.compile(F.cross_entropy)")
            ours_c = t.get("torch.compile(logloss.torch)")
            generic = t.get("ll.value_and_grad on tensors")
            name = str(dtype).replace("torch.", "")
            generic_ratio = "-" if generic is None else _ratio(eager, generic)
            print(f"| {n}x{v} {name} | {_ms(ours)} | {_ms(eager)} | {_ratio(eager, ours)} "
                  f"| {_ms(comp)} | {_ratio(comp, ours)} | {_ms(ours_c)} | {_ms(generic)} "
                  f"| {generic_ratio} |")  # fmt: skip

    if args.only in (None, "linear"):
        _linear_table(args)
    if args.only in (None, "lm"):
        _lm_table(args, q)
    print(f"\nload average after {os.getloadavg()[0]:.2f}")


def _linear_table(args) -> None:
    n, d, v = (1024, 512, 8000) if args.quick else (4096, 2048, 32000)
    h, w, y = linear_inputs(n, d, v)
    t = timed({name: linear_runner(name, h, w, y) for name in LINEAR}, max(1, args.repeats // 2))
    del h, w, y
    print(f"\n| linear CE {n}x{d}x{v} float32 | median s | vs matmuls | peak extra MB |")
    print("|---|---:|---:|---:|")
    for name in LINEAR:
        extra = peak_extra(name, n, d, v)
        mb = "-" if extra is None else f"{extra / 1e6:,.0f}"
        print(f"| {name} | {t[name]:.3f} | {t[name] / t['matmuls']:.2f} | {mb} |")
    print(
        f"logloss.torch vs PyTorch's chunked path: "
        f"{t['logloss.torch'] / t['F.linear_cross_entropy chunked']:.2f}x the time"
    )


def _lm_table(args, q: int) -> None:
    vocab, tokens = 32000, 4096 // q
    losses = ["F.cross_entropy", "logloss.torch (CE)", "logloss.torch (linear CE)"]
    t = timed({name: lm_step_runner(name, vocab, tokens) for name in losses}, args.repeats)
    print(f"\n| LM-head training step ({tokens} tokens, vocab {vocab}) | median ms | vs F |")
    print("|---|---:|---:|")
    for name in losses:
        print(f"| {name} | {t[name] * 1e3:,.1f} | {t[name] / t['F.cross_entropy']:.2f} |")


if __name__ == "__main__":
    main()
