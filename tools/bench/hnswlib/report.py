#!/usr/bin/env python3
"""Merges weft and hnswlib results into one table: build time and QPS at equal recall@10 (interpolated on the ef sweep)."""
import json
import sys


def qps_at(rows, target):
    rows = sorted(rows, key=lambda r: r["ef"])
    prev = None
    for r in rows:
        if r["recall10"] >= target:
            if prev is None or prev["recall10"] >= target:
                return r["qps"]
            # Linear interpolation between the bracketing ef values.
            f = (target - prev["recall10"]) / (r["recall10"] - prev["recall10"])
            return prev["qps"] + f * (r["qps"] - prev["qps"])
        prev = r
    return None


def fmt(x, spec):
    return format(x, spec) if x is not None else "n/a"


def main():
    lines = ["| data | n x dim | build s weft | build s hnswlib | QPS@0.95 weft | QPS@0.95 hnswlib | ratio | QPS@0.99 weft | QPS@0.99 hnswlib | ratio |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for arg in sys.argv[1:]:
        name, wpath, hpath = arg.split(":")
        w = json.load(open(wpath))
        h = json.load(open(hpath))
        w_rows = [r for r in w["rows"] if r["threads"] == 1]
        cells = [name, f'{h["n"]} x {h["dim"]}', f'{w["build_seconds"]:.2f}', f'{h["build_seconds"]:.2f}']
        for target in (0.95, 0.99):
            a, b = qps_at(w_rows, target), qps_at(h["rows"], target)
            cells += [fmt(a, ".0f"), fmt(b, ".0f"), fmt(a / b if a and b else None, ".2f")]
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines))
    print()
    for arg in sys.argv[1:]:
        name, wpath, hpath = arg.split(":")
        w, h = json.load(open(wpath)), json.load(open(hpath))
        print(f"{name}: ef / recall@10 / QPS   weft | hnswlib")
        for rw, rh in zip([r for r in w["rows"] if r["threads"] == 1], h["rows"]):
            print(f'  ef {rw["ef"]:4d}  {rw["recall10"]:.4f} {rw["qps"]:9.0f} | {rh["recall10"]:.4f} {rh["qps"]:9.0f}')


if __name__ == "__main__":
    main()
