"""How long to wait before trying again: one rule for every retry in the project."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass

# For retries that last as long as the outage does (the consume loop): there is no last attempt.
FOREVER = sys.maxsize
# 2**62 seconds is past any cap; a larger exponent would overflow the float multiplication.
_MAX_EXPONENT = 62


@dataclass(frozen=True)
class Backoff:
    """How often and how patiently to retry: full jitter up to an exponentially growing cap.

    Full jitter spreads restarted clients apart, so they do not hammer a recovering dependency in
    lockstep.
    """

    max_retries: int
    base_seconds: float
    max_seconds: float

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (0 for the first)."""
        cap = min(self.max_seconds, self.base_seconds * 2 ** min(attempt, _MAX_EXPONENT))
        return random.uniform(0, cap)


# The consume loop's: from half a second up to 10 s between tries, for as long as the outage lasts.
# A try costs one handler call per partition, so a short cap is cheap, and after an outage the
# fetcher and then the embedder resume within seconds rather than each after up to half a minute.
CONSUME_LOOP = Backoff(FOREVER, base_seconds=0.5, max_seconds=10.0)
