"""Write the example tables the docs use: customers.csv, new.csv and noplan.csv.

    python docs/examples/make_customers.py [FOLDER]

customers.csv: 2,000 customers (customer, tenure, monthly, plan, region, churn) with a
few missing values in monthly and plan. Whether a customer left depends on tenure
(long-standing customers stay), the monthly charge (dearer ones leave) and the plan;
region plays no part. new.csv: five of those customers without churn, one of them
in a region the table does not have; noplan.csv: the same rows without plan.
Seeded: every run writes the same files.
"""

import csv
import sys
from pathlib import Path

import numpy as np

N_ROWS = 2_000
rng = np.random.default_rng(2026)

tenure = np.minimum(rng.gamma(2.0, 12.0, N_ROWS), 72.0).round(1)  # months
plan = rng.choice(["basic", "plus", "pro"], N_ROWS, p=[0.5, 0.3, 0.2])
region = rng.choice(["north", "south", "east", "west"], N_ROWS)
base = np.select([plan == "basic", plan == "plus"], [50.0, 75.0], 105.0)
monthly = np.maximum(base + rng.normal(0.0, 12.0, N_ROWS), 10.0).round(2)

plan_effect = np.select([plan == "basic", plan == "plus"], [0.4, 0.0], -0.6)
logit = 0.6 - 0.07 * tenure + 0.025 * (monthly - 70.0) + plan_effect
churn = np.where(rng.random(N_ROWS) < 1.0 / (1.0 + np.exp(-logit)), "left", "stayed")

monthly_text = [f"{m:.2f}" for m in monthly]
plan_text = list(plan)
for i in rng.choice(N_ROWS, 60, replace=False):
    monthly_text[i] = ""
for i in rng.choice(N_ROWS, 15, replace=False):
    plan_text[i] = ""

rows = [
    [f"c{i:05d}", f"{tenure[i]:.1f}", monthly_text[i], plan_text[i], region[i], churn[i]]
    for i in range(N_ROWS)
]
header = ["customer", "tenure", "monthly", "plan", "region", "churn"]

folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
folder.mkdir(parents=True, exist_ok=True)


def write(name, header, rows):
    with open(folder / name, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


write("customers.csv", header, rows)
new = [rows[i][:5] for i in (674, 1699, 1282, 1315, 1210)]
new[-1][4] = "space"  # a region the model never saw
write("new.csv", header[:5], new)
write("noplan.csv", header[:3] + header[4:5], [r[:3] + r[4:5] for r in new])
print(f"Wrote customers.csv ({N_ROWS:,} rows), new.csv and noplan.csv to {folder}/.")
