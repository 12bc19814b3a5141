"""The text table of :meth:`InferenceResult.summary`."""

from __future__ import annotations

from typing import Any

WIDTH = 78


def _pair(left: tuple[str, str], right: tuple[str, str]) -> str:
    half = WIDTH // 2
    a = f"{left[0]:<20}{left[1]:>{half - 22}}"
    b = f"{right[0]:<20}{right[1]:>{WIDTH - half - 20}}"
    return f"{a}  {b}"


def render(res: Any) -> str:
    multinomial = res.params.ndim == 2
    title = "MNLogit" if multinomial else "Logit"
    firth = getattr(res, "firth", False)
    if firth:  # no AIC/BIC: the penalised log-likelihood and logistf's model test instead
        last = (("Penalized LL:", f"{res.penalized_llf:.5g}"), ("Penalized LLR:", f"{res.llr:.5g}"))
    else:
        last = (("AIC:", f"{res.aic:.5g}"), ("BIC:", f"{res.bic:.5g}"))
    stats = [
        (("Model:", title), ("No. Observations:", f"{res.nobs:g}")),
        (("Method:", "Firth PL" if firth else "MLE"), ("Df Residuals:", f"{res.df_resid:g}")),
        (("Covariance Type:", res.cov_type), ("Df Model:", f"{res.df_model:g}")),
        (("Pseudo R-squ.:", f"{res.prsquared:.4f}"), ("Log-Likelihood:", f"{res.llf:.5g}")),
        (("LL-Null:", f"{res.llnull:.5g}"), ("LLR p-value:", f"{res.llr_pvalue:.4g}")),
        last,
    ]
    lines = [f"{title} Regression Results".center(WIDTH), "=" * WIDTH]
    lines += [_pair(a, b) for a, b in stats]
    frame = res.to_frame()
    cols = list(frame.columns)
    header = f"{'':<22}" + "".join(f"{c:>9}" for c in cols)
    lines.append("=" * WIDTH)
    for key, row in frame.iterrows():
        if multinomial and key[1] == res.feature_names[0]:
            if lines[-1] != "=" * WIDTH:
                lines.append("-" * WIDTH)
            lines += [f"{'y=' + key[0]:<22}" + header[22:], "-" * WIDTH]
        elif not multinomial and key == res.feature_names[0]:
            lines += [header, "-" * WIDTH]
        name = key[1] if multinomial else key
        name = name if len(name) <= 21 else name[:20] + "~"
        cells = [f"{row.iloc[0]:9.4f}"] + [f"{v:9.3f}" for v in row.iloc[1:6]]
        lines.append(f"{name:<22}" + "".join(cells))
    lines.append("=" * WIDTH)
    if firth:
        lines.append(
            "Notes: Firth's penalized likelihood (logistf). std err: Wald, from the inverse "
            "information; chi2 and P>chi2: penalized likelihood-ratio tests; interval: "
            "profile penalized likelihood."
        )
    if res.separation:
        lines.append("Warning: " + res.separation)
    return "\n".join(_wrap(line) for line in lines)


def _wrap(line: str) -> str:
    if len(line) <= WIDTH or not line.startswith(("Warning", "Notes")):
        return line
    import textwrap

    return "\n".join(textwrap.wrap(line, WIDTH))


__all__ = ["render"]
