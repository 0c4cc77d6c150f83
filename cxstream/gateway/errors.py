"""The gateway's errors: a refused request (an HTTP status with a JSON body) and a bad keys file."""

from __future__ import annotations

from typing import Any

from cxstream.errors import CxstreamError


class KeysFileError(CxstreamError):
    """The API keys file cannot be read or written; the message names the file and what to do."""


class Refusal(Exception):
    """A request the gateway answers with an error status: ``code`` is machine-readable."""

    def __init__(self, status: int, code: str, detail: str, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body: ``error`` (the code), ``detail`` (what was wrong, what to do), extras."""
        return {"error": self.code, "detail": self.detail, **self.extra}
