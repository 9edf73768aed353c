"""The fitted pieces of a segmentation as plain JSON and arrays, and back.

A saved segmentation lives in a run folder that users copy and share, so reading it must
never run code: no pickle. Each piece (the fusion's scales and text directions, the fast
mode's vocabulary, topics and alignment, the PCA projections, the sampled UMAP placement)
is written as JSON values plus numeric arrays (``Packer``), and rebuilt from them by the
functions here, which accept only the shapes they expect (``Unpacker`` reads arrays that
``numpy.load(allow_pickle=False)`` returned). A scikit-learn transformer is rebuilt by
setting its fitted attributes, so ``transform`` runs the library's own arithmetic and a
rebuilt model gives the fitted one's numbers to the last bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from segmenter.embedding.lexical import LexicalModel
from segmenter.embedding.teacher import Alignment
from segmenter.errors import InputError
from segmenter.fusion import Block, BlockScaling, FusionModel, InputSelection, NumericScaling
from segmenter.reduce import Reduction, SampledReduction

Plain = dict[str, Any]


class DamagedModelError(InputError):
    """A saved model whose files do not hold what this version wrote."""


class Packer:
    """Collects the arrays of the pieces being packed; JSON values refer to them by key."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, values: Any) -> str:
        """Store a numeric array; returns its key."""
        array = np.asarray(values)
        if array.dtype == object:
            raise TypeError("only numeric arrays are saved; text goes into the JSON")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = array
        return key


class Unpacker:
    """Reads back what a ``Packer`` stored, refusing anything out of shape."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.arrays = arrays

    def array(self, key: Any, ndim: int | None = None) -> np.ndarray:
        """The numeric array stored under ``key`` (with ``ndim`` dimensions when given)."""
        if not isinstance(key, str) or key not in self.arrays:
            raise DamagedModelError(f"the array {key!r} is missing")
        array = self.arrays[key]
        if array.dtype.kind not in "biuf" or (ndim is not None and array.ndim != ndim):
            raise DamagedModelError(f"the array {key!r} has an unexpected type or shape")
        return array


def _strings(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise DamagedModelError("a list of names is not a list of text")
    return tuple(values)


# --- scikit-learn transformers -----------------------------------------------------------


def pack_pca(pca: Any, packer: Packer) -> Plain | None:
    """A fitted ``sklearn.decomposition.PCA`` (or ``None``)."""
    if pca is None:
        return None
    return {
        "components": packer.array(pca.components_),
        "mean": packer.array(pca.mean_),
        "explained_variance": packer.array(pca.explained_variance_),
        "whiten": bool(pca.whiten),
    }


def unpack_pca(plain: Plain | None, unpacker: Unpacker) -> Any:
    """The PCA ``pack_pca`` saved, ready to ``transform``."""
    if plain is None:
        return None
    from sklearn.decomposition import PCA  # noqa: PLC0415

    components = unpacker.array(plain["components"], 2)
    pca = PCA(n_components=components.shape[0], whiten=bool(plain["whiten"]))
    pca.components_ = components
    pca.mean_ = unpacker.array(plain["mean"], 1)
    pca.explained_variance_ = unpacker.array(plain["explained_variance"], 1)
    pca.n_components_ = components.shape[0]
    pca.n_features_in_ = components.shape[1]
    return pca


def pack_lexical(model: LexicalModel | None, packer: Packer) -> Plain | None:
    """The fast mode's vocabulary (TF-IDF) and topics (truncated SVD)."""
    if model is None:
        return None
    vectorizer = model.vectorizer
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    return {
        "terms": terms,
        "idf": packer.array(vectorizer.idf_),
        "settings": {
            "min_df": vectorizer.min_df,
            "max_df": vectorizer.max_df,
            "sublinear_tf": vectorizer.sublinear_tf,
            "stop_words": vectorizer.stop_words,
            "analyzer": vectorizer.analyzer,
            "ngram_range": list(vectorizer.ngram_range),
        },
        "components": packer.array(model.svd.components_),
    }


def unpack_lexical(plain: Plain | None, unpacker: Unpacker) -> LexicalModel | None:
    """The ``LexicalModel`` ``pack_lexical`` saved."""
    if plain is None:
        return None
    from sklearn.decomposition import TruncatedSVD  # noqa: PLC0415
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

    settings = plain["settings"]
    terms = _strings(plain["terms"])
    analyzer = settings.get("analyzer", "word")  # models saved before character topics
    if analyzer not in ("word", "char"):
        raise DamagedModelError(f"unknown topic analyzer {analyzer!r}")
    first, last = (int(n) for n in settings.get("ngram_range", (1, 1)))
    vectorizer = TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=(first, last),
        min_df=settings["min_df"],
        max_df=settings["max_df"],
        sublinear_tf=bool(settings["sublinear_tf"]),
        stop_words=settings["stop_words"],
        dtype=np.float32,
    )
    vectorizer.vocabulary_ = {term: i for i, term in enumerate(terms)}
    vectorizer.idf_ = unpacker.array(plain["idf"], 1)
    components = unpacker.array(plain["components"], 2)
    if components.shape[1] != len(terms):
        raise DamagedModelError("the topics do not match the vocabulary")
    svd = TruncatedSVD(n_components=components.shape[0])
    svd.components_ = components
    svd.n_features_in_ = components.shape[1]
    return LexicalModel(vectorizer, svd)


def pack_alignment(alignment: Alignment | None, packer: Packer) -> Plain | None:
    return None if alignment is None else {"weights": packer.array(alignment.weights)}


def unpack_alignment(plain: Plain | None, unpacker: Unpacker) -> Alignment | None:
    return None if plain is None else Alignment(unpacker.array(plain["weights"], 2))


# --- the fusion ---------------------------------------------------------------------------


def _pack_scaling(scaling: BlockScaling | None, packer: Packer) -> Plain | None:
    if scaling is None:
        return None
    return {
        "centre": packer.array(scaling.centre),
        "scale": scaling.scale,
        "weight": scaling.weight,
    }


def _unpack_scaling(plain: Plain | None, unpacker: Unpacker) -> BlockScaling | None:
    if plain is None:
        return None
    return BlockScaling(
        unpacker.array(plain["centre"], 1), float(plain["scale"]), float(plain["weight"])
    )


def pack_fusion(model: FusionModel, packer: Packer) -> Plain:
    """The fusion's medians, scales, category levels, text directions and bounds."""
    numeric = model.numeric
    return {
        "text_fill": None if model.text_fill is None else packer.array(model.text_fill),
        "text_projection": pack_pca(model.text_projection, packer),
        "text_scaling": _pack_scaling(model.text_scaling, packer),
        "numeric": None
        if numeric is None
        else {
            "columns": list(numeric.columns),
            "fill": packer.array(numeric.fill),
            "keep": packer.array(numeric.keep),
            "mean": packer.array(numeric.mean),
            "std": packer.array(numeric.std),
        },
        "categories": [[column, list(levels)] for column, levels in model.categories],
        "structured_scaling": _pack_scaling(model.structured_scaling, packer),
        "text_dims": model.text_dims,
        "structured_dims": model.structured_dims,
        "text_weight": model.text_weight,
        "inputs": {
            "segment_by": model.inputs.segment_by,
            "exclude": list(model.inputs.exclude),
            "dates": model.inputs.dates,
        },
        "blocks": [[b.name, b.start, b.stop] for b in model.blocks],
        "factors": [[name, factor] for name, factor in model.factors],
    }


def unpack_fusion(plain: Plain, unpacker: Unpacker) -> FusionModel:
    """The ``FusionModel`` ``pack_fusion`` saved."""
    numeric = plain["numeric"]
    inputs = plain["inputs"]
    return FusionModel(
        text_fill=None if plain["text_fill"] is None else unpacker.array(plain["text_fill"], 1),
        text_projection=unpack_pca(plain["text_projection"], unpacker),
        text_scaling=_unpack_scaling(plain["text_scaling"], unpacker),
        numeric=None
        if numeric is None
        else NumericScaling(
            columns=_strings(numeric["columns"]),
            fill=unpacker.array(numeric["fill"], 1),
            keep=unpacker.array(numeric["keep"], 1).astype(bool),
            mean=unpacker.array(numeric["mean"], 1),
            std=unpacker.array(numeric["std"], 1),
        ),
        categories=tuple((str(c), _strings(levels)) for c, levels in plain["categories"]),
        structured_scaling=_unpack_scaling(plain["structured_scaling"], unpacker),
        text_dims=int(plain["text_dims"]),
        structured_dims=int(plain["structured_dims"]),
        text_weight=float(plain["text_weight"]),
        inputs=InputSelection(
            inputs["segment_by"], _strings(inputs["exclude"]), bool(inputs["dates"])
        ),
        blocks=tuple(Block(str(n), int(a), int(b)) for n, a, b in plain["blocks"]),
        factors=tuple((str(n), float(f)) for n, f in plain["factors"]),
    )


# --- the reduction ------------------------------------------------------------------------


def pack_reduction(model: SampledReduction, packer: Packer) -> Plain:
    """UMAP's output for the sampled rows, their features and the projection that finds
    each new row's nearest sampled neighbours."""
    return {
        "projection": pack_pca(model.projection, packer),
        "sample": packer.array(model.sample),
        "sample_space": packer.array(model.sample_space),
        "cluster_space": packer.array(model.fitted.cluster_space),
        "map_coords": packer.array(model.fitted.map_coords),
        "method": model.fitted.method,
    }


def unpack_reduction(plain: Plain, unpacker: Unpacker) -> SampledReduction:
    """The ``SampledReduction`` ``pack_reduction`` saved."""
    if plain["method"] not in ("umap", "pca"):
        raise DamagedModelError(f"unknown reduction {plain['method']!r}")
    fitted = Reduction(
        unpacker.array(plain["cluster_space"], 2),
        unpacker.array(plain["map_coords"], 2),
        plain["method"],
    )
    sample = unpacker.array(plain["sample"], 1)
    space = unpacker.array(plain["sample_space"], 2)
    if not len(sample) == len(space) == len(fitted.cluster_space) == len(fitted.map_coords):
        raise DamagedModelError("the sampled rows do not match their coordinates")
    return SampledReduction(unpack_pca(plain["projection"], unpacker), sample, space, fitted)
