"""``python -m cxstream.cli``: the same as the ``cxstream`` command."""

import sys

from cxstream.cli import main

sys.exit(main())
