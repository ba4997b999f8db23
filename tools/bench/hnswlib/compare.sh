#!/usr/bin/env bash
# Side-by-side HNSW benchmark: Weft vs hnswlib (Debian's python3-hnswlib) on the same fvecs data, same M=16 and
# efConstruction=200, single-threaded build and queries, ef sweep; prints build time and QPS at equal recall@10.
#
# usage: tools/bench/hnswlib/compare.sh [--quick | --full] [SET...]
#   --quick: siftsmall + 20k-vector random/clustered sets at dims 128 and 384, 200 queries, ef up to 512 (minutes)
#   --full:  siftsmall + 100k-vector sets at dims 128 and 384, 1000 queries, ef up to 1024 (up to 24576 for the
#            random sets, where recall@10 0.99 needs it) (about an hour; quiet machine)
#   --report: only rewrite the summary from the results already in OUT for the given sets (default: all five)
#   SET: siftsmall (default), random128, clustered128, random384, clustered384
#   env: N (vectors for the generated sets), QUERIES, EF (comma list) override the mode's values,
#        WEFT_BIN=path to a built weft binary (default: build tools/Weft.Cli in Release), OUT=folder for data/results.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
PY=/usr/bin/python3
mode=default
case "${1:-}" in --quick) mode=quick; shift ;; --full) mode=full; shift ;; --report) mode=report; shift ;; esac
EF_FULL=10,16,24,32,48,64,96,128,192,256,384,512,768,1024
# Uniform random vectors need a far larger ef for the same recall (about 4096 for 0.95 and 12288 for 0.99 at 100k).
EF_RANDOM=$EF_FULL,1536,2048,3072,4096,6144,8192,12288,16384,24576
case "$mode" in
  quick) dN=20000; dQ=200; dEF=10,16,24,32,48,64,96,128,192,256,384,512 ;;
  *)     dN=100000; dQ=1000; dEF=$EF_FULL ;;
esac
N="${N:-$dN}"; QUERIES="${QUERIES:-$dQ}"; EF_SET="${EF:-}"
OUT="${OUT:-$(mktemp -d /tmp/weft-hnswlib.XXXXXX)}"
mkdir -p "$OUT"
sets=("$@")
if [ ${#sets[@]} -eq 0 ]; then
  if [ "$mode" = default ]; then sets=(siftsmall); else sets=(siftsmall random128 clustered128 random384 clustered384); fi
fi

if ! "$PY" -c 'import hnswlib, numpy' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y python3-hnswlib python3-numpy >/dev/null
  else
    echo "compare.sh: python3-hnswlib and python3-numpy are needed (sudo apt-get install python3-hnswlib python3-numpy)" >&2
    exit 2
  fi
fi

if [ "$mode" = report ]; then
  report_args=()
  for s in "${sets[@]}"; do
    [ -f "$OUT/$s.weft.json" ] && [ -f "$OUT/$s.hnswlib.json" ] || { echo "compare.sh: no results for '$s' in $OUT" >&2; exit 2; }
    report_args+=("$s:$OUT/$s.weft.json:$OUT/$s.hnswlib.json")
  done
  "$PY" "$here/report.py" --csv "$OUT/summary.csv" "${report_args[@]}" | tee "$OUT/summary.md"
  exit 0
fi

if [ -z "${WEFT_BIN:-}" ]; then
  dotnet build "$root/tools/Weft.Cli" -c Release -o "$OUT/weft-bin" >/dev/null
  WEFT_BIN="$OUT/weft-bin/weft"
fi
assets="${WEFT_ASSETS:-$root/../shared/assets}"

report_args=()
for s in "${sets[@]}"; do
  case "$s" in
    siftsmall) prefix="$assets/ann/siftsmall" ;;
    random128|clustered128|random384|clustered384)
      kind="${s%%[0-9]*}"; dim="${s#$kind}"; prefix="$OUT/${s}_n$N"
      [ -f "${prefix}_base.fvecs" ] || "$PY" "$here/gen_data.py" --kind "$kind" --n "$N" --dim "$dim" --queries "$QUERIES" --out "$prefix" ;;
    *) echo "compare.sh: unknown set '$s'" >&2; exit 2 ;;
  esac
  EF="$EF_SET"
  if [ -z "$EF" ]; then
    case "$mode:$s" in full:random*) EF=$EF_RANDOM ;; *) EF=$dEF ;; esac
  fi
  echo "== $s (ef $EF)" >&2
  "$PY" "$here/hnswlib_bench.py" --base "${prefix}_base.fvecs" --query "${prefix}_query.fvecs" --gt "${prefix}_groundtruth.ivecs" \
      -M 16 --efc 200 --ef "$EF" > "$OUT/$s.hnswlib.json"
  "$WEFT_BIN" index bench --base "${prefix}_base.fvecs" --query "${prefix}_query.fvecs" --gt "${prefix}_groundtruth.ivecs" \
      -M 16 --efc 200 --ef "$EF" --threads 1 --build-threads 1 --json > "$OUT/$s.weft.json"
  report_args+=("$s:$OUT/$s.weft.json:$OUT/$s.hnswlib.json")
done
"$PY" "$here/report.py" --csv "$OUT/summary.csv" "${report_args[@]}" | tee "$OUT/summary.md"
echo "(results in $OUT: summary.md, summary.csv, per-set JSON)" >&2
