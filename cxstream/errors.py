"""The project's exception root and its few specific subclasses.

Bad input is data (a dead letter), never one of these: these are for a broken setup or a bug.
"""


class CxstreamError(Exception):
    """Root of every error cxstream raises on purpose; its message says what to do."""


class ConfigError(CxstreamError):
    """A setting (env var or CLI flag) is missing or invalid; the message names the setting."""


class StackError(CxstreamError):
    """The local Kafka/ClickHouse stack cannot be installed, started or stopped."""
