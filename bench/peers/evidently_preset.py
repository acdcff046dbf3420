"""Peer (b) of `npm run bench -- drift`: Evidently's DataDriftPreset on the captured records loaded with pandas.

Each capture file is read with pandas.read_json(lines=True); the CSV endpointInput strings go through
pandas.read_csv into one DataFrame for the window. The preset then picks its own test per column
(for more than 1,000 reference rows: normalised Wasserstein for numerical columns, Jensen-Shannon for
categorical ones, both at 0.1) and declares dataset drift at a drifted share of 0.5, its defaults.
"""

import io
import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("EVIDENTLY_DISABLE_TELEMETRY", "1")

import pandas as pd  # noqa: E402
from evidently import DataDefinition, Dataset, Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402

from capture_peer import Phases, arguments, capture_files, report  # noqa: E402


def load_current(files, names, dtypes):
    frames = []
    for path in files:
        capture = pd.read_json(path, lines=True, dtype=False)
        rows = capture["captureData"].map(lambda c: c["endpointInput"]["data"])
        frames.append(pd.read_csv(io.StringIO("\n".join(rows)), header=None, names=names, dtype=dtypes))
    return pd.concat(frames, ignore_index=True)


def column_drift(snapshot):
    """Per column: method, value, threshold and drifted, from the snapshot's ValueDrift metrics."""
    found, share = {}, None
    for metric in snapshot.dict().get("metrics", []):
        config = metric.get("config", {})
        kind = config.get("type", "")
        if kind.endswith("DriftedColumnsCount"):
            share = (metric["value"]["share"], config.get("drift_share"))
        elif kind.endswith("ValueDrift") and "column" in config:
            method, value, threshold = config.get("method", ""), metric.get("value"), config.get("threshold")
            # The preset's methods yield either a p-value ("... p_value") or a distance.
            drifted = value < threshold if "p_value" in method else value >= threshold
            found[config["column"]] = {"method": method, "value": value, "threshold": threshold, "drifted": bool(drifted)}
    return found, share


def main():
    args = arguments(__doc__)
    phases = Phases()
    names = args.numerical + args.categorical
    dtypes = {**{n: "float64" for n in args.numerical}, **{n: "int64" for n in args.categorical}}
    reference = pd.read_csv(args.reference, header=None, names=["label"] + names, dtype={"label": "int64", **dtypes}).drop(columns="label")
    phases.mark("readReferenceSeconds")
    current = load_current(capture_files(args.capture_dir), names, dtypes)
    phases.mark("readCaptureSeconds")

    definition = DataDefinition(numerical_columns=args.numerical, categorical_columns=args.categorical)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    phases.mark("reportSeconds")
    columns, share = column_drift(snapshot)
    drifted = [n for n in names if columns.get(n, {}).get("drifted")]
    methods = {n: str(columns.get(n, {}).get("method")) for n in names}
    verdict = "drift" if share and share[0] >= share[1] else "no_drift"
    report(len(current), verdict, drifted, methods, phases)


if __name__ == "__main__":
    main()
