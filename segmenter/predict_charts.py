"""Plotly figures for the Predict page: calibration, confusion matrix, cumulative gains."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from sklearn.calibration import calibration_curve
from sklearn.metrics import confusion_matrix

CALIBRATION_BINS = 10


def calibration_chart(y: np.ndarray, probability: np.ndarray) -> go.Figure:
    """Predicted against observed rates per bin: on the diagonal, a score of 0.3 means 30%."""
    observed, predicted = calibration_curve(
        y, probability, n_bins=CALIBRATION_BINS, strategy="quantile"
    )
    figure = go.Figure()
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dot"})
    figure.add_scatter(x=predicted, y=observed, mode="lines+markers", name="model")
    figure.update_layout(
        title="Calibration (out-of-fold)",
        xaxis_title="predicted risk",
        yaxis_title="observed rate",
        height=360,
    )
    return figure


def confusion_chart(y: np.ndarray, probability: np.ndarray, threshold: float) -> go.Figure:
    """Counts of right and wrong calls at ``threshold``."""
    matrix = confusion_matrix(y, probability >= threshold, labels=[0, 1])
    labels = ["no", "yes"]
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=[f"predicted {v}" for v in labels],
            y=[f"actual {v}" for v in labels],
            text=matrix,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
        )
    )
    figure.update_layout(title=f"Confusion matrix at {threshold:.2f}", height=360)
    figure.update_yaxes(autorange="reversed")
    return figure


def gains_chart(y: np.ndarray, probability: np.ndarray) -> go.Figure:
    """Share of all positives found when contacting the top x% by risk, against random."""
    order = np.argsort(-probability, kind="stable")
    found = np.cumsum(y[order]) / max(int(y.sum()), 1)
    contacted = np.arange(1, len(y) + 1) / len(y)
    figure = go.Figure()
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="random", line={"dash": "dot"})
    figure.add_scatter(x=contacted, y=found, mode="lines", name="by risk")
    figure.update_layout(
        title="Cumulative gains: contact the riskiest first",
        xaxis_title="share of customers contacted",
        yaxis_title="share of positives reached",
        xaxis_tickformat=".0%",
        yaxis_tickformat=".0%",
        height=360,
    )
    return figure


def lift_at(y: np.ndarray, probability: np.ndarray, share: float = 0.1) -> float:
    """How many times the base rate the top ``share`` by risk holds."""
    top = max(1, int(round(len(y) * share)))
    order = np.argsort(-probability, kind="stable")[:top]
    base = y.mean()
    return float(y[order].mean() / base) if base > 0 else float("nan")
