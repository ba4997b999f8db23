#!/usr/bin/env python3
"""Merges weft and hnswlib results into ONE summary table (Markdown on stdout, CSV with --csv PATH):
build time, QPS at equal recall@10 0.95 and 0.99 (linearly interpolated between the two ef values of the sweep that
bracket the target) and the weft/hnswlib ratios. When a side never reaches a target, the cell says so and the
table gives the best recall@10 each side reached in the sweep."""
import csv
import json
import sys


def qps_at(rows, target):
    rows = sorted(rows, key=lambda r: r["ef"])
    prev = None
    for r in rows:
        if r["recall10"] >= target:
            if prev is None or prev["recall10"] >= target:
                return r["qps"]
            f = (target - prev["recall10"]) / (r["recall10"] - prev["recall10"])
            return prev["qps"] + f * (r["qps"] - prev["qps"])
        prev = r
    return None


def fmt(x, spec):
    return format(x, spec) if x is not None else "n/a"


def main():
    args = sys.argv[1:]
    csv_path = None
    if "--csv" in args:
        i = args.index("--csv")
        if i + 1 >= len(args):
            sys.exit("report.py: --csv needs a path")
        csv_path = args[i + 1]
        del args[i:i + 2]
    header = ["data", "n", "dim", "build_s_weft", "build_s_hnswlib", "build_ratio",
              "qps095_weft", "qps095_hnswlib", "qps095_ratio", "qps099_weft", "qps099_hnswlib", "qps099_ratio",
              "best_recall10_weft", "best_recall10_hnswlib", "max_ef"]
    table, detail = [], []
    for arg in args:
        name, wpath, hpath = arg.split(":")
        w, h = json.load(open(wpath)), json.load(open(hpath))
        w_rows = sorted((r for r in w["rows"] if r["threads"] == 1), key=lambda r: r["ef"])
        h_rows = sorted(h["rows"], key=lambda r: r["ef"])
        wb, hb = w["build_seconds"], h["build_seconds"]
        row = [name, h["n"], h["dim"], wb, hb, wb / hb if hb else None]
        for target in (0.95, 0.99):
            a, b = qps_at(w_rows, target), qps_at(h_rows, target)
            row += [a, b, a / b if a and b else None]
        row += [max(r["recall10"] for r in w_rows), max(r["recall10"] for r in h_rows),
                max(r["ef"] for r in w_rows + h_rows)]
        table.append(row)
        detail.append((name, w_rows, h_rows))

    print("| data | n x dim | build s weft | build s hnswlib | build ratio (≤1 wins) | QPS@0.95 weft | hnswlib | ratio (≥1 wins) "
          "| QPS@0.99 weft | hnswlib | ratio | best R@10 weft / hnswlib (max ef) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in table:
        cells = [r[0], f"{r[1]} x {r[2]}", fmt(r[3], ".2f"), fmt(r[4], ".2f"), fmt(r[5], ".2f"),
                 fmt(r[6], ".0f"), fmt(r[7], ".0f"), fmt(r[8], ".2f"),
                 fmt(r[9], ".0f"), fmt(r[10], ".0f"), fmt(r[11], ".2f"),
                 f"{r[12]:.4f} / {r[13]:.4f} ({r[14]})"]
        print("| " + " | ".join(cells) + " |")
    if csv_path:
        with open(csv_path, "w", newline="") as f:
            wr = csv.writer(f)
            wr.writerow(header)
            for r in table:
                wr.writerow(["" if x is None else (f"{x:.6g}" if isinstance(x, float) else x) for x in r])
    print()
    for name, w_rows, h_rows in detail:
        print(f"{name}: ef / recall@10 / QPS   weft | hnswlib")
        hmap = {r["ef"]: r for r in h_rows}
        for rw in w_rows:
            rh = hmap.get(rw["ef"])
            right = f'{rh["recall10"]:.4f} {rh["qps"]:9.0f}' if rh else "-"
            print(f'  ef {rw["ef"]:4d}  {rw["recall10"]:.4f} {rw["qps"]:9.0f} | {right}')


if __name__ == "__main__":
    main()
