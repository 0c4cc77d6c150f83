"""The local development stack: a real Kafka broker (KRaft) and a real ClickHouse server.

``cxstream stack up | down | status`` drives it; the test suite's session fixtures use it too.
Everything runs on 127.0.0.1 from files in the repository and the cache folder.
"""

from cxstream.stack.manager import Stack, StackStatus

__all__ = ["Stack", "StackStatus"]
