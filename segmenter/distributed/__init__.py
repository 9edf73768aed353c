"""The segmentation pipeline on a Ray cluster (``python -m segmenter segment --engine ray``).

One module per step: ``reading`` (parts, roles, dates, preparation), ``embedding`` (actor
pools, the fast mode's topics), ``feedback`` (sentiment and urgent flags), ``fitting``
(models fitted on the driver from samples, applied to every batch), ``profiles`` (per-batch
counts merged on the driver), ``writing`` (the run folder) and ``assigning`` (the saved
model, and ``assign`` of a new table); ``engine`` strings them
together and ``columns`` names what the distributed rows hold. Ray is an optional
dependency (``requirements-ray.txt``): nothing outside this package imports it.
"""

from segmenter.distributed.assigning import assign_on_ray
from segmenter.distributed.engine import connect, segment_on_ray
from segmenter.distributed.writing import RayRun

__all__ = ["RayRun", "assign_on_ray", "connect", "segment_on_ray"]
