"""Run every benchmark script in this folder (``bench_*.py``) and print their tables.

Usage: ``python benchmarks/run_all.py [--quick] [--only NAME]`` (``make bench`` runs it).
Each script is a standalone program measuring logloss against its peers in one process.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small shapes, for a smoke run")
    parser.add_argument("--only", help="run only bench_<ONLY>.py")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent
    scripts = sorted(here.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem == f"bench_{args.only}"]
    failed = []
    for script in scripts:
        cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        print(f"\n$ {' '.join(cmd)}", flush=True)
        start = time.perf_counter()
        code = subprocess.call(cmd)
        print(f"({script.name}: {time.perf_counter() - start:.1f} s, exit {code})", flush=True)
        if code:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
