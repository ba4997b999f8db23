#!/usr/bin/env python3
"""Deterministic benchmark data as fvecs/ivecs: uniform random or Gaussian-clustered vectors, plus exact L2 top-100."""
import argparse
import numpy as np


def write_fvecs(path, a):
    a = np.ascontiguousarray(a, dtype=np.float32)
    n, d = a.shape
    out = np.empty((n, d + 1), dtype=np.int32)
    out[:, 0] = d
    out[:, 1:] = a.view(np.int32)
    out.tofile(path)


def write_ivecs(path, a):
    a = np.ascontiguousarray(a, dtype=np.int32)
    n, d = a.shape
    out = np.empty((n, d + 1), dtype=np.int32)
    out[:, 0] = d
    out[:, 1:] = a
    out.tofile(path)


def make(kind, n, d, seed):
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.random((n, d), dtype=np.float32)
    if kind == "clustered":
        centers = np.random.default_rng(12345).random((100, d), dtype=np.float32)
        labels = rng.integers(0, len(centers), n)
        return (centers[labels] + rng.normal(0, 0.05, (n, d))).astype(np.float32)
    raise SystemExit(f"unknown kind {kind}")


def ground_truth(base, queries, k=100):
    bn = (base.astype(np.float64) ** 2).sum(1)
    gt = np.empty((len(queries), k), dtype=np.int32)
    for s in range(0, len(queries), 100):
        q = queries[s:s + 100].astype(np.float64)
        d = bn[None, :] - 2 * q @ base.T.astype(np.float64)
        idx = np.argpartition(d, k, axis=1)[:, :k]
        order = np.take_along_axis(d, idx, 1).argsort(1)
        gt[s:s + 100] = np.take_along_axis(idx, order, 1)
    return gt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", required=True, choices=["random", "clustered"])
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--out", required=True, help="prefix: writes PREFIX_base.fvecs, _query.fvecs, _groundtruth.ivecs")
    a = ap.parse_args()
    base = make(a.kind, a.n, a.dim, 1)
    queries = make(a.kind, a.queries, a.dim, 2)
    write_fvecs(a.out + "_base.fvecs", base)
    write_fvecs(a.out + "_query.fvecs", queries)
    write_ivecs(a.out + "_groundtruth.ivecs", ground_truth(base, queries))


if __name__ == "__main__":
    main()
