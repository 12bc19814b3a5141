"""Accuracy of 16-bit cross-entropy: logloss.torch against PyTorch's own, in bfloat16 and float16.

For 512x4096 logits (standard normal x3, rounded to the 16-bit type) and random labels, the
float64 loss and gradient of the SAME 16-bit values are the reference. Printed: the largest
relative error of the per-row loss, and the largest gradient error in units of the 16-bit
format's spacing at the reference value (subnormal spacing below the normal range); 0.5
means correctly rounded. Run ``python benchmarks/bench_half_accuracy.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

import logloss.torch as lt

SUBNORMAL_STEP = {torch.bfloat16: 2.0**-133, torch.float16: 2.0**-24}


def errors(loss_fn, x, y, ref_loss, ref_grad, dtype):
    leaf = x.detach().clone().requires_grad_(True)
    loss = loss_fn(leaf, y, reduction="none")
    loss.sum().backward()
    rel = ((loss.double() - ref_loss).abs() / ref_loss.abs()).max().item()
    eps = torch.finfo(dtype).eps
    mag = torch.clamp(ref_grad.abs(), min=1e-300)
    spacing = torch.clamp(2.0 ** torch.floor(torch.log2(mag)) * eps, min=SUBNORMAL_STEP[dtype])
    return rel, ((leaf.grad.double() - ref_grad).abs() / spacing).max().item()


def main() -> None:
    print("command: python benchmarks/bench_half_accuracy.py")
    print("| dtype | implementation | loss max rel. error | gradient max error (spacings) |")
    print("|---|---|---:|---:|")
    g = torch.Generator().manual_seed(0)
    for dtype in (torch.bfloat16, torch.float16):
        x = (torch.randn(512, 4096, generator=g) * 3).to(dtype)
        y = torch.randint(0, 4096, (512,), generator=g)
        x64 = x.double().requires_grad_(True)
        ref = F.cross_entropy(x64, y, reduction="none")
        ref.sum().backward()
        for name, fn in (("logloss.torch", lt.cross_entropy), ("F.cross_entropy", F.cross_entropy)):
            rel, spacings = errors(fn, x, y, ref.detach(), x64.grad, dtype)
            print(f"| {str(dtype)[6:]} | {name} | {rel:.2e} | {spacings:.3f} |")


if __name__ == "__main__":
    main()
