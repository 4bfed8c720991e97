"""The CI gate: measured metrics must stay at or above the thresholds kept in the repo.

Thresholds are measured numbers (rounded down a little for noise) and only ever
go up: raise them when a change improves a metric, never lower them to pass.
"""

from __future__ import annotations

import json
from pathlib import Path

THRESHOLDS = Path(__file__).parent / "thresholds.json"


def check(summary: dict, generator: str, eval_set: str = "demo", path: Path = THRESHOLDS) -> list[str]:
    """Every metric that misses its threshold for this set and generator, as a readable line; [] when all hold."""
    limits = json.loads(path.read_text()).get(eval_set, {}).get(generator)
    if limits is None:
        return [f"no thresholds recorded for set {eval_set!r} and generator {generator!r} in {path}"]
    failures = []
    for bound, groups in limits.items():
        for group, metrics in groups.items():
            for metric, limit in metrics.items():
                value = summary[group][metric]
                if value is None or (value < limit if bound == "min" else value > limit):
                    failures.append(f"{group} {metric} = {value} ({bound} {limit})")
    return failures
