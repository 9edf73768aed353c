"""Reduction: UMAP from the fused features to a clustering space and a map.

Also UMAP's numba cache (``import_umap``), the sampled path for large tables
(``SampledReduction``: UMAP on a sample, every other row placed from its nearest sampled
neighbours, on the GPU when there is one) and the start-up warm-up.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from segmenter.config import default_cache_dir
from segmenter.fusion import fit_rows
from segmenter.sampling import uniform_rows

MIN_ROWS_FOR_UMAP = 30
"""Below this, UMAP's neighbour graph is meaningless; PCA is used instead."""


NEIGHBOURS_MIN = 15
NEIGHBOURS_MAX = 100
NEIGHBOURS_PER_ROWS = 20
"""With ``n_neighbors="auto"`` UMAP looks at one neighbour per 20 rows, between 15 and 100.

UMAP's default of 15 is tuned for local detail: on customer tables with many near-identical
rows it breaks the neighbour graph into islands, and KMeans then groups islands at random.
On generated customers with six known personas (2k, 5k and 20k rows, three seeds), 100
neighbours raised NMI at k=6 from 0.48/0.45/0.24 to 0.88/0.78/0.55 at no extra time (the
fragmented graph's spectral initialisation costs as much as the bigger graph). Capping at
rows/20 keeps a neighbourhood within half an average segment, so small tables keep small
segments apart.
"""


_numba_cache_lock = threading.Lock()
_numba_cache_enabled = False


def import_umap() -> Any:
    """``umap``, with numba's on-disk cache turned on for its and pynndescent's kernels.

    Neither library asks numba to cache most of its functions, so every new process used to
    compile them again (about 75 s on 2 cores). Turning caching on for each compiled function
    before its first call keeps the machine code under ``NUMBA_CACHE_DIR`` (by default the
    cache folder's ``numba``): a new process then spends about 20 s, on the few functions
    numba cannot cache (they hold pointers). Heavy: imported only when a segmentation runs.
    """
    global _numba_cache_enabled
    with _numba_cache_lock:
        if _numba_cache_enabled:
            return sys.modules["umap"]
        os.environ.setdefault("NUMBA_CACHE_DIR", str(default_cache_dir() / "numba"))
        import numba  # noqa: PLC0415
        import umap  # noqa: PLC0415
        from numba.core.dispatcher import Dispatcher  # noqa: PLC0415

        if not getattr(numba.config, "CACHE_DIR", ""):  # numba read its settings earlier
            setattr(numba.config, "CACHE_DIR", os.environ["NUMBA_CACHE_DIR"])  # noqa: B010
        warnings.filterwarnings(
            "ignore", message="Cannot cache compiled function", category=numba.NumbaWarning
        )
        modules = [m for n, m in list(sys.modules.items()) if n.split(".")[0] in LIBRARIES]
        for module in modules:
            for value in list(vars(module).values()):
                if isinstance(value, Dispatcher) and not value.signatures:
                    value.enable_caching()
        _numba_cache_enabled = True
        return umap


LIBRARIES = ("umap", "pynndescent")


def auto_neighbours(n_rows: int) -> int:
    """The UMAP neighbourhood size used for ``n_neighbors="auto"``."""
    return max(NEIGHBOURS_MIN, min(NEIGHBOURS_MAX, n_rows // NEIGHBOURS_PER_ROWS))


@dataclass(frozen=True)
class Reduction:
    """Low-dimensional views of the usable rows: one to cluster in, one to draw."""

    cluster_space: np.ndarray  # (n_usable, cluster_dims) float32
    map_coords: np.ndarray  # (n_usable, 2 or 3) float32
    method: Literal["umap", "pca"]


def reduce_features(
    features: np.ndarray,
    *,
    cluster_dims: int = 5,
    map_dims: int = 2,
    n_neighbors: int | Literal["auto"] = "auto",
    random_state: int = 0,
    n_epochs: int | None = None,
) -> Reduction:
    """UMAP to ``cluster_dims`` for clustering, then from there to ``map_dims`` for the map.

    Tiny tables fall back to PCA; tables over ``UMAP_FIT_ROWS`` go through a sample.
    ``n_epochs`` overrides ``UMAP_EPOCHS``.
    """
    n_rows = features.shape[0]
    if n_rows < MIN_ROWS_FOR_UMAP:
        return _reduce_with_pca(features, cluster_dims, map_dims)
    if n_rows > UMAP_FIT_ROWS:
        return _reduce_through_sample(
            features,
            cluster_dims=cluster_dims,
            map_dims=map_dims,
            n_neighbors=n_neighbors,
            random_state=random_state,
        )
    umap = import_umap()

    wanted = auto_neighbours(n_rows) if n_neighbors == "auto" else n_neighbors
    neighbours = min(wanted, n_rows - 1)
    epochs = UMAP_EPOCHS if n_epochs is None else n_epochs
    with warnings.catch_warnings():
        # umap warns that a fixed random_state disables parallelism: that is the point here.
        warnings.filterwarnings("ignore", message=".*n_jobs.*")
        # We never call transform: every row is placed by its sampled neighbours instead.
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        cluster_model = umap.UMAP(
            n_components=min(cluster_dims, n_rows - 2),
            n_neighbors=neighbours,
            min_dist=0.0,
            metric="euclidean",
            random_state=random_state,
            n_epochs=epochs,
            precomputed_knn=exact_neighbours(features, neighbours),
        )
        cluster_space = cluster_model.fit_transform(features)
        # The map is drawn from the clustering space, not the raw features: it shows
        # what was clustered, costs little (5-D input), and spreads the main mass of
        # customers over the canvas instead of shrinking it between far-flung islands.
        map_neighbours = min(neighbours, MAP_NEIGHBOURS)
        map_model = umap.UMAP(
            n_components=map_dims,
            n_neighbors=map_neighbours,
            min_dist=0.1,
            metric="euclidean",
            random_state=random_state,
            n_epochs=epochs,
            precomputed_knn=exact_neighbours(cluster_space, map_neighbours),
        )
        map_coords = map_model.fit_transform(cluster_space)
    return Reduction(
        cluster_space=np.asarray(cluster_space, dtype=np.float32),
        map_coords=np.asarray(map_coords, dtype=np.float32),
        method="umap",
    )


def exact_neighbours(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, None]:
    """Each row's ``k`` nearest rows (itself among them) by brute force, in the form UMAP's
    ``precomputed_knn`` takes. UMAP never sees more than ``UMAP_FIT_ROWS`` rows, where exact
    search beats its approximate one (NN-descent: 1.6 s for 100 neighbours of 5,000 rows in
    50-d, single-threaded under a fixed seed; brute force 0.1 s) and is exact."""
    from sklearn.neighbors import NearestNeighbors  # noqa: PLC0415

    index = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(points)
    distances, indices = index.kneighbors(points)
    return indices, distances.astype(np.float32), None


UMAP_EPOCHS = 200
"""Optimisation rounds for both fits. UMAP's own choice is 500 below 10,000 rows; with exact
neighbours 200 matched or beat it on generated customers with known personas (2k rows: NMI
0.92 against 0.88) and on Debian's package sections, in a third of the time."""
MAP_NEIGHBOURS = 30
"""The map's UMAP needs no wide neighbourhood: it draws the clustering space, where the
segments are already apart, and 30 neighbours cost a third of 100."""
UMAP_FIT_ROWS = 5_000
"""Above this many rows, UMAP learns from a uniform sample of this size and every other row
is placed from its nearest sampled neighbours: UMAP on all of 100k rows takes about 3 minutes
on 2 cores, on 10k rows 34 s, on the sample about 15 s (``bench/scale.py``)."""
SAMPLE_PCA_DIMS = 50
PLACEMENT_NEIGHBOURS = 10


def umap_sample_rows(n_rows: int, random_state: int) -> np.ndarray:
    """Positions (sorted) of the rows UMAP learns from: all, or a uniform sample."""
    return uniform_rows(n_rows, UMAP_FIT_ROWS, random_state)


@dataclass(frozen=True)
class SampledReduction:
    """UMAP learnt on a sample of rows; ``place`` gives any batch of rows its coordinates:
    a sampled row its own, every other row the distance-weighted mean of its nearest sampled
    neighbours (found in a 50-d PCA space, which keeps the search cheap)."""

    projection: Any  # PCA to SAMPLE_PCA_DIMS, or None (small tables, narrow features)
    sample: np.ndarray  # positions of the sampled rows, sorted
    sample_space: np.ndarray  # their projected features
    fitted: Reduction  # UMAP's output for them

    def project(self, features: np.ndarray) -> np.ndarray:
        """Features in the space where neighbours are searched, as contiguous float32."""
        if self.projection is None:
            return np.ascontiguousarray(features, dtype=np.float32)
        out = np.empty((len(features), SAMPLE_PCA_DIMS), dtype=np.float32)
        for start in range(0, len(features), PROJECTION_CHUNK):
            stop = start + PROJECTION_CHUNK
            out[start:stop] = self.projection.transform(features[start:stop])
        return out

    def place(self, features: np.ndarray, positions: np.ndarray) -> Reduction:
        """Coordinates of the rows at ``positions`` (same order as ``features``)."""
        return self.locate(features, positions)[0]

    def locate(self, features: np.ndarray, positions: np.ndarray) -> tuple[Reduction, np.ndarray]:
        """``place``, and each row's distance to its nearest sampled row in the search space
        (0 for a sampled row). A position that is not a sampled row's (-1 for a row of
        another table) is placed from its neighbours."""
        found = np.searchsorted(self.sample, positions)
        in_sample = found < len(self.sample)
        in_sample[in_sample] = self.sample[found[in_sample]] == positions[in_sample]
        rest = np.flatnonzero(~in_sample)
        nearest = np.zeros(len(positions))
        # At most as many neighbours as there are sampled rows (a tiny fitted table).
        k = min(PLACEMENT_NEIGHBOURS, len(self.sample))
        weights = np.empty((0, k), dtype=np.float32)
        neighbours = np.empty((0, k), dtype=np.int64)
        if len(rest):
            space = self.project(features[rest])
            distances, neighbours = nearest_sampled(space, self.sample_space, k)
            nearest[rest] = distances[:, 0]
            weights = 1.0 / np.maximum(distances, 1e-6)
            weights /= weights.sum(axis=1, keepdims=True)

        def place(sampled: np.ndarray) -> np.ndarray:
            out = np.empty((len(positions), sampled.shape[1]), dtype=np.float32)
            out[in_sample] = sampled[found[in_sample]]
            out[rest] = np.einsum("rk,rkd->rd", weights, sampled[neighbours])
            return out

        reduction = Reduction(
            cluster_space=place(self.fitted.cluster_space),
            map_coords=place(self.fitted.map_coords),
            method=self.fitted.method,
        )
        return reduction, nearest


PROJECTION_CHUNK = 50_000


def fit_sampled_reduction(
    learn: np.ndarray,
    sampled: np.ndarray,
    sample: np.ndarray,
    n_rows: int,
    *,
    cluster_dims: int = 5,
    map_dims: int = 2,
    n_neighbors: int | Literal["auto"] = "auto",
    random_state: int = 0,
) -> SampledReduction:
    """Fit the reduction of ``n_rows`` rows from two samples of their features: ``learn``
    (the rows of ``fusion.fit_rows``) for the PCA, ``sampled`` (the rows at positions
    ``sample``, from ``umap_sample_rows``) for UMAP."""
    projection = None
    if n_rows > UMAP_FIT_ROWS and sampled.shape[1] > SAMPLE_PCA_DIMS:
        from sklearn.decomposition import PCA  # noqa: PLC0415

        projection = PCA(SAMPLE_PCA_DIMS, random_state=random_state).fit(learn)
    model = SampledReduction(projection, sample, np.empty((0, 0), np.float32), _EMPTY)
    space = model.project(sampled)
    fitted = reduce_features(
        space,
        cluster_dims=cluster_dims,
        map_dims=map_dims,
        n_neighbors=n_neighbors,
        random_state=random_state,
    )
    return SampledReduction(projection, sample, space, fitted)


_EMPTY = Reduction(np.empty((0, 0), np.float32), np.empty((0, 0), np.float32), "umap")


def _reduce_through_sample(
    features: np.ndarray,
    *,
    cluster_dims: int,
    map_dims: int,
    n_neighbors: int | Literal["auto"],
    random_state: int,
) -> Reduction:
    """UMAP on a sample, every other row placed from its nearest sampled neighbours."""
    model = fit_reduction(
        features,
        cluster_dims=cluster_dims,
        map_dims=map_dims,
        n_neighbors=n_neighbors,
        random_state=random_state,
    )
    return model.place(features, np.arange(features.shape[0]))


def fit_reduction(
    features: np.ndarray,
    *,
    cluster_dims: int = 5,
    map_dims: int = 2,
    n_neighbors: int | Literal["auto"] = "auto",
    random_state: int = 0,
) -> SampledReduction:
    """The reduction of all rows of ``features`` as a model that can also place new rows:
    UMAP on every row up to ``UMAP_FIT_ROWS`` (each is then a "sampled" row, and new rows
    are placed from their nearest ones), on a uniform sample above."""
    n_rows = features.shape[0]
    if n_rows <= UMAP_FIT_ROWS:
        fitted = reduce_features(
            features,
            cluster_dims=cluster_dims,
            map_dims=map_dims,
            n_neighbors=n_neighbors,
            random_state=random_state,
        )
        space = np.ascontiguousarray(features, dtype=np.float32)
        return SampledReduction(None, np.arange(n_rows), space, fitted)
    sample = umap_sample_rows(n_rows, random_state)
    return fit_sampled_reduction(
        features[fit_rows(n_rows)],
        features[sample],
        sample,
        n_rows,
        cluster_dims=cluster_dims,
        map_dims=map_dims,
        n_neighbors=n_neighbors,
        random_state=random_state,
    )


GPU_QUERY_CHUNK = 65_536


def nearest_sampled(
    queries: np.ndarray, sampled: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distances to, and indices of, each query row's ``k`` nearest sampled rows.

    Exact search on a CUDA device when there is one (a million rows against 5,000 in a few
    seconds), else scikit-learn's on the CPU.
    """
    if cuda_in_use():
        import torch  # noqa: PLC0415

        base = torch.from_numpy(np.ascontiguousarray(sampled, dtype=np.float32)).cuda()
        found_d, found_i = [], []
        for start in range(0, len(queries), GPU_QUERY_CHUNK):
            chunk = np.ascontiguousarray(queries[start : start + GPU_QUERY_CHUNK], np.float32)
            dist = torch.cdist(torch.from_numpy(chunk).cuda(), base)
            values, indices = torch.topk(dist, k, dim=1, largest=False)
            found_d.append(values.cpu().numpy())
            found_i.append(indices.cpu().numpy())
        return np.concatenate(found_d), np.concatenate(found_i)
    from sklearn.neighbors import NearestNeighbors  # noqa: PLC0415

    distances, indices = NearestNeighbors(n_neighbors=k).fit(sampled).kneighbors(queries)
    return distances, indices


def cuda_in_use() -> bool:
    """Whether torch is already imported (by a model) and sees a CUDA device."""
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_available())


WARM_UP_ROWS = 5_000
"""Enough rows for UMAP's approximate neighbour search (NN-descent, used from 4,096 rows),
whose kernels a smaller warm-up leaves uncompiled: 300 rows left 35 s of compiling to the
first large table."""
WARM_UP_EPOCHS = 20


def warm_up_reduction() -> float:
    """Reduce a random table once, so numba compiles (or loads from its cache) UMAP's
    kernels now rather than inside the first segmentation.

    About 75 s on 2 cores the first time on a machine, 20 s in each later process (see
    ``import_umap``). The server calls this in a background thread at start. Returns the
    seconds it took.
    """
    start = time.perf_counter()
    rows = np.random.default_rng(0).normal(size=(WARM_UP_ROWS, 16)).astype(np.float32)
    # Few neighbours and rounds: the same kernels compile, with little work besides.
    reduce_features(rows, n_neighbors=15, n_epochs=WARM_UP_EPOCHS)
    return time.perf_counter() - start


def _reduce_with_pca(features: np.ndarray, cluster_dims: int, map_dims: int) -> Reduction:
    from sklearn.decomposition import PCA  # noqa: PLC0415

    def project(dims: int) -> np.ndarray:
        n_components = max(1, min(dims, features.shape[0], features.shape[1]))
        coords = PCA(n_components=n_components, random_state=0).fit_transform(features)
        if coords.shape[1] < dims:
            coords = np.hstack([coords, np.zeros((coords.shape[0], dims - coords.shape[1]))])
        return coords.astype(np.float32)

    return Reduction(
        cluster_space=project(cluster_dims), map_coords=project(map_dims), method="pca"
    )
