"""Faults during training: Ctrl-C, checkpoints and resuming, divergence, a lost Dask worker.

- Ctrl-C is a real SIGINT sent to a subprocess in the middle of a fit (library and CLI).
- ``logloss fit --checkpoint FILE --checkpoint-every N`` / ``--resume FILE``.
- A diverging fit (a huge learning rate) raises DivergenceError and leaves no NaN model.
- A Dask worker killed during a fit is survived: tests/test_dask.py::
  test_worker_killed_during_fit_gives_the_same_result.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import logloss as ll
from logloss.cli import app
from logloss.solvers import DivergenceError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

LOGLOSS = str(Path(sys.executable).with_name("logloss"))


def _separable_csv(path: Path, n: int = 20_000, d: int = 8) -> Path:
    """Linearly separable rows: with a tiny penalty, gradient descent never converges."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) > 0).astype(int)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(d)])
    df["y"] = y
    df.to_csv(path, index=False)
    return path


def _noisy_csv(path: Path, n: int = 2_000, d: int = 5) -> Path:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) + rng.normal(size=n) > 0).astype(int)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(d)])
    df["y"] = y
    df.to_csv(path, index=False)
    return path


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used, from /proc; None where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _interrupt_when(proc: subprocess.Popen, marker: str, delay: float = 1.5) -> tuple[str, str]:
    """Send SIGINT once the process has run `delay` CPU seconds after `marker` starts a line
    of its stdout; (stdout, stderr).

    CPU time, not wall time: on a loaded machine a wall-clock delay can expire before the
    process has done any of the work the signal is meant to interrupt.
    """
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith(marker):
            break
    else:  # pragma: no cover - the process ended before the marker
        out, err = proc.communicate(timeout=60)
        raise AssertionError(f"{marker!r} never printed:\n{''.join(seen)}{out}\n{err}")
    start = _cpu_seconds(proc.pid)
    if start is None:  # no /proc: fall back to wall time
        time.sleep(delay)
    else:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            used = _cpu_seconds(proc.pid)
            if used is None or used - start >= delay:
                break
            time.sleep(0.05)
    assert proc.poll() is None, "the fit finished before the signal: make it longer"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return "".join(seen) + out, err


def _env() -> dict:
    return dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200")


# --------------------------------------------------------------------------- Ctrl-C


LIBRARY_FIT = """
import sys, warnings, numpy as np, logloss as ll
rng = np.random.default_rng(0)
X = rng.normal(size=(20000, 8)); y = (X @ rng.normal(size=8) > 0).astype(int)
seen = []

def callback(info):
    seen.append(info.loss)
    if len(seen) == 1:
        print("iterating", flush=True)  # the solver loop has started: interrupt now

est = ll.LogisticRegression(solver="gd", C=1e12, max_iter=10**7, tol=0.0, callback=callback)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    est.fit(X, y)
names = [w.category.__name__ for w in caught]
print("interrupted", est.interrupted_, "n_iter", est.n_iter_, "warnings", names)
print("finite", bool(np.isfinite(est.coef_).all() and np.isfinite(est.intercept_).all()))
best = min(seen)
print("best_kept", bool(abs(est.loss_curve_[-1] - seen[-1]) < 1e-12 and best <= seen[0]))
print("proba_finite", bool(np.isfinite(est.predict_proba(X)).all()))
"""


def test_sigint_during_library_fit_keeps_the_best_parameters_and_warns():
    proc = subprocess.Popen(
        [sys.executable, "-c", LIBRARY_FIT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    out, err = _interrupt_when(proc, "iterating", delay=1.0)
    assert proc.returncode == 0, err
    assert "interrupted True" in out and "FitInterruptedWarning" in out
    assert "finite True" in out and "best_kept True" in out and "proba_finite True" in out
    n_iter = int(out.split("n_iter ")[1].split()[0])
    assert 0 < n_iter < 10**7


@pytest.mark.parametrize("checkpoint", [False, True], ids=["plain", "checkpointed"])
def test_sigint_during_cli_fit_writes_the_model_with_a_warning(tmp_path, checkpoint):
    data = _separable_csv(tmp_path / "d.csv")
    model = tmp_path / "model.npz"
    args = [LOGLOSS, "fit", str(data), "-t", "y", "-o", str(model), "--solver", "gd"]
    args += ["--C", "1e12", "--max-iter", "10000000"]
    if checkpoint:
        args += ["--checkpoint", str(tmp_path / "ck.npz"), "--checkpoint-every", "25"]
    # a first, small fit compiles and caches the kernels, so that the signal below
    # arrives during the solver's iterations rather than during compilation
    small = str(_noisy_csv(tmp_path / "small.csv", n=200))
    warm = [LOGLOSS, "fit", small, "-t", "y", "-o", str(tmp_path / "warm.npz"), "--solver", "gd"]
    subprocess.run([*warm, "--max-iter", "2"], capture_output=True, env=_env(), check=True)
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    )
    out, err = _interrupt_when(proc, "Rows:", delay=2.0)
    assert proc.returncode == 130, err  # saved, but a script still learns it was cut short
    assert "interrupted (KeyboardInterrupt)" in err
    assert "Traceback" not in err
    assert "saved to" in out and "Scores" in out
    fitted, meta = ll.load(model, with_metadata=True)
    assert 0 < fitted.n_iter_ < 10_000_000
    assert np.isfinite(fitted.coef_).all()
    assert meta["training"]["scores"]["training"]["accuracy"] > 0.9
    if checkpoint:
        ck, ck_meta = ll.load(tmp_path / "ck.npz", with_metadata=True)
        assert ck_meta["checkpoint"]["finished"] is False
        assert ck_meta["checkpoint"]["iterations"] == fitted.n_iter_
        np.testing.assert_array_equal(ck.coef_, fitted.coef_)


# --------------------------------------------------------------------------- checkpoints


def _fit(*args: str) -> None:
    result = CliRunner().invoke(app, ["fit", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_checkpoint_then_resume_equals_an_uninterrupted_fit(tmp_path):
    data = str(_noisy_csv(tmp_path / "d.csv"))
    common = ["-t", "y", "--solver", "gd"]
    _fit(data, *common, "-o", str(tmp_path / "full.npz"), "--max-iter", "40")
    # a run stopped after 20 iterations, checkpointing every 7 ...
    ck = str(tmp_path / "ck.npz")
    _fit(data, *common, "-o", str(tmp_path / "half.npz"), "--max-iter", "20",
         "--checkpoint", ck, "--checkpoint-every", "7")  # fmt: skip
    _, meta = ll.load(ck, with_metadata=True)
    assert meta["checkpoint"] == {"iterations": 20, "max_iter": 20, "finished": True}
    # ... then continued to 40 gives the uninterrupted model (gd's steps do not depend on history)
    _fit(data, *common, "-o", str(tmp_path / "resumed.npz"), "--max-iter", "40", "--resume", ck)
    full, resumed = ll.load(tmp_path / "full.npz"), ll.load(tmp_path / "resumed.npz")
    assert resumed.n_iter_ == full.n_iter_ == 40
    assert len(resumed.loss_curve_) == 40
    np.testing.assert_allclose(resumed.coef_, full.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(resumed.loss_curve_, full.loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("model", ["logistic", "mlp"])
def test_resume_converges_to_the_same_model_as_one_fit(tmp_path, model):
    data = str(_noisy_csv(tmp_path / "d.csv", n=600))
    common = ["-t", "y", "--model", model]
    if model == "mlp":
        common += ["--hidden", "4", "--solver", "lbfgs"]
    _fit(data, *common, "-o", str(tmp_path / "one.npz"), "--max-iter", "500")
    ck = str(tmp_path / "ck.npz")
    _fit(data, *common, "-o", str(tmp_path / "a.npz"), "--max-iter", "3", "--checkpoint", ck,
         "--checkpoint-every", "1")  # fmt: skip
    _fit(data, *common, "-o", str(tmp_path / "b.npz"), "--max-iter", "500", "--resume", ck)
    (one, m1), (two, m2) = (ll.load(tmp_path / f, with_metadata=True) for f in ("one.npz", "b.npz"))
    assert two.n_iter_ > 3
    loss1 = m1["training"]["scores"]["held-out"]["log_loss"]
    loss2 = m2["training"]["scores"]["held-out"]["log_loss"]
    assert np.isfinite(loss2)
    if model == "logistic":  # convex: the same optimum
        assert abs(loss1 - loss2) < 1e-4
        np.testing.assert_allclose(two.coef_, one.coef_, atol=1e-3)
    else:  # an MLP may settle in another minimum of about the same quality
        assert loss2 < loss1 * 1.25


def test_a_checkpoint_is_an_ordinary_model_file(tmp_path):
    data = str(_noisy_csv(tmp_path / "d.csv"))
    ck = tmp_path / "ck.npz"
    _fit(data, "-t", "y", "--solver", "gd", "-o", str(tmp_path / "m.npz"), "--max-iter", "5",
         "--checkpoint", str(ck), "--checkpoint-every", "2")  # fmt: skip
    result = CliRunner().invoke(app, ["predict", str(ck), data])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "prediction"
    assert ll.load(ck)[-1].get_params()["warm_start"] is False


@pytest.mark.parametrize(
    "change,message",
    [
        (["--model", "softmax"], r"written with --model 'logistic'; this run has 'softmax'"),
        (["--seed", "3"], r"written with --seed 0; this run has 3"),
        (["--calibrate"], r"cannot continue a calibrated model"),
    ],
)
def test_resume_with_other_options_is_a_clear_error(tmp_path, change, message):
    data = str(_noisy_csv(tmp_path / "d.csv"))
    ck = str(tmp_path / "ck.npz")
    _fit(data, "-t", "y", "-o", str(tmp_path / "m.npz"), "--max-iter", "3", "--checkpoint", ck)
    result = CliRunner().invoke(
        app, ["fit", data, "-t", "y", "-o", str(tmp_path / "n.npz"), "--resume", ck, *change]
    )
    assert result.exit_code == 2
    assert result.output.startswith("Error: --resume")
    assert re.search(message, " ".join(result.output.split())), result.output


def test_resume_from_a_file_not_written_by_fit_is_a_clear_error(tmp_path):
    data = _noisy_csv(tmp_path / "d.csv")
    df = pd.read_csv(data)
    plain = ll.save(ll.LogisticRegression().fit(df.drop(columns="y").to_numpy(), df["y"]),
                    tmp_path / "plain.npz")  # fmt: skip
    result = CliRunner().invoke(
        app, ["fit", str(data), "-t", "y", "-o", str(tmp_path / "m.npz"), "--resume", str(plain)]
    )
    assert result.exit_code == 2
    assert "was not written by `logloss fit`" in " ".join(result.output.split())


def test_resume_with_other_data_is_a_clear_error(tmp_path):
    data = str(_noisy_csv(tmp_path / "d.csv"))
    ck = str(tmp_path / "ck.npz")
    _fit(data, "-t", "y", "-o", str(tmp_path / "m.npz"), "--max-iter", "3", "--checkpoint", ck)
    wider = _noisy_csv(tmp_path / "wide.csv", d=7)
    result = CliRunner().invoke(
        app, ["fit", str(wider), "-t", "y", "-o", str(tmp_path / "n.npz"), "--resume", ck]
    )
    assert result.exit_code == 2
    assert "takes 5 features, but this data gives 7" in " ".join(result.output.split())


def test_checkpoint_to_a_missing_folder_fails_before_reading_data(tmp_path):
    result = CliRunner().invoke(
        app,
        ["fit", str(tmp_path / "absent.csv"), "-t", "y", "-o", str(tmp_path / "m.npz"),
         "--checkpoint", str(tmp_path / "no" / "ck.npz")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "cannot write checkpoint file" in " ".join(result.output.split())


# --------------------------------------------------------------------------- divergence


def _scaled_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5)) * 1e3
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize(
    "est",
    [
        ll.LogisticRegression(solver="gd", learning_rate=1e12, max_iter=50),
        ll.LogisticRegression(solver="sgd", learning_rate=1e12, max_iter=50),
        ll.LogisticRegression(solver="adam", learning_rate=1e12, max_iter=50),
        ll.SoftmaxRegression(solver="gd", learning_rate=1e15, max_iter=50),
        ll.MLPClassifier(solver="adam", learning_rate_init=1e8, max_iter=20),
        ll.MLPClassifier(solver="sgd", learning_rate_init=1e8, max_iter=20),
    ],
    ids=lambda e: f"{type(e).__name__}-{e.solver}",
)
def test_a_diverging_fit_is_a_clear_error_and_leaves_no_nan_model(est):
    X, y = _scaled_problem()
    with pytest.raises(DivergenceError, match=r"diverged at iteration \d+ .* is too high"):
        est.fit(X, y)
    assert not hasattr(est, "coef_") and not hasattr(est, "coefs_")
    # the message names the estimator's own hyperparameter
    name = "learning_rate_init" if isinstance(est, ll.MLPClassifier) else "learning_rate"
    with pytest.raises(DivergenceError, match=rf"`{name}`="):
        est.fit(X, y)


def test_backtracking_gradient_descent_survives_badly_scaled_data():
    X, y = _scaled_problem()
    est = ll.LogisticRegression(solver="gd", learning_rate="auto", max_iter=50)
    with pytest.warns(Warning):  # not converged in 50 steps: a warning, not a NaN
        est.fit(X, y)
    assert np.isfinite(est.coef_).all() and np.isfinite(est.predict_proba(X)).all()
    assert est.loss_curve_[-1] < est.loss_curve_[0]
