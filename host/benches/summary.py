#!/usr/bin/env python3
"""Prints the criterion results of `cargo bench -p awi --bench policy` as the table of
BENCHMARKS.md: median and 95% interval of each figure.

The budget ratios are not taken from these medians: criterion times one benchmark after
the other, and on a shared machine the speed drifts between them by more than the budgets'
margins. The bench measures them in pairs and prints them itself (its `ratio:` lines).

Usage: python3 host/benches/summary.py [BASELINE]   (default: new; e.g. `before`)
"""

import glob
import json
import os
import sys

baseline = sys.argv[1] if len(sys.argv) > 1 else "new"
root = os.path.join(os.path.dirname(__file__), "..", "..", "target", "criterion")
results = {}
for path in glob.glob(os.path.join(root, "**", baseline, "estimates.json"), recursive=True):
    with open(os.path.join(os.path.dirname(path), "benchmark.json")) as f:
        full_id = json.load(f)["full_id"]
    with open(path) as f:
        median = json.load(f)["median"]
    interval = median["confidence_interval"]
    results[full_id] = (median["point_estimate"], interval["lower_bound"], interval["upper_bound"])


def show(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


print("| benchmark | median | 95% interval |")
print("| --- | ---: | --- |")
for name in sorted(results):
    median, low, high = results[name]
    print(f"| `{name}` | {show(median)} | {show(low)} – {show(high)} |")
