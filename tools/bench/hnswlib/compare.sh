#!/usr/bin/env bash
# Side-by-side HNSW benchmark: Weft vs hnswlib (Debian's python3-hnswlib) on the same fvecs data, same M=16 and
# efConstruction=200, single-threaded build and queries, ef sweep; prints build time and QPS at equal recall@10.
#
# usage: tools/bench/hnswlib/compare.sh [SET...]
#   SET: siftsmall (default), random128, clustered128, random384, clustered384
#   env: N=100000 (vectors for the generated sets), QUERIES=1000, EF=10,16,24,32,48,64,96,128,192,256,384,512,
#        WEFT_BIN=path to a built weft binary (default: build tools/Weft.Cli in Release), OUT=folder for data/results.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
PY=/usr/bin/python3
N="${N:-100000}"; QUERIES="${QUERIES:-1000}"; EF="${EF:-10,16,24,32,48,64,96,128,192,256,384,512}"
OUT="${OUT:-$(mktemp -d /tmp/weft-hnswlib.XXXXXX)}"
mkdir -p "$OUT"
sets=("$@"); [ ${#sets[@]} -eq 0 ] && sets=(siftsmall)

if ! "$PY" -c 'import hnswlib, numpy' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y python3-hnswlib python3-numpy >/dev/null
  else
    echo "compare.sh: python3-hnswlib and python3-numpy are needed (sudo apt-get install python3-hnswlib python3-numpy)" >&2
    exit 2
  fi
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
      kind="${s%%[0-9]*}"; dim="${s#$kind}"; prefix="$OUT/$s"
      [ -f "${prefix}_base.fvecs" ] || "$PY" "$here/gen_data.py" --kind "$kind" --n "$N" --dim "$dim" --queries "$QUERIES" --out "$prefix" ;;
    *) echo "compare.sh: unknown set '$s'" >&2; exit 2 ;;
  esac
  echo "== $s" >&2
  "$PY" "$here/hnswlib_bench.py" --base "${prefix}_base.fvecs" --query "${prefix}_query.fvecs" --gt "${prefix}_groundtruth.ivecs" \
      -M 16 --efc 200 --ef "$EF" > "$OUT/$s.hnswlib.json"
  "$WEFT_BIN" index bench --base "${prefix}_base.fvecs" --query "${prefix}_query.fvecs" --gt "${prefix}_groundtruth.ivecs" \
      -M 16 --efc 200 --ef "$EF" --threads 1 --build-threads 1 --json > "$OUT/$s.weft.json"
  report_args+=("$s:$OUT/$s.weft.json:$OUT/$s.hnswlib.json")
done
"$PY" "$here/report.py" "${report_args[@]}"
echo "(results in $OUT)" >&2
