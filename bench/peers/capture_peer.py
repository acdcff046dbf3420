"""What both Python peers of `npm run bench -- drift` share: arguments, the capture files, the report line.

The files are the objects s3rver serves to our side (`<key>._S3rver_object` under its directory), read
straight from disk: the peers pay no HTTP or S3 SDK cost.
"""

import argparse
import json
import os
import time


def arguments(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--capture-dir", required=True, help="the endpoint's folder in s3rver's directory")
    parser.add_argument("--reference", required=True, help="headerless CSV, label first, then the features")
    parser.add_argument("--numerical", required=True, help="comma-separated numerical feature names, in CSV order")
    parser.add_argument("--categorical", required=True, help="comma-separated categorical feature names, after the numerical ones")
    args = parser.parse_args()
    args.numerical = args.numerical.split(",")
    args.categorical = args.categorical.split(",")
    return args


def capture_files(capture_dir):
    """Every captured object under the endpoint, in key order (yyyy/mm/dd/hh/ sorts by time)."""
    files = []
    for folder, _, names in os.walk(capture_dir):
        files.extend(os.path.join(folder, n) for n in names if n.endswith("._S3rver_object"))
    return sorted(files)


def vm_hwm_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Phases:
    """Seconds spent per phase, for the bench's log; the bench times the whole process itself."""

    def __init__(self):
        self.seconds = {}
        self._last = time.perf_counter()

    def mark(self, name):
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 3)
        self._last = now


def report(records, verdict, drifted, methods, phases):
    """The last stdout line, read by bench/drift.ts."""
    print(json.dumps({"records": int(records), "vmHwmKiB": vm_hwm_kib(), "verdict": verdict, "drifted": drifted, "methods": methods, "phases": phases.seconds}), flush=True)
