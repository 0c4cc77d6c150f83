"""Errors of the ClickHouse side: the server is unreachable, refuses us, or the schema is off."""

from cxstream.errors import CxstreamError


class StorageError(CxstreamError):
    """ClickHouse cannot be reached or refused a query; the message says what to do."""


class MigrationError(StorageError):
    """The schema cannot be brought up to date (e.g. an applied migration file was changed)."""
