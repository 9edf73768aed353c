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
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    test_proportions_2indep,
)

ALPHA = 0.05
"""Intervals are 95% intervals; a difference is called real below this (Holm-adjusted) p."""
POWER = 0.8
"""The chance of detecting a real difference that a test is sized for."""
_Z_ALPHA = float(norm.ppf(1 - ALPHA / 2))
_Z_POWER = float(norm.ppf(POWER))
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
    in a two-sided 5% test, turned back into rates from Cohen's effect size h. ``nan`` when
    a group is empty; what is left up to 100% when no difference could be detected.

    h = (z₁₋α/₂ + z_power)·√(1/n₁ + 1/n₂) is the closed form that statsmodels'
    ``NormalIndPower.solve_power`` finds by iteration (it also counts the far tail, which
    at these sizes changes h in the fourth decimal), 100 times faster.
    """
    if customers_a <= 0 or customers_b <= 0:
        return math.nan
    effect = (_Z_ALPHA + _Z_POWER) * math.sqrt(1 / customers_a + 1 / customers_b)
    # h = 2·asin(√p2) − 2·asin(√p1): solve for p2 from p1 = rate.
    angle = 2 * math.asin(math.sqrt(min(max(rate, 0.0), 1.0))) + effect
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
