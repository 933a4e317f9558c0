"""Thompson sampling for adaptive splits: each variant's weight is the posterior probability that it
converts best (Beta(1 + conversions, 1 + failures) posteriors, Monte Carlo with a fixed seed so the same
data gives the same weights), mixed with a floor so no variant is starved of fresh evidence."""

from __future__ import annotations

import random
from collections.abc import Mapping

DRAWS = 10_000


def thompson_weights(
    stats: Mapping[str, tuple[int, int]], *, floor_percent: float, seed: int = 0
) -> dict[str, float]:
    """stats: variant → (exposures, conversions). Returns weights in percent, summing to 100."""
    names = list(stats)
    rng = random.Random(seed)
    wins = dict.fromkeys(names, 0)
    for _ in range(DRAWS):
        draws = {
            name: rng.betavariate(1 + conversions, 1 + max(0, exposures - conversions))
            for name, (exposures, conversions) in stats.items()
        }
        wins[max(names, key=draws.__getitem__)] += 1
    floor = min(floor_percent, 100 / len(names))
    free = 100 - floor * len(names)
    return {name: floor + free * wins[name] / DRAWS for name in names}
