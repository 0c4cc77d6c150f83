"""Python's cyclic garbage collector, tuned for a process that allocates per record.

The collector runs a young-generation pass after every 700 container allocations (net of frees)
by default, an older pass every tenth of those, and a full pass when enough survivors piled up.
A worker allocates several containers per record (the Kafka record, the decoded datum, the
stage's values), and its records live until their confirmation round, a fraction of a second:
long enough to survive young passes, get promoted, and trigger full passes over every object
Faust, aiokafka and the stages hold (~220,000). In the 200k-touchpoint bench mix the collector
took 5.1-5.5 s of a 23 s run, about a fifth of the worker (BENCHMARKS.md).

With a young threshold of 50,000 a pass runs ~70 times less often, and most records are gone
(freed by reference counting, which needs no collector) before one does: 1.3-2.5 s of
collection in the same run, most of it the full collections Faust itself asks for when it
opens and closes table partitions. Memory: at most that many more young container objects
waiting (a few MiB). 0 keeps Python's own thresholds.
"""

from __future__ import annotations

import gc

#: Python's defaults (gc.get_threshold() in a fresh interpreter).
PYTHON_DEFAULT = (700, 10, 10)


def tune_collector(young_threshold: int) -> tuple[int, int, int]:
    """Set the young generation's threshold (0: Python's defaults); returns the thresholds now."""
    if young_threshold <= 0:
        gc.set_threshold(*PYTHON_DEFAULT)
    else:
        gc.set_threshold(young_threshold, PYTHON_DEFAULT[1], PYTHON_DEFAULT[2])
    thresholds: tuple[int, int, int] = gc.get_threshold()
    return thresholds
