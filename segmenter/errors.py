"""Project exceptions. Every message is one line that says what is wrong and what to do."""

from __future__ import annotations

from collections.abc import Iterable


class SegmenterError(ValueError):
    """Base class for errors a user can fix; the UI and CLI show ``str(err)`` as is."""


class InputError(SegmenterError):
    """The uploaded table cannot be read or used."""


class SchemaError(SegmenterError):
    """The column roles cannot support a segmentation."""


class PredictError(SegmenterError):
    """A label or feature set that cannot support an honest model."""


class ModelError(SegmenterError):
    """A model backend is missing, unknown or failed to load."""


class UnknownModelError(ModelError):
    """A model name that is not in the registry."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        names = ", ".join(sorted(known))
        super().__init__(f"Unknown model {name!r}: choose one of {names}.")
        self.name = name


class MissingDependencyError(ModelError):
    """An optional package is not installed."""

    def __init__(self, package: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the package {package!r}: install it with `pip install {package}`."
        )
        self.package = package


class ResultsError(SegmenterError):
    """Campaign results that cannot be read or joined to a run."""
