"""The `logloss` command line, through typer's CliRunner and as a real subprocess.

typer 0.29's CliRunner keeps stderr apart: ``result.stdout`` and ``result.stderr``
hold each stream and ``result.output`` both, interleaved as a terminal shows them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

typer = pytest.importorskip("typer")
pytest.importorskip("matplotlib")

from svg_figure import read_axes, svg_text_rc  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from logloss import __version__  # noqa: E402
from logloss.cli import app  # noqa: E402
from logloss.cli._errors import LoglossGroup  # noqa: E402

runner = CliRunner()


def _one_line_error(result) -> str:
    """The single `Error: ...` line a user mistake must produce, with nothing on stdout."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    return lines[0]


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"logloss {__version__}"


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for word in ("demo", "plot", "--verbose", "--version"):
        assert word in result.stdout


LOSS_CURVE_TEXT = {"Cross-entropy loss of a single example", "φ(z)", "J(w)"}


def _png_size(path) -> tuple[int, int]:
    """Width and height from a PNG's header (the IHDR chunk follows the signature)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_plot_loss_curve_svg_says_what_it_draws(tmp_path):
    import matplotlib

    target = tmp_path / "curve.svg"
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        result = runner.invoke(app, ["plot", "loss-curve", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Wrote {target}"
    (axes,) = read_axes(target)
    assert LOSS_CURVE_TEXT <= set(axes.texts)
    assert axes.legend == ["J(w) if y=1", "J(w) if y=0"]
    assert len(axes.line_markers) >= 2  # the two curves (and any guide lines)


def test_plot_loss_curve_png_follows_dpi(tmp_path):
    sizes = []
    for dpi in ("50", "100"):
        target = tmp_path / f"curve{dpi}.png"
        result = runner.invoke(app, ["plot", "loss-curve", "-o", str(target), "--dpi", dpi])
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == f"Wrote {target}"
        sizes.append(_png_size(target))
    (w50, h50), (w100, h100) = sizes
    assert abs(w100 - 2 * w50) <= 2 and abs(h100 - 2 * h50) <= 2 and w50 > h50 > 0


def test_plot_loss_curve_bad_suffix(tmp_path):
    line = _one_line_error(
        runner.invoke(app, ["plot", "loss-curve", "-o", str(tmp_path / "x.pdf")])
    )
    assert "--output" in line and ".png or .svg" in line
    assert not (tmp_path / "x.pdf").exists()


def test_plot_loss_curve_missing_directory(tmp_path):
    target = tmp_path / "missing" / "x.png"
    line = _one_line_error(runner.invoke(app, ["plot", "loss-curve", "-o", str(target)]))
    assert "does not exist" in line and str(target.parent) in line


def test_plot_loss_curve_directory_is_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "x.png"
    _one_line_error(runner.invoke(app, ["plot", "loss-curve", "-o", str(target)]))


def test_plot_loss_curve_bad_dpi(tmp_path):
    result = runner.invoke(app, ["plot", "loss-curve", "-o", str(tmp_path / "x.png"), "--dpi", "0"])
    assert "--dpi" in _one_line_error(result)


def test_verbose_adds_the_traceback(tmp_path):
    target = tmp_path / "missing" / "x.png"
    result = runner.invoke(app, ["--verbose", "plot", "loss-curve", "-o", str(target)])
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "FileNotFoundError" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: ")


def test_demo_runs(tmp_path):
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out), "--iterations", "50", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "negative log-likelihood" in result.stdout
    assert "iteration    50" in result.stdout
    assert {p.name for p in out.iterdir()} == {
        "loss_curve.png",
        "gd_cost.png",
        "solvers.png",
        "mlp_history.png",
        "calibration.png",
        "summary.txt",
        "summary.json",
    }


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["demo", "--iterations", "0"], "--iterations"),
        (["demo", "--seed", "abc"], "--seed"),
        (["demo", "--seed", "-1"], "--seed"),
        (["demo", "--bogus"], "--bogus"),
        (["dmeo"], "demo"),
        (["--bogus"], "--bogus"),
        (["plot", "nope"], "nope"),
    ],
)
def test_usage_errors_are_one_line(args, needle):
    line = _one_line_error(runner.invoke(app, args))
    assert needle in line
    assert "--help" in line  # points at the help


def test_demo_out_is_a_file(tmp_path):
    (tmp_path / "taken").write_text("")
    line = _one_line_error(runner.invoke(app, ["demo", "--out", str(tmp_path / "taken")]))
    assert "taken" in line


# -- the error handling that every later command (fit, predict, score, ...) inherits --

probe = typer.Typer(name="probe", cls=LoglossGroup)


@probe.callback()
def _probe_options(verbose: bool = typer.Option(False, "--verbose")) -> None:
    from logloss.cli._errors import options

    options.verbose = verbose


@probe.command()
def value_error() -> None:
    import logloss as ll

    ll.binary_cross_entropy([0.5, 0.5], [1.0, 0.0], reduction="avg")


@probe.command()
def type_error() -> None:
    raise TypeError("`logits` must be a real floating-point array;\ngot integer dtype int64")


@probe.command()
def permission_error() -> None:
    raise PermissionError(13, "Permission denied", "/root/model.json")


@probe.command()
def bug() -> None:
    raise RuntimeError("a bug")


def test_library_value_error_becomes_one_line():
    line = _one_line_error(runner.invoke(probe, ["value-error"]))
    assert "`reduction`" in line and "'avg'" in line


def test_multiline_message_is_joined_and_ends_with_a_stop():
    line = _one_line_error(runner.invoke(probe, ["type-error"]))
    assert line == ("Error: `logits` must be a real floating-point array; got integer dtype int64.")


def test_os_error_names_the_file():
    line = _one_line_error(runner.invoke(probe, ["permission-error"]))
    assert line == "Error: Permission denied: '/root/model.json'."


def test_other_exceptions_are_bugs_and_propagate():
    result = runner.invoke(probe, ["bug"])
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)


# -- the installed console script --

SCRIPT = Path(sys.executable).with_name("logloss")
needs_script = pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed")


@needs_script
def test_script_help():
    proc = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "demo" in proc.stdout and "plot" in proc.stdout


@needs_script
def test_script_plot_and_error(tmp_path):
    env = {**os.environ, "COLUMNS": "100", "MATPLOTLIBRC": str(svg_text_rc(tmp_path))}
    proc = subprocess.run(
        [str(SCRIPT), "plot", "loss-curve", "-o", "x.svg"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Wrote x.svg\n"
    (axes,) = read_axes(tmp_path / "x.svg")
    assert LOSS_CURVE_TEXT <= set(axes.texts)
    assert axes.legend == ["J(w) if y=1", "J(w) if y=0"]

    proc = subprocess.run(
        [str(SCRIPT), "plot", "loss-curve", "-o", "x.gif"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: ")


def test_cli_import_is_light():
    # `logloss --help` stays fast because no command's heavy imports run at import time.
    code = (
        "import sys, logloss.cli\n"
        "heavy = {'matplotlib', 'sklearn', 'scipy', 'pandas', 'numba', 'rich'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
