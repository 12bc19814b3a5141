"""Benchmark: logloss's fused cross-entropy kernels against their peers, on this machine.

Run as ``python benchmarks/bench_kernels.py [--quick] [--repeats N]``. One process, the
same inputs for every implementation, the median of `--repeats` timed calls (each after
a cache flush: a write over a buffer larger than the last-level cache). Printed as
markdown tables:

- the CPU model (``/proc/cpuinfo``) and the memory-bandwidth limits measured in this run:
  read-only (a parallel max over 512 MB), in-place read+write (an in-place add over
  512 MB; bytes read + written per second) and fresh-output read+write (NumPy ``x + 1``
  into new memory over the same bytes, page faults included);
- softmax cross-entropy, float32, shapes (65536, 128), (8192, 32000), (2048, 128256):
  forward (value only), forward+backward in place (``out=logits``) and with a fresh
  gradient array, for logloss, torch eager, torch.compile, jax.jit + optax (if installed)
  and naive NumPy. Each time is also given as a fraction of the limit that applies to it,
  for the bytes the operation must move (forward: read the logits once, read limit; in
  place: read + write them once, in-place limit; fresh gradient: read the logits, write
  a new gradient, fresh-output limit). Ratios against torch move with the machine;
  fractions of a limit measured in the same run are comparable across machines;
- sigmoid BCE with logits on 10M float32 elements, forward and forward+backward;
- `import logloss` time and the first kernel call with a cold and a warm numba cache
  (subprocesses with a temporary NUMBA_CACHE_DIR).

Memory stays below ~6 GB at the largest shape. Timings on a shared machine are noisy:
the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable

import numpy as np
from _machine import cpu_model  # this folder is on sys.path

import logloss as ll
from logloss import _kernels

MB = 1 << 20


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------


class Flusher:
    """Evicts the caches by writing a buffer larger than the last-level cache."""

    def __init__(self, mbytes: int):
        self.buf = np.zeros(mbytes * MB // 8) if mbytes > 0 else None

    def __call__(self) -> None:
        if self.buf is not None:
            self.buf += 1.0


def measure(
    fn: Callable[[], object], repeats: int, flush: Flusher, setup: Callable[[], None] | None = None
) -> float:
    """Median seconds of `repeats` calls of fn (after one warm-up), each after setup + flush."""
    if setup is not None:
        setup()
    fn()
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        flush()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


# ---------------------------------------------------------------------------
# memory bandwidth
# ---------------------------------------------------------------------------


def bandwidth(repeats: int, flush: Flusher) -> tuple[float, float, float]:
    """(read, in-place read+write, fresh-output read+write) GB/s over 512 MB of float32.

    Read and in-place are the best of NumPy and numba; fresh output is NumPy's ``a + 1``
    into a new array (its pages are faulted in on first touch, as a new gradient's are).
    """
    from numba import njit, prange

    from logloss._kernels._numba_math import maxnum

    @njit(parallel=True, cache=False)
    def par_max(a, parts):
        out = np.empty(parts, a.dtype)
        step = (a.shape[0] + parts - 1) // parts
        for p in prange(parts):
            m = a[0]
            b = a[p * step : min((p + 1) * step, a.shape[0])]
            for i in range(b.shape[0]):
                m = maxnum(m, b[i])
            out[p] = m
        return out.max()

    @njit(parallel=True, cache=False)
    def par_add(a):
        for i in prange(a.shape[0]):
            a[i] += np.float32(1.0)

    a = np.ones(512 * MB // 4, np.float32)
    nbytes = a.nbytes
    t_read = measure(lambda: par_max(a, 64), repeats, flush)
    t_np = measure(lambda: np.add(a, np.float32(1.0), out=a), repeats, flush)
    t_nb = measure(lambda: par_add(a), repeats, flush)
    t_fresh = measure(lambda: a + np.float32(1.0), repeats, flush)
    rw = 2 * nbytes / min(t_np, t_nb) / 1e9
    return nbytes / t_read / 1e9, rw, 2 * nbytes / t_fresh / 1e9


# ---------------------------------------------------------------------------
# peers
# ---------------------------------------------------------------------------


def naive_numpy_ce(z: np.ndarray, y: np.ndarray, grad: bool):
    """Textbook NumPy: log-softmax, mean NLL, gradient softmax - onehot (new arrays)."""
    n = z.shape[0]
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - z[np.arange(n), y]))
    if not grad:
        return loss, None
    g = e / s
    g[np.arange(n), y] -= 1.0
    g /= n
    return loss, g


def naive_numpy_bce(x: np.ndarray, t: np.ndarray, grad: bool):
    loss = float(np.mean(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))))
    if not grad:
        return loss, None
    return loss, (1.0 / (1.0 + np.exp(-x)) - t) / x.size


class Torch:
    def __init__(self, compile_: bool):
        # a private inductor cache: a directory shared with other processes compiling at the
        # same time has given "ImportError" on half-written modules
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="inductor-"))
        import torch
        import torch.nn.functional as F

        self.torch, self.F = torch, F
        self.compile_error = None if compile_ else "skipped (--no-compile)"
        self._compiled = {}
        self.compile_times: dict[str, float] = {}

    def ce(self, z, y, grad):
        torch = self.torch
        if not grad:
            with torch.no_grad():
                return self.F.cross_entropy(z, y)
        z.grad = None
        z.requires_grad_(True)
        loss = self.F.cross_entropy(z, y)
        loss.backward()
        return loss, z.grad

    def bce(self, x, t, grad):
        torch = self.torch
        if not grad:
            with torch.no_grad():
                return self.F.binary_cross_entropy_with_logits(x, t)
        x.grad = None
        x.requires_grad_(True)
        loss = self.F.binary_cross_entropy_with_logits(x, t)
        loss.backward()
        return loss, x.grad

    def compiled(self, key: str, grad: bool):
        """torch.compile of the forward (no_grad) or of loss + backward; None if it failed."""
        if self.compile_error is not None:
            return None
        if (key, grad) in self._compiled:
            return self._compiled[(key, grad)]
        torch, F = self.torch, self.F
        fwd = F.cross_entropy if key == "ce" else F.binary_cross_entropy_with_logits
        if grad:

            def fn(a, b):
                a = a.detach().requires_grad_(True)
                loss = fwd(a, b)
                (g,) = torch.autograd.grad(loss, a)
                return loss, g

        else:

            def fn(a, b):
                with torch.no_grad():
                    return fwd(a, b)

        try:
            cfn = torch.compile(fn)
        except Exception as exc:  # noqa: BLE001 - reported in the table
            self.compile_error = f"{type(exc).__name__}: {exc}"[:80]
            return None
        self._compiled[(key, grad)] = cfn
        return cfn


def try_jax():
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError as exc:
        return None, f"not installed ({exc.name})"
    return (jax, jnp, optax), None


# ---------------------------------------------------------------------------
# start-up
# ---------------------------------------------------------------------------

_FIRST_CALL = textwrap.dedent(
    """
    import time
    t0 = time.perf_counter()
    import numpy as np
    import logloss as ll
    t1 = time.perf_counter()
    import numba
    from logloss._kernels import _numba_bce, _numba_ce
    t2 = time.perf_counter()
    z = np.random.default_rng(0).standard_normal((64, 100)).astype(np.float32)
    y = np.arange(64) % 100
    ll.value_and_grad(ll.cross_entropy)(z, y, out=z)
    t3 = time.perf_counter()
    ll.binary_cross_entropy_with_logits(z, (z > 0).astype(np.float32))
    t4 = time.perf_counter()
    from logloss import _kernels
    assert _kernels.last_path() == "numba", _kernels.last_path()
    print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
    """
)


def startup_times() -> dict[str, float]:
    """import logloss, import numba + kernel modules, first CE fwd+bwd call and first BCE
    call, with a cold and a warm numba cache (subprocesses)."""
    out = {}
    env = dict(os.environ)
    env.pop("LOGLOSS_DISABLE_NUMBA", None)
    with tempfile.TemporaryDirectory() as cache:
        env["NUMBA_CACHE_DIR"] = cache
        for label in ("cold", "warm"):
            res = subprocess.run(
                [sys.executable, "-c", _FIRST_CALL],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            imp, nb, ce, bce = (float(v) for v in res.stdout.split())
            out[f"import logloss ({label})"] = imp
            out[f"import numba + kernel modules ({label})"] = nb
            out[f"first ce_labels call ({label} cache)"] = ce
            out[f"first bce_logits call ({label} cache)"] = bce
    return out


def bench_ce_shape(
    n, c, rng, repeats, flush, read_bw, rw_bw, fresh_bw, tch, jx, jax_note, add
) -> None:
    """Softmax CE on (n, c) float32: logloss and its peers, forward and forward+backward."""
    torch = tch.torch if tch is not None else None
    z0 = rng.standard_normal((n, c), dtype=np.float32)
    y = rng.integers(0, c, n)
    z = z0.copy()
    nb = z.nbytes

    def restore():
        np.copyto(z, z0)

    vg = ll.value_and_grad(ll.cross_entropy)
    case = f"CE {n}x{c}"
    t = measure(lambda: ll.cross_entropy(z, y), repeats, flush)
    add(f"{case} fwd", "logloss", t, nb, read_bw)
    assert _kernels.last_path() == "numba"
    t = measure(lambda: vg(z, y, out=z), repeats, flush, restore)
    add(f"{case} fwd+bwd in place", "logloss", t, 2 * nb, rw_bw)
    t = measure(lambda: vg(z, y), repeats, flush, restore)
    add(f"{case} fwd+bwd fresh grad", "logloss", t, 2 * nb, fresh_bw)
    gc.collect()
    # peers: fresh gradients (torch and jax have no in-place backward into the logits)
    if tch is not None:
        zt = torch.from_numpy(z)
        yt = torch.from_numpy(y)
        t = measure(lambda: tch.ce(zt, yt, False), repeats, flush)
        add(f"{case} fwd", "torch eager", t, nb, read_bw)
        t = measure(lambda: tch.ce(zt, yt, True), repeats, flush)
        add(f"{case} fwd+bwd fresh grad", "torch eager", t, 2 * nb, fresh_bw)
        zt.grad = None
        zt = zt.detach()
        for grad in (False, True):
            label = f"{case} fwd+bwd fresh grad" if grad else f"{case} fwd"
            fn = tch.compiled("ce", grad)
            t = None
            note = tch.compile_error or ""
            if fn is not None:
                try:
                    t0 = time.perf_counter()
                    fn(zt, yt)
                    tch.compile_times[label] = time.perf_counter() - t0
                    t = measure(lambda fn=fn, zt=zt, yt=yt: fn(zt, yt), repeats, flush)
                except Exception as exc:  # noqa: BLE001 - reported in the table
                    tch.compile_error = note = f"{type(exc).__name__}: {exc}"[:80]
            limit = fresh_bw if grad else read_bw
            add(label, "torch.compile", t, (2 if grad else 1) * nb, limit, note)
        del zt, yt
        gc.collect()
    if jx is not None:
        jax, jnp, optax = jx
        zj = jnp.asarray(z)
        yj = jnp.asarray(y)

        def mean_ce(a, b):
            return optax.softmax_cross_entropy_with_integer_labels(a, b).mean()

        f_fwd = jax.jit(mean_ce)
        f_grad = jax.jit(jax.value_and_grad(mean_ce))
        t = measure(lambda: f_fwd(zj, yj).block_until_ready(), repeats, flush)
        add(f"{case} fwd", "jax.jit+optax", t, nb, read_bw)
        t = measure(lambda: jax.block_until_ready(f_grad(zj, yj)), repeats, flush)
        add(f"{case} fwd+bwd fresh grad", "jax.jit+optax", t, 2 * nb, fresh_bw)
        del zj, yj
    else:
        add(f"{case} fwd", "jax.jit+optax", None, nb, read_bw, jax_note)
        add(f"{case} fwd+bwd fresh grad", "jax.jit+optax", None, 2 * nb, fresh_bw, jax_note)
    t = measure(lambda: naive_numpy_ce(z, y, False), repeats, flush)
    add(f"{case} fwd", "naive numpy", t, nb, read_bw)
    t = measure(lambda: naive_numpy_ce(z, y, True), repeats, flush)
    add(f"{case} fwd+bwd fresh grad", "naive numpy", t, 2 * nb, fresh_bw)


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------


def print_targets(rows, startup) -> None:
    """The issue's targets, checked against this run's figures."""
    t = {(r[0], r[1]): r for r in rows}

    def get(case, impl):
        r = t.get((case, impl))
        return None if r is None or r[2] is None else r

    lines = []
    for case_prefix in sorted({r[0].rsplit(" fwd", 1)[0] for r in rows if r[0].startswith("CE")}):
        n, c = (int(v) for v in case_prefix.split()[1].split("x"))
        if c < 32000:
            continue
        ip = get(f"{case_prefix} fwd+bwd in place", "logloss")
        fr = get(f"{case_prefix} fwd+bwd fresh grad", "logloss")
        fw = get(f"{case_prefix} fwd", "logloss")
        te = get(f"{case_prefix} fwd+bwd fresh grad", "torch eager")
        tc = get(f"{case_prefix} fwd+bwd fresh grad", "torch.compile")
        jx = get(f"{case_prefix} fwd+bwd fresh grad", "jax.jit+optax")
        frac = lambda r: r[3] / r[2] / 1e9 / r[4]  # noqa: E731
        if ip:
            lines.append((f"{case_prefix} in place >= 0.6 of in-place limit", frac(ip), 0.6))
        if ip and te:
            lines.append((f"{case_prefix} in place >= 20x torch eager", te[2] / ip[2], 20))
        if fr and te:
            lines.append((f"{case_prefix} fresh grad >= 10x torch eager", te[2] / fr[2], 10))
        if ip and tc:
            lines.append((f"{case_prefix} in place >= 5x torch.compile", tc[2] / ip[2], 5))
        if ip and jx:
            lines.append((f"{case_prefix} in place >= 5x jax", jx[2] / ip[2], 5))
        if fw:
            lines.append((f"{case_prefix} fwd >= 0.75 of read limit", frac(fw), 0.75))
    bce = sorted({r[0].split(" fwd")[0] for r in rows if r[0].startswith("BCE")})
    for case in bce:
        te = get(f"{case} fwd+bwd", "torch eager")
        for label, r in (
            ("in place", get(f"{case} fwd+bwd in place", "logloss")),
            ("fresh grad", get(f"{case} fwd+bwd", "logloss")),
        ):
            if r is None:
                continue
            lines.append(
                (f"{case} fwd+bwd {label} >= 0.5 of its limit", r[3] / r[2] / 1e9 / r[4], 0.5)
            )
            if te:
                lines.append((f"{case} fwd+bwd {label} >= 10x torch eager", te[2] / r[2], 10))
    warm = startup.get("first ce_labels call (warm cache)")
    if warm is not None:
        lines.append(("first kernel call, warm cache < 0.5 s (value: seconds)", warm, 0.5))
        warm += startup["import numba + kernel modules (warm)"]
        lines.append(("first kernel call + import numba, warm cache (seconds)", warm, 0.5))
    print("\n| target | measured | required | met |\n|---|---:|---:|---|")
    for name, value, need in lines:
        ok = value < need if name.startswith("first") else value >= need
        print(f"| {name} | {value:.2f} | {need} | {'yes' if ok else 'NO'} |")


def fmt_ms(t: float | None) -> str:
    return "n/a" if t is None else f"{t * 1e3:.1f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="smaller shapes (a quarter of the rows), 3 repeats, no torch.compile",
    )
    p.add_argument("--repeats", type=int, default=None, help="timed calls per case (default 5)")
    p.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    p.add_argument(
        "--flush-mb",
        type=int,
        default=256,
        help="cache-flush buffer in MB written before each timed call (0: none)",
    )
    p.add_argument("--no-startup", action="store_true", help="skip the start-up subprocesses")
    args = p.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    compile_ = not (args.no_compile or args.quick)
    flush = Flusher(args.flush_mb)
    rng = np.random.default_rng(0)

    import numba

    print("# logloss kernel benchmark\n")
    print(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    print(
        f"machine: {cpu_model()} ({platform.machine()}), {os.cpu_count()} logical CPUs, "
        f"numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads), "
        f"numpy {np.__version__}; load average before: {os.getloadavg()[0]:.2f}"
    )

    read_bw, rw_bw, fresh_bw = bandwidth(repeats, flush)
    limit_names = {id(read_bw): "read", id(rw_bw): "in place", id(fresh_bw): "fresh output"}
    print(
        f"\nbandwidth limits (this run, 512 MB float32): read {read_bw:.1f} GB/s; "
        f"in place (a += 1, read+write) {rw_bw:.1f} GB/s; "
        f"fresh output (x + 1 into new memory, read+write) {fresh_bw:.1f} GB/s\n"
    )

    try:
        tch = Torch(compile_)
        torch = tch.torch
        torch_note = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        tch, torch, torch_note = None, None, "torch not installed"
    jx, jax_note = try_jax()
    print(f"peers: {torch_note}; jax: {jax_note or 'jax ' + jx[0].__version__}\n")

    shapes = [(65536, 128), (8192, 32000), (2048, 128256)]
    if args.quick:
        shapes = [(n // 4, c) for n, c in shapes]

    rows = []  # (case, impl, seconds or None, bytes, limit, note)

    def add(case, impl, t, nbytes, limit, note=""):
        rows.append((case, impl, t, nbytes, limit, note))

    for n, c in shapes:
        bench_ce_shape(n, c, rng, repeats, flush, read_bw, rw_bw, fresh_bw, tch, jx, jax_note, add)
        gc.collect()

    # binary sigmoid BCE, 10M elements: the kernel reads x and t (4 + 4 bytes) and, with a
    # gradient, writes it (4); the mean is reduced inside the kernel (no per-element loss)
    m = 10_000_000 // (4 if args.quick else 1)
    x = rng.standard_normal(m, dtype=np.float32)
    t = (rng.random(m) < 0.5).astype(np.float32)
    xi = np.empty_like(x)
    case = f"BCE {m // 1_000_000}M"
    vgb = ll.value_and_grad(ll.binary_cross_entropy_with_logits)
    add(
        f"{case} fwd",
        "logloss",
        measure(lambda: ll.binary_cross_entropy_with_logits(x, t), repeats, flush),
        8 * m,
        read_bw,
    )
    add(
        f"{case} fwd+bwd",
        "logloss",
        measure(lambda: vgb(x, t), repeats, flush),
        12 * m,
        fresh_bw,
        "fresh gradient",
    )
    add(
        f"{case} fwd+bwd in place",
        "logloss",
        measure(lambda: vgb(xi, t, out=xi), repeats, flush, setup=lambda: np.copyto(xi, x)),
        12 * m,
        rw_bw,
        "out=logits",
    )
    assert _kernels.last_path() == "numba"
    if tch is not None:
        xt, tt = torch.from_numpy(x), torch.from_numpy(t)
        add(
            f"{case} fwd",
            "torch eager",
            measure(lambda: tch.bce(xt, tt, False), repeats, flush),
            8 * m,
            read_bw,
        )
        add(
            f"{case} fwd+bwd",
            "torch eager",
            measure(lambda: tch.bce(xt, tt, True), repeats, flush),
            12 * m,
            fresh_bw,
        )
        xt.grad = None
        xt = xt.detach()
        fn = tch.compiled("bce", True)
        tc, note = None, tch.compile_error or ""
        if fn is not None:
            try:
                tc = measure(lambda: fn(xt, tt), repeats, flush)
            except Exception as exc:  # noqa: BLE001
                note = f"{type(exc).__name__}: {exc}"[:80]
        add(f"{case} fwd+bwd", "torch.compile", tc, 12 * m, fresh_bw, note)
    add(
        f"{case} fwd+bwd",
        "naive numpy",
        measure(lambda: naive_numpy_bce(x, t, True), repeats, flush),
        12 * m,
        fresh_bw,
    )

    # table
    ours = {r[0]: r[2] for r in rows if r[1] == "logloss"}
    print(
        "| case | implementation | median ms | GB/s moved | limit | fraction of limit "
        "| logloss is x faster | note |"
    )
    print("|---|---|---:|---:|---|---:|---:|---|")
    for case, impl, t, nbytes, limit, note in rows:
        name = limit_names[id(limit)]
        if t is None:
            print(f"| {case} | {impl} | n/a | | {name} | | | {note} |")
            continue
        gbs = nbytes / t / 1e9
        base = ours.get(case)
        ratio = "" if impl == "logloss" or base is None else f"{t / base:.1f}"
        print(
            f"| {case} | {impl} | {fmt_ms(t)} | {gbs:.1f} | {name} | {gbs / limit:.2f} "
            f"| {ratio} | {note} |"
        )
    print(
        "\nfraction of limit: GB/s moved / the limit measured in this run that applies "
        "(read: forward; in place: gradient written over the logits; fresh output: gradient "
        "into new memory); CE fwd+bwd moves 2x the logits' bytes (read logits, write gradient)."
    )
    if tch is not None and tch.compile_times:
        print(
            "torch.compile first call (compile) s: "
            + ", ".join(f"{k}: {v:.1f}" for k, v in tch.compile_times.items())
        )

    startup = {} if args.no_startup else startup_times()
    if startup:
        print("\n| start-up | seconds |\n|---|---:|")
        for k, v in startup.items():
            print(f"| {k} | {v:.3f} |")
    print_targets(rows, startup)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
