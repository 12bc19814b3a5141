"""How the model files in this folder were made: by logloss 0.1.0 at commit e66c88b.

They stay as written then (never regenerate them): tests/test_model_file.py loads them
with today's code and checks the predictions stored beside them, so model files written
before a change keep loading. Run from this folder: ``python make_files.py``.
"""

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd

import logloss as ll


def main() -> None:
    rng = np.random.default_rng(20261201)
    X = rng.normal(size=(40, 3))
    y2 = np.where(X @ [1.5, -1.0, 0.5] + 0.3 * rng.normal(size=40) > 0, "yes", "no")
    y3 = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.5, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr = ll.LogisticRegression(C=0.7).fit(X, y2)
        mlp = ll.MLPClassifier(hidden_layer_sizes=(4,), max_iter=30, random_state=0).fit(X, y3)
    ll.save(lr, "logistic.npz")
    ll.save(mlp, "mlp.npz")
    Xq = rng.normal(size=(8, 3))
    np.savez(
        "predictions.npz",
        X=Xq,
        logistic=lr.predict_proba(Xq),
        mlp=mlp.predict_proba(Xq),
        logistic_labels=lr.predict(Xq).astype(str),
        mlp_labels=mlp.predict(Xq),
    )

    n = 60
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n).round(3),
            "x2": rng.normal(2, 3, size=n).round(3),
            "colour": rng.choice(["red", "green", "blue"], size=n),
        }
    )
    z = 2 * df["x1"] - 0.6 * df["x2"] + np.where(df["colour"] == "red", 1.5, 0.0) + 0.5
    df["label"] = np.where(z + rng.logistic(size=n) > 0, "spam", "ham")
    df.loc[[3, 17], "x1"] = np.nan
    df.loc[[5], "colour"] = None
    df.to_csv("cli-train.csv", index=False)
    new = df.drop(columns="label").iloc[:10].copy()
    new.loc[2, "colour"] = "purple"
    new.to_csv("cli-new.csv", index=False)
    logloss = [sys.executable, "-m", "logloss.cli"]
    subprocess.run(
        logloss + ["fit", "cli-train.csv", "-t", "label", "-o", "cli-fit.npz", "--seed", "1"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        logloss + ["predict", "cli-fit.npz", "cli-new.csv", "--proba", "-o", "cli-new-proba.csv"],
        check=True,
        capture_output=True,
    )


if __name__ == "__main__":
    main()
