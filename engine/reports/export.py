"""The variant report as CSV: one row per split (or holdout), goal and variant, every figure in a column,
for a spreadsheet or a BI tool."""

from __future__ import annotations

import csv
import io

from engine.reports.schemas import Range, Report

COLUMNS = [
    "kind",
    "node",
    "goal",
    "scale",
    "variant",
    "is_control",
    "weight",
    "exposures",
    "conversions",
    "conversion_rate",
    "conversion_rate_low",
    "conversion_rate_high",
    "revenue",
    "revenue_per_exposure",
    "lift",
    "lift_low",
    "lift_high",
    "p_value",
    "p_value_holm",
    "p_value_bh",
    "chance_to_beat_control",
    "sequential_low",
    "sequential_high",
    "sequential_p_value",
    "revenue_lift",
    "revenue_lift_low",
    "revenue_lift_high",
    "revenue_p_value",
    "srm_p_value",
    "cuped_lift",
    "cuped_lift_low",
    "cuped_lift_high",
    "cuped_p_value",
    "cuped_variance_reduction",
    "srm_warning",
    "verdict",
]


def _bounds(interval: Range | None) -> list[float | None]:
    return [interval.low, interval.high] if interval else [None, None]


def report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for kind, results in (("split", report.splits), ("holdout", report.holdout)):
        for result in results:
            for v in result.variants:
                writer.writerow(
                    [
                        *(kind, result.node, result.goal, result.scale, v.variant, v.is_control, v.weight),
                        *(
                            v.exposures,
                            v.conversions,
                            v.conversion_rate,
                            *_bounds(v.conversion_rate_interval),
                        ),
                        *(v.revenue, v.revenue_per_exposure, v.lift, *_bounds(v.lift_interval)),
                        *(v.p_value, v.p_value_holm, v.p_value_bh, v.chance_to_beat_control),
                        *(*_bounds(v.sequential_interval), v.sequential_p_value),
                        *(v.revenue_lift, *_bounds(v.revenue_lift_interval), v.revenue_p_value),
                        result.srm_p_value,
                        *(v.cuped_lift, *_bounds(v.cuped_lift_interval), v.cuped_p_value),
                        *(v.cuped_variance_reduction, result.srm_warning, result.verdict),
                    ]
                )
    return out.getvalue()
