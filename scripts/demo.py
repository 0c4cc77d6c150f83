"""`make demo`: start the local stack and show where everything is.

The streaming pipeline (worker, sink, generator, live page) is added by later work; until then
the demo stops once Kafka, ClickHouse and the contract's topics are up, and says so.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    up = subprocess.run([str(BIN / "cxstream"), "stack", "up"], check=False)
    if up.returncode != 0:
        return up.returncode
    print(
        "\ncxstream demo: the local stack and topics are up.\n"
        "The streaming pipeline (worker, generator, live scores page) is not built yet, so the demo\n"
        "stops here. Stop the stack with: .venv/bin/cxstream stack down"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
