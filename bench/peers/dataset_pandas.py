"""The peer of `npm run bench -- dataset`: the merge a Python engineer writes with pandas.

read_csv of the parent version's splits and of every new labelled object, concat, drop_duplicates, and
to_csv of the result: one headerless CSV, label first. It reads the files s3rver serves to our side
straight from disk (no HTTP, no S3 SDK).

Bad rows are dropped the way pandas can drop them, so that both sides keep the same rows:
  - a new object is read into one column more than a row has (names=, index_col=False): read_csv
    takes a file's width from its first line otherwise, so one bad first line would lose or mangle the
    whole object. A line that fills the spare column has too many fields and is dropped; a line with
    more still is skipped (on_bad_lines="skip"); a line with too few is padded with NaN, and dropped;
  - encoding_errors="replace" turns a non-UTF-8 byte into U+FFFD, so that field is not a number;
  - each new object's non-numeric columns go through to_numeric(errors="coerce"), then rows with a
    NaN or an infinite value, or a label outside 0..classes-1, are dropped.
This is done per object, before the concat, so the string columns never exist for the whole input.
(A line ending in one stray comma fills no spare column and is kept here, where ours quarantines it as
wrong_width; the bench's data has none. The pyarrow engine is not offered: it too takes the width from
the first line, and with names= it fails on a short first line.)
The peer counts what it dropped but cannot say which line or why: with on_bad_lines="skip", pandas
does not report the lines it skipped (a callable needs the slow python engine), so nothing like our
quarantine object is written.
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
import pandas as pd


def vm_hwm_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Phases:
    """Seconds per phase, for the bench's log; the bench times the whole process itself."""

    def __init__(self):
        self.seconds = {}
        self._last = time.perf_counter()

    def mark(self, name):
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 3)
        self._last = now


def read_parent(path):
    # A version the product wrote: clean, so read_csv gives float64 (and int64 labels) directly.
    return pd.read_csv(path, header=None)


def read_new(path, width):
    # The spare column catches lines with one field too many, whatever the first line looks like.
    with warnings.catch_warnings():
        # "...loss of data with index_col=False": a first line too long for even the spare column is cut; the spare column is full, so it is dropped.
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        # low_memory=False: parsed in one piece, a column is one type (pandas' own advice when it warns of mixed types).
        return pd.read_csv(path, header=None, names=list(range(width + 1)), index_col=False, on_bad_lines="skip", encoding_errors="replace", low_memory=False)


def numeric(frame):
    """Every column as float64: text that is not a number becomes NaN (pyarrow leaves bad UTF-8 as bytes)."""
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            continue
        if values.dtype == object:
            values = values.map(lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else v)
        frame[column] = pd.to_numeric(values, errors="coerce")
    return frame


def valid(frame, width, classes):
    """Rows with the right width, every value a finite number and a label in 0..classes-1."""
    spare = frame[width].isna().to_numpy()
    frame = frame.drop(columns=[width])
    values = frame.to_numpy(dtype=np.float64)
    keep = spare & np.isfinite(values).all(axis=1)
    label = values[:, 0]
    keep &= (label >= 0) & (label < classes) & (label == np.floor(label))
    return frame[keep]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parent", required=True, help="comma-separated CSV files: the parent version's splits")
    parser.add_argument("--new", required=True, help="a folder: every `._S3rver_object` file under it is a new labelled object")
    parser.add_argument("--out", required=True, help="where to write the merged CSV")
    parser.add_argument("--width", type=int, required=True, help="label + features")
    parser.add_argument("--classes", type=int, required=True)
    args = parser.parse_args()
    phases = Phases()

    parent = [read_parent(path) for path in args.parent.split(",") if os.path.getsize(path) > 0]
    parent_rows = sum(len(f) for f in parent)
    phases.mark("readParentSeconds")

    new_files = []
    for folder, _, names in os.walk(args.new):
        new_files.extend(os.path.join(folder, n) for n in names if n.endswith("._S3rver_object"))
    new_files.sort()
    new, parsed_rows = [], 0
    for path in new_files:
        frame = read_new(path, args.width)
        parsed_rows += len(frame)
        new.append(valid(numeric(frame), args.width, args.classes))
    new_rows = sum(len(f) for f in new)
    phases.mark("readNewSeconds")

    merged = pd.concat(parent + new, ignore_index=True)
    del parent, new
    phases.mark("concatSeconds")
    # Parent rows come first, so keep="first" keeps the parent's copy of a duplicate.
    deduplicated = merged.drop_duplicates(keep="first", ignore_index=True)
    duplicates = len(merged) - len(deduplicated)
    del merged
    phases.mark("dropDuplicatesSeconds")

    deduplicated[0] = deduplicated[0].astype(np.int64)
    deduplicated.to_csv(args.out, header=False, index=False)
    phases.mark("writeSeconds")

    print(
        json.dumps(
            {
                "parentRows": int(parent_rows),
                # Lines read_csv returned from the new objects (lines it skipped are not among them).
                "newRowsParsed": int(parsed_rows),
                "newRowsValid": int(new_rows),
                "duplicates": int(duplicates),
                "rowsOut": int(len(deduplicated)),
                "outputBytes": os.path.getsize(args.out),
                "vmHwmKiB": vm_hwm_kib(),
                "phases": phases.seconds,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
