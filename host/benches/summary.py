#!/usr/bin/env python3
"""Prints the criterion results of `cargo bench -p awi --bench policy` as the tables of
BENCHMARKS.md: median and 95% interval of each figure, and the ratios the budgets name.

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


def ratio(a, b):
    if a in results and b in results:
        return results[a][0] / results[b][0]
    return None


print()
print("| ratio | value | budget |")
print("| --- | ---: | --- |")
for size in ["1", "10", "100", "unchanged"]:
    r = ratio(f"pod/wapc/{size}", f"pod/native/{size}")
    if r is not None:
        print(f"| waPC / native, {size} | {r:.2f} | ≤ 2.0 {'met' if r <= 2.0 else 'MISSED'} |")
for size in ["1", "10", "100", "unchanged"]:
    r = ratio(f"pod/native/{size}", f"pod/floor/{size}")
    if r is not None:
        print(f"| native / serde_json floor, {size} | {r:.2f} | ≤ 1.5 {'met' if r <= 1.5 else 'MISSED'} |")
for path in ["native", "wapc", "wit", "floor"]:
    r = ratio(f"pod/{path}/100", f"pod/{path}/10")
    if r is not None:
        print(f"| {path}: 100 / 10 containers | {r:.2f} | ≤ 12 {'met' if r <= 12 else 'MISSED'} |")
