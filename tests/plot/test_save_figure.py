"""logloss.plot._style: save_figure's files, and the light import of logloss.plot."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")


from logloss import plot  # noqa: E402


def test_save_figure_png(tmp_path):
    out = plot.save_figure(plot.loss_curve(), tmp_path / "loss.png")
    assert out == tmp_path / "loss.png"
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # 7.5 x 5 inches at 150 dpi
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1125, 750)


def test_save_figure_svg_is_reproducible(tmp_path):
    a = plot.save_figure(plot.loss_curve(), str(tmp_path / "a.svg"))
    b = plot.save_figure(plot.loss_curve(), tmp_path / "b.SVG")
    text = a.read_text()
    assert text.startswith("<?xml") and "<svg" in text
    assert "J(w) if y=1" in text and "J(w) if y=0" in text  # the legend, as comments
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("name", ["loss.pdf", "loss.jpg", "loss", "loss.png.txt"])
def test_save_figure_rejects_other_suffixes(tmp_path, name):
    with pytest.raises(ValueError, match=r"`path` must end in \.png or \.svg"):
        plot.save_figure(plot.loss_curve(), tmp_path / name)
    assert not (tmp_path / name).exists()


def test_save_figure_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot.save_figure(plot.loss_curve(), tmp_path / "no" / "such" / "loss.png")


def test_save_figure_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="`fig`"):
        plot.save_figure("figure", tmp_path / "x.png")
    with pytest.raises(ValueError, match="`dpi`"):
        plot.save_figure(plot.loss_curve(), tmp_path / "x.png", dpi=0)


def test_import_logloss_does_not_import_matplotlib():
    code = (
        "import sys, logloss\n"
        "assert 'matplotlib' not in sys.modules\n"
        "logloss.plot.loss_curve\n"
        "assert 'matplotlib' not in sys.modules\n"
        "logloss.plot.loss_curve()\n"
        "assert 'matplotlib' in sys.modules and 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
