#!/usr/bin/env bash
# The torch backend on a lent GPU machine, in one call (see bench/device_check.py and docs/gpu.md):
#
#   here, once:  make device-wheels device-data        (the wheels and data the machine lacks)
#   there:       bench/device_check.sh                 (carry: .whl .device-data models/graph_opt.onnx
#                                                        models/graph_opt.onnx.json)
#   here, dry:   bench/device_check.sh --cpu-dry-run   (the project's .venv, tiny sizes, the CPU)
#
# On the GPU machine it installs the carried wheels into /tmp/site (nothing is downloaded there),
# then runs bench/device_check.py, which writes device_check.json and device_check.log to $OUT
# and stops starting new sections after --budget-s (330 s), so the whole call ends within 6 min.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-device-check-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
if [[ "${1:-}" == "--cpu-dry-run" ]]; then
    shift
    exec timeout 600 "${PY:-.venv/bin/python}" bench/device_check.py --cpu-dry-run --out "$OUT" "$@"
fi
start=$(date +%s)
ls .whl/*.whl >/dev/null 2>&1 || { echo "device_check: no .whl/*.whl: run make device-wheels here first" >&2; exit 2; }
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    2>&1 | tee "$OUT/pip.log"
export PYTHONPATH=/tmp/site:$PWD
python3 -c "import av, filterpy, pycocotools, torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, \
'gpu', torch.cuda.is_available())" | tee -a "$OUT/pip.log"
budget=$(( 345 - ($(date +%s) - start) ))
exec timeout 375 python3 bench/device_check.py --out "$OUT" --budget-s "$budget" "$@"
