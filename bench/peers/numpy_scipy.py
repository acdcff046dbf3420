"""Peer (a) of `npm run bench -- drift`: the drift check a Python engineer writes with json, numpy and scipy.

Reads every captured record (json.loads per line), parses the CSV endpointInput with numpy, holds the
window in memory as one float64 matrix, and tests each feature against the reference:
ks_2samp for numerical features, chi2_contingency on the category counts for categorical ones, both at
p < 0.05. The dataset drifts when at least half the features do.
"""

import json

import numpy as np
from scipy import stats

from capture_peer import Phases, arguments, capture_files, report

P_VALUE_THRESHOLD = 0.05
DRIFT_SHARE = 0.5


def load_current(files, width):
    chunks = []
    for path in files:
        rows = []
        with open(path, encoding="utf-8") as capture:
            for line in capture:
                if not line.strip():
                    continue
                record = json.loads(line)
                rows.append(record["captureData"]["endpointInput"]["data"])
        if rows:
            chunks.append(np.loadtxt(rows, delimiter=",", dtype=np.float64, ndmin=2))
    current = np.concatenate(chunks) if chunks else np.empty((0, width))
    if current.shape[1] != width:
        raise SystemExit(f"captured rows have {current.shape[1]} values, expected {width}")
    return current


def chi_square(reference, current):
    categories = np.union1d(reference, current)
    table = np.array([[np.count_nonzero(side == c) for c in categories] for side in (reference, current)])
    statistic, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    return float(statistic), float(p_value)


def main():
    args = arguments(__doc__)
    phases = Phases()
    names = args.numerical + args.categorical
    reference = np.loadtxt(args.reference, delimiter=",", dtype=np.float64, ndmin=2)[:, 1:]
    phases.mark("readReferenceSeconds")
    current = load_current(capture_files(args.capture_dir), len(names))
    phases.mark("readCaptureSeconds")

    drifted, methods = [], {}
    for column, name in enumerate(names):
        if name in args.numerical:
            result = stats.ks_2samp(reference[:, column], current[:, column])
            p_value, methods[name] = float(result.pvalue), "ks_2samp"
        else:
            _, p_value = chi_square(reference[:, column], current[:, column])
            methods[name] = "chi2_contingency"
        if p_value < P_VALUE_THRESHOLD:
            drifted.append(name)
    phases.mark("testSeconds")
    verdict = "drift" if len(drifted) >= DRIFT_SHARE * len(names) else "no_drift"
    report(current.shape[0], verdict, drifted, methods, phases)


if __name__ == "__main__":
    main()
