#!/usr/bin/env python3
"""hnswlib side of the comparison: same data, M, efConstruction, ef sweep; single-threaded build and queries."""
import argparse
import json
import time
import numpy as np
import hnswlib


def read_vecs(path, dtype):
    a = np.fromfile(path, dtype=np.int32)
    d = a[0]
    rows = a.reshape(-1, d + 1)[:, 1:]
    return np.ascontiguousarray(rows).view(dtype) if dtype == np.float32 else rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--gt", required=True)
    ap.add_argument("-M", type=int, default=16)
    ap.add_argument("--efc", type=int, default=200)
    ap.add_argument("--ef", default="10,20,40,80,160")
    a = ap.parse_args()
    base = read_vecs(a.base, np.float32)
    queries = read_vecs(a.query, np.float32)
    gt = read_vecs(a.gt, np.int32)
    n, dim = base.shape
    t = time.perf_counter()
    index = hnswlib.Index(space="l2", dim=dim)
    index.init_index(max_elements=n, M=a.M, ef_construction=a.efc, random_seed=100)
    index.set_num_threads(1)
    index.add_items(base, np.arange(n))
    build = time.perf_counter() - t
    rows = []
    for ef in [int(x) for x in a.ef.split(",")]:
        index.set_ef(ef)
        index.knn_query(queries[: min(200, len(queries))], k=10)  # warm-up
        # Repeat the query set until at least half a second has passed (as weft index bench does).
        t = time.perf_counter()
        passes = 0
        while True:
            found = [index.knn_query(queries[i:i + 1], k=10)[0][0] for i in range(len(queries))]
            passes += 1
            if time.perf_counter() - t >= 0.5:
                break
        secs = time.perf_counter() - t
        r1 = np.mean([found[i][0] == gt[i][0] for i in range(len(queries))])
        r10 = np.mean([len(set(found[i]) & set(gt[i][:10])) / 10 for i in range(len(queries))])
        rows.append({"ef": ef, "threads": 1, "recall1": float(r1), "recall10": float(r10), "qps": passes * len(queries) / secs})
    print(json.dumps({"n": n, "dim": dim, "build_seconds": build, "rows": rows}))


if __name__ == "__main__":
    main()
