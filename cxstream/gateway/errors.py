"""The gateway's errors: a refused request (an HTTP status with a JSON body), a client gone before
its body arrived, and a bad keys file."""

from __future__ import annotations

from typing import Any

from cxstream.errors import CxstreamError


class KeysFileError(CxstreamError):
    """The API keys file cannot be read or written; the message names the file and what to do."""


class Refusal(Exception):
    """A request the gateway answers with an error status: ``code`` is machine-readable.

    ``close``: the connection is closed right after the answer instead of reading (and discarding)
    the rest of the body, for refusals whose point is not to hold the connection any longer.
    """

    def __init__(self, status: int, code: str, detail: str, *, headers: dict[str, str] | None = None,
                 close: bool = False, **extra: Any) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.close = close
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body: ``error`` (the code), ``detail`` (what was wrong, what to do), extras."""
        return {"error": self.code, "detail": self.detail, **self.extra}


class ClientGone(Exception):
    """The client closed its connection before its whole body arrived: nobody is left to answer.

    Not an error of the gateway's: logged at debug and counted, never with a traceback, so clients
    that stall and give up cannot fill the log.
    """
