"""The statistics behind campaign results: rates with intervals, differences, power, shrinkage.

Every interval is a 95% interval. Rates use Wilson's score interval (it keeps its coverage
for small groups and rates near 0 or 1, where the textbook ``p ± 1.96·se`` does not);
differences use Newcombe's hybrid score interval, built from the two Wilson intervals;
tests use the score test for two independent proportions. All three come from statsmodels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    test_proportions_2indep,
)

ALPHA = 0.05
"""Intervals are 95% intervals; a difference is called real below this (Holm-adjusted) p."""
POWER = 0.8
"""The chance of detecting a real difference that a test is sized for."""
PRIOR_CUSTOMERS = 50
"""How strongly a segment's expected response is pulled toward the overall rate: as if
it had 50 more customers who responded at the overall rate. A segment of 50 customers is
half its own rate and half the overall one; one of 2,000 is almost all its own."""


def wilson_interval(responders: ArrayLike, customers: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score intervals for ``responders`` of ``customers`` (arrays, same shape).

    >>> low, high = wilson_interval(np.array([10]), np.array([100]))
    >>> round(float(low[0]), 3), round(float(high[0]), 3)
    (0.055, 0.174)
    """
    count = np.asarray(responders, dtype=float)
    nobs = np.asarray(customers, dtype=float)
    low = np.full(count.shape, np.nan)
    high = np.full(count.shape, np.nan)
    some = nobs > 0
    if some.any():
        lo, hi = proportion_confint(count[some], nobs[some], alpha=ALPHA, method="wilson")
        low[some], high[some] = lo, hi
    return low, high


@dataclass(frozen=True)
class Difference:
    """Rate B minus rate A, with its interval, test and the difference the groups can detect."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    detectable: float
    """The smallest difference these group sizes find 80% of the time at 5% (both ways)."""


def difference(
    responders_a: int, customers_a: int, responders_b: int, customers_b: int
) -> Difference:
    """Rate B − rate A with Newcombe's 95% interval, the score test's two-sided p-value and
    the detectable difference at these sizes (``detectable_difference``)."""
    rate_a = responders_a / customers_a
    rate_b = responders_b / customers_b
    # statsmodels also computes the ratio and odds ratio, which divide by zero when a group
    # has no responders; the difference needs neither.
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = confint_proportions_2indep(
            responders_b,
            customers_b,
            responders_a,
            customers_a,
            method="newcomb",
            compare="diff",
            alpha=ALPHA,
        )
        if responders_a + responders_b in (0, customers_a + customers_b):
            p_value = 1.0  # everyone (or no one) responded in both groups: nothing to tell apart
        else:
            test = test_proportions_2indep(
                responders_b, customers_b, responders_a, customers_a, method="score", compare="diff"
            )
            p_value = float(test.pvalue)
    pooled = (responders_a + responders_b) / (customers_a + customers_b)
    return Difference(
        difference=rate_b - rate_a,
        ci_low=float(low),
        ci_high=float(high),
        p_value=p_value,
        detectable=detectable_difference(pooled, customers_a, customers_b),
    )


def detectable_difference(rate: float, customers_a: int, customers_b: int) -> float:
    """The rate difference (above ``rate``) two groups of these sizes detect with 80% power
    in a two-sided 5% test: Cohen's effect size h solved by statsmodels, turned back into
    rates. ``nan`` when a group is empty; 1 when no difference could be detected."""
    if customers_a <= 0 or customers_b <= 0:
        return math.nan
    effect = NormalIndPower().solve_power(
        nobs1=customers_a, ratio=customers_b / customers_a, alpha=ALPHA, power=POWER
    )
    # h = 2·asin(√p2) − 2·asin(√p1): solve for p2 from p1 = rate.
    angle = 2 * math.asin(math.sqrt(min(max(rate, 0.0), 1.0))) + float(effect)
    if angle >= math.pi:
        return 1.0 - rate
    return math.sin(angle / 2) ** 2 - rate


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values: with several comparisons at once, the chance that any of
    them is a false "winner" stays at 5%."""
    values = np.asarray(p_values, dtype=float)
    if values.size == 0:
        return values
    return np.asarray(multipletests(values, alpha=ALPHA, method="holm")[1], dtype=float)


def shrunk_rate(
    responders: ArrayLike, customers: ArrayLike, overall: float, strength: float = PRIOR_CUSTOMERS
) -> np.ndarray:
    """Each group's rate pulled toward ``overall`` by ``strength`` pseudo-customers (a beta
    prior with mean ``overall``): small groups move most, so one lucky segment of 12
    customers does not top the list."""
    count = np.asarray(responders, dtype=float)
    nobs = np.asarray(customers, dtype=float)
    return (count + strength * overall) / (nobs + strength)
