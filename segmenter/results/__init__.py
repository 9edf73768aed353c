"""Campaign results: read them in, measure what worked per segment and variant, rank who to
contact next, and carry the lessons into the next brief (docs/campaign_results.md).

>>> results = results_from_columns(frame, ids, labels, ["AcceptedCmp1", "Response"])
>>> report = analyse(results, names)
>>> report.rates  # rate, 95% interval, lift and customers per segment x campaign (x variant)
>>> targets = target_list(results, ids, labels, names, outcome="responded")
"""

from segmenter.results.collect import (
    CONTROL_VALUES,
    RESULT_COLUMNS,
    CampaignResults,
    ResultColumns,
    guess_result_columns,
    propose_outcome_columns,
    results_from_columns,
    results_from_file,
)
from segmenter.results.lessons import PastResults, past_results
from segmenter.results.rates import (
    ALL_SEGMENTS,
    MIN_CUSTOMERS,
    compare_variants,
    response_rates,
    uplift,
)
from segmenter.results.report import (
    NO_CONTROL,
    ResultsReport,
    analyse,
    report_json,
    write_report,
)
from segmenter.results.targets import TargetList, target_list

__all__ = [
    "ALL_SEGMENTS",
    "CONTROL_VALUES",
    "MIN_CUSTOMERS",
    "NO_CONTROL",
    "RESULT_COLUMNS",
    "CampaignResults",
    "PastResults",
    "ResultColumns",
    "ResultsReport",
    "TargetList",
    "analyse",
    "compare_variants",
    "guess_result_columns",
    "past_results",
    "propose_outcome_columns",
    "report_json",
    "response_rates",
    "results_from_columns",
    "results_from_file",
    "target_list",
    "uplift",
    "write_report",
]
