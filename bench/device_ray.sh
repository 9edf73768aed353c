#!/usr/bin/env bash
# The Ray engine on one GPU, on a lent device machine (the `device` tool): checks that the
# embedding actors take the GPU (one per GPU, half precision) and that the Ray engine's
# segments equal the local engine's there. See bench/device_1m.sh for why the files travel
# in pieces; Ray's wheel (79 MB) is over one call's 64 MiB, so it is split in two:
#
#   pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --platform manylinux2014_x86_64 --platform any -d .gpu/raydeps click filelock \
#       jsonschema jsonschema-specifications referencing rpds-py attrs protobuf pyyaml fsspec \
#       msgpack==1.2.4            (and ray==2.60.0 into .gpu/raywhl)
#   split -b 40m .gpu/raywhl/ray-*.whl .gpu/raywhl_part_   # aa -> .gpu/raypart1, ab -> raypart2
#
# then, each within 30 s of the last: `install` carrying .gpu/whl .gpu/raydeps .gpu/raypart1;
# `install` carrying .gpu/raypart2 .gpu/sentences.json.gz; `run` carrying .gpu/minilm, then `run` again carrying .gpu/jieba_pkg (Chinese rows).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 SEGMENTER_SENTIMENT_MODEL=none
G=/tmp/gpu
export NUMBA_CACHE_DIR="$G/numba" SEGMENTER_CACHE_DIR="$G/cache"
export SEGMENTER_BENCH_SENTENCES="$G/sentences.json.gz"
export PYTHONPATH="$G/site:$G/minilm:$G/jieba_pkg:$PWD"
mkdir -p "$G"
for carried in .gpu/*; do [ -e "$carried" ] && cp -r "$carried" "$G/"; done
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT"
pip_install() {
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$G/site" "$@"
}
case "${1:-}" in
install)
    [ -d "$G/whl" ] && [ ! -e "$G/.deps" ] && pip_install "$G"/whl/*.whl "$G"/raydeps/*.whl \
        && touch "$G/.deps"
    if [ -d "$G/raypart1" ] && [ -d "$G/raypart2" ]; then
        cat "$G"/raypart1/* "$G"/raypart2/* > "$G/ray-2.60.0-cp312-cp312-manylinux2014_x86_64.whl"
        pip_install "$G/ray-2.60.0-cp312-cp312-manylinux2014_x86_64.whl"
        python3 -c "import ray, ray.data; print('ray', ray.__version__)"
    fi
    ls "$G"
    ;;
run)
    timeout 500 python3 bench/scale.py --engine ray --sizes "${ROWS:-50000}" --modes accurate \
        --accurate-max 10000000 2>&1 | grep -v "INFO\|WARNING" | tee "$OUT/ray_gpu.txt"
    ;;
*)
    echo "usage: bench/device_ray.sh install|run" >&2
    exit 2
    ;;
esac
