"""What the two fuzz harnesses share: the run loop, with atheris or without it.

``python fuzz/fuzz_X.py -max_total_time=120 [CORPUS_DIR]`` runs the harness under atheris
(coverage-guided, libFuzzer options) when it is installed, and otherwise as a plain
mutation loop over the seed inputs for the same time (``--plain`` forces that loop).
Either way an input that raises anything but the project's own clean error stops the
run with the traceback, and the failing input is written to ``<artifact_prefix>crash-<sha1>``
(``-artifact_prefix=build/fuzz/``; atheris does this itself, the plain loop likewise).
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import time
from collections.abc import Callable, Sequence


def _option(argv: Sequence[str], name: str, default: str) -> str:
    """The value of a libFuzzer-style ``-name=value`` argument."""
    for arg in argv:
        if arg.startswith(f"-{name}="):
            return arg.split("=", 1)[1]
    return default


def _mutate(data: bytes, seeds: Sequence[bytes], rng: random.Random) -> bytes:
    """One to eight random byte-level edits (libFuzzer's basic moves), or a splice."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        move = rng.randrange(7)
        if move == 0 and buf:  # flip a bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif move == 1 and buf:  # set a byte to an interesting value
            buf[rng.randrange(len(buf))] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0x22, 0x2C, 0x0A])
        elif move == 2:  # insert random bytes
            i = rng.randint(0, len(buf))
            buf[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif move == 3 and buf:  # delete a range
            i = rng.randrange(len(buf))
            del buf[i : i + rng.randint(1, 16)]
        elif move == 4 and buf:  # duplicate a range
            i = rng.randrange(len(buf))
            j = min(len(buf), i + rng.randint(1, 32))
            buf[i:i] = buf[i:j]
        elif move == 5 and seeds:  # splice with another seed
            other = rng.choice(seeds)
            cut = rng.randint(0, len(buf))
            buf = buf[:cut] + other[rng.randint(0, len(other)) :]
        elif move == 6 and buf:  # truncate
            del buf[rng.randint(0, len(buf)) :]
    return bytes(buf)


def use_atheris() -> bool:
    """atheris is installed and ``--plain`` was not asked for."""
    if "--plain" in sys.argv:
        return False
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


def run(test_one_input: Callable[[bytes], None], seeds: Sequence[bytes]) -> None:
    """Fuzz `test_one_input` from `seeds` for ``-max_total_time`` seconds."""
    argv = [a for a in sys.argv if a != "--plain"]
    if not use_atheris():
        paths = [a for a in argv[1:] if not a.startswith("-")]
        files = [p for p in paths if os.path.isfile(p)]
        if files:  # replay these inputs only, as libFuzzer does with file arguments
            for path in files:
                with open(path, "rb") as fh:
                    test_one_input(fh.read())
            print(f"replayed {len(files)} input(s): no crash")
            return
        for folder in (p for p in paths if os.path.isdir(p)):
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name), "rb") as fh:
                    seeds = [*seeds, fh.read()]
        print("atheris is not used: running the plain mutation loop")
        seconds = int(_option(argv, "max_total_time", "120"))
        _plain_loop(test_one_input, seeds, seconds, _option(argv, "artifact_prefix", ""))
        return
    import atheris

    corpus = [a for a in argv[1:] if not a.startswith("-")]
    if corpus:  # libFuzzer starts from the corpus folder: put the seeds there
        os.makedirs(corpus[0], exist_ok=True)
        for seed in seeds:
            name = hashlib.sha1(seed).hexdigest()
            with open(os.path.join(corpus[0], name), "wb") as fh:
                fh.write(seed)
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


def _plain_loop(
    test_one_input: Callable[[bytes], None], seeds: Sequence[bytes], seconds: int, prefix: str
) -> None:
    rng = random.Random(int(os.environ.get("FUZZ_SEED", "0")))
    pool = list(seeds)
    start = time.monotonic()
    runs = 0
    while time.monotonic() - start < seconds:
        data = pool[runs] if runs < len(pool) else _mutate(rng.choice(pool), pool, rng)
        try:
            test_one_input(data)
        except BaseException:
            name = f"{prefix}crash-{hashlib.sha1(data).hexdigest()}"
            with open(name, "wb") as fh:
                fh.write(data)
            print(f"plain fuzz loop: crash after {runs} runs; input written to {name}")
            raise
        runs += 1
        if runs % 500 == 0 and len(pool) < 5000:
            pool.append(data)  # keep some mutants: later mutations go deeper
    elapsed = time.monotonic() - start
    print(f"plain fuzz loop: {runs} runs in {elapsed:.0f} s, no crash (seeds: {len(seeds)})")
