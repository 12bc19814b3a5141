"""Inputs found by the fuzzers (fuzz/) that once escaped as an uncaught exception.

Each is rebuilt here from its description, so the test needs neither atheris nor the
fuzz corpus; the raw inputs are kept in fuzz/crashes/ for the harnesses.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

import logloss as ll
from logloss.model_file import ModelFileError


def _fitted_entries(tmp_path: Path) -> dict[str, bytes]:
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    path = ll.save(ll.LogisticRegression().fit(X, [0, 0, 1, 1]), tmp_path / "ok.npz")
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _write(tmp_path: Path, entries: dict[str, bytes]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    path = tmp_path / "fuzzed.npz"
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize(
    "header",
    [
        # fuzz/crashes/model-tokenize-error.bin: an array's .npy header cut inside a
        # literal; numpy's header parser raised tokenize.TokenError (not a ValueError)
        b'{\'descr\'oss_curve_": {"value": [1.5, 1.4',
        # the same header family: a syntax error in the literal, and a header too short
        b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,, }",
        b"{",
    ],
    ids=["unclosed-literal", "syntax-error", "bare-brace"],
)
def test_a_damaged_npy_header_is_a_model_file_error(tmp_path, header):
    entries = _fitted_entries(tmp_path)
    name = next(n for n in entries if n != "__metadata__.npy")
    padded = header + b" " * (-(len(header) + 10 + 1) % 64) + b"\n"
    entries[name] = b"\x93NUMPY\x01\x00" + len(padded).to_bytes(2, "little") + padded + b"\0" * 8
    path = _write(tmp_path, entries)
    with pytest.raises(ModelFileError, match=r"is not a valid logloss model file"):
        ll.load(path)


def test_a_npy_header_length_past_the_end_is_a_model_file_error(tmp_path):
    entries = _fitted_entries(tmp_path)
    name = next(n for n in entries if n != "__metadata__.npy")
    entries[name] = b"\x93NUMPY\x02\x00\xff"  # version 2 wants a 4-byte length: 1 byte left
    path = _write(tmp_path, entries)
    with pytest.raises(ModelFileError, match=r"is not a valid logloss model file"):
        ll.load(path)


FUZZ = Path(__file__).resolve().parent.parent / "fuzz"


@pytest.mark.parametrize("harness", ["fuzz_model_file.py", "fuzz_table.py"])
def test_the_fuzz_harnesses_run_and_replay_their_crashes(harness, tmp_path):
    """Each harness runs (plain loop, 2 s) and the saved crash inputs no longer crash."""
    import subprocess
    import sys

    crashes = sorted(str(p) for p in (FUZZ / "crashes").glob("model-*"))
    runs = [["--plain", "-max_total_time=2", f"-artifact_prefix={tmp_path}/"]]
    if harness == "fuzz_model_file.py" and crashes:
        runs.append(["--plain", *crashes])
    for args in runs:
        done = subprocess.run(
            [sys.executable, str(FUZZ / harness), *args],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "no crash" in done.stdout
