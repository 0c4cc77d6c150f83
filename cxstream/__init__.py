"""cxstream: live A-11 Section 280 customer-experience scores from service traffic.

Data path: ``schemas`` (contracts and codec) -> ``streams`` (Faust agents: join, dedupe, score,
alert) -> ``sinks`` (ClickHouse). ``stack`` runs a local Kafka and ClickHouse for development.
"""

from cxstream.errors import CxstreamError

__version__ = "0.1.0"
__all__ = ["CxstreamError", "__version__"]
