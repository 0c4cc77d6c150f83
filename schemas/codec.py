"""Avro single-object encoding (C3 01, 8-byte CRC-64-AVRO fingerprint, binary body), with fastavro.

Any consumer can find the writer schema from the fingerprint; this codec resolves every known
writer version into the current reader schema of its type. Confluent framing (00, 4-byte schema
id) is an option for deployments with a schema registry: the caller supplies the id mapping.
Decoding arbitrary bytes raises :class:`DecodeError` with a reason code, and nothing else.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from fastavro import schemaless_reader, schemaless_writer

from cxstream.schemas.compiled_reader import NotCanonical, Reader, compile_reader
from cxstream.schemas.errors import DecodeError, SchemaError
from cxstream.schemas.records import ContractRecord
from cxstream.schemas.registry import KnownSchema, SchemaRegistry, default_registry

SINGLE_OBJECT_MARKER: Final = b"\xc3\x01"
CONFLUENT_MAGIC: Final = b"\x00"
#: Larger values are refused before decoding (Kafka's default message limit is 1 MB).
MAX_MESSAGE_BYTES: Final = 1_048_576

R = TypeVar("R", bound=ContractRecord)
_NOT_COMPILED: Any = object()
#: What a compiled reader raises on a body it leaves to fastavro (schemas/compiled_reader.py).
_NOT_READ = (NotCanonical, IndexError, UnicodeDecodeError, struct.error)


class Codec:
    """Encodes records of the contract's types and decodes any known version of them."""

    def __init__(
        self,
        registry: SchemaRegistry | None = None,
        *,
        confluent_ids: Mapping[int, bytes] | None = None,
        write_confluent: bool = False,
        compiled: bool = True,
    ) -> None:
        """``confluent_ids`` maps Confluent schema ids to fingerprints; ``write_confluent`` makes
        :meth:`encode` use that framing (the current schema of a type must have an id).
        ``compiled`` False decodes with fastavro alone (the reference the compiled readers are
        tested and measured against)."""
        self.registry = registry or default_registry()
        self._confluent_ids = dict(confluent_ids or {})
        self._confluent_by_fingerprint = {fp: sid for sid, fp in self._confluent_ids.items()}
        self._write_confluent = write_confluent
        self._headers: dict[str, tuple[bytes, Any]] = {}
        #: writer fingerprint -> compiled reader, for writers that are their type's current schema.
        self._compiled: dict[bytes, Reader | None] = {}
        #: single-object header -> (record type, compiled reader): the fast path of decode().
        self._fast: dict[bytes, tuple[str, Reader]] = {}
        self._use_compiled = compiled

    # --- typed records ----------------------------------------------------------------------
    def encode_record(self, record: ContractRecord) -> bytes:
        """Frame and encode a record with the current schema of its type."""
        return self.encode(record.avro_name, record.to_avro())

    def decode_record(self, data: bytes, kind: type[R]) -> R:
        """The record of type ``kind`` in ``data``; DecodeError for anything else.

        Not validated: for the project's own topics. Input from outside producers goes through
        :func:`cxstream.schemas.validation.check_touchpoint` / ``check_feedback`` instead.
        """
        _, datum = self.decode(data, expected=kind.avro_name)
        return kind(**datum)

    # --- encoding ---------------------------------------------------------------------------
    def encode(self, name: str, datum: Mapping[str, Any]) -> bytes:
        """Frame and encode ``datum`` with the current schema of record type ``name``."""
        header, wire = self._header(name)
        buffer = io.BytesIO()
        buffer.write(header)
        schemaless_writer(buffer, wire, datum)
        return buffer.getvalue()

    def _header(self, name: str) -> tuple[bytes, Any]:
        cached = self._headers.get(name)
        if cached is None:
            schema = self.registry.current(name)
            if self._write_confluent:
                schema_id = self._confluent_by_fingerprint.get(schema.fingerprint)
                if schema_id is None:
                    raise SchemaError(f"no Confluent schema id for the current {name} schema")
                header = CONFLUENT_MAGIC + struct.pack(">I", schema_id)
            else:
                header = SINGLE_OBJECT_MARKER + schema.fingerprint
            cached = self._headers[name] = (header, schema.wire)
        return cached

    # --- decoding ---------------------------------------------------------------------------
    def decode(self, data: bytes, expected: str | None = None) -> tuple[str, dict[str, Any]]:
        """(record type, datum in the current reader schema) of framed bytes; DecodeError otherwise."""
        # The fast path: a single-object header seen before, of a current schema, read by the
        # compiled reader (see schemas/compiled_reader.py); anything else takes the full path.
        if type(data) is bytes and len(data) <= MAX_MESSAGE_BYTES:
            fast = self._fast.get(data[:10])
            if fast is not None and (expected is None or expected == fast[0]):
                try:
                    datum, end = fast[1](data, 10)
                    if end == len(data):
                        return fast[0], datum
                except _NOT_READ:
                    pass  # fastavro decides: the value it reads, or the error it raises
        return self._decode(data, expected)

    def _decode(self, data: bytes, expected: str | None) -> tuple[str, dict[str, Any]]:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DecodeError("not_bytes", f"expected bytes, got {type(data).__name__}")
        if len(data) > MAX_MESSAGE_BYTES:
            raise DecodeError("too_large", f"{len(data)} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")
        head = bytes(data[:10])
        writer, body_start = self._writer_of(head)
        if expected is not None and writer.name != expected:
            raise DecodeError("wrong_record_type", f"expected a {expected}, got a {writer.name}")
        reader = self.registry.current(writer.name)
        if self._use_compiled and writer.fingerprint == reader.fingerprint and type(data) is bytes:
            compiled = self._compiled.get(writer.fingerprint, _NOT_COMPILED)
            if compiled is _NOT_COMPILED:
                compiled = self._compile(writer)
            if compiled is not None:
                if body_start == 10:
                    self._fast[head] = (writer.name, compiled)
                try:
                    datum, end = compiled(data, body_start)
                    if end == len(data):
                        return writer.name, datum
                except _NOT_READ:
                    pass
        stream = io.BytesIO(data)
        stream.seek(body_start)
        try:
            if writer.fingerprint == reader.fingerprint:
                datum = schemaless_reader(stream, writer.wire, None)
            else:
                datum = schemaless_reader(stream, writer.wire, reader.wire)
        except EOFError:
            raise DecodeError("truncated", f"the {writer.name} body ends early") from None
        except Exception as exc:  # noqa: BLE001 - fastavro raises many types on corrupt input; all mean the same
            raise DecodeError(
                "malformed", f"the {writer.name} body is not valid Avro: {type(exc).__name__}: {exc}") from None
        if stream.tell() != len(data):
            raise DecodeError(
                "malformed", f"{len(data) - stream.tell()} bytes left after the {writer.name} body"
            )
        if not isinstance(datum, dict):
            raise DecodeError("malformed", f"the {writer.name} body did not decode to a record")
        return writer.name, datum

    def _compile(self, writer: KnownSchema) -> Reader | None:
        try:
            compiled: Reader | None = compile_reader(writer.wire)
        except NotCanonical:  # a type the compiled reader does not know: fastavro reads it
            compiled = None
        self._compiled[writer.fingerprint] = compiled
        return compiled

    def _writer_of(self, head: bytes) -> tuple[KnownSchema, int]:
        if head[:2] == SINGLE_OBJECT_MARKER:
            if len(head) < 10:
                raise DecodeError("truncated", "shorter than the 10-byte single-object header")
            known = self.registry.by_fingerprint(head[2:10])
            if known is None:
                raise DecodeError("unknown_schema", f"no known schema has fingerprint {head[2:10].hex()}")
            return known, 10
        if head[:1] == CONFLUENT_MAGIC and self._confluent_ids:
            if len(head) < 5:
                raise DecodeError("truncated", "shorter than the 5-byte Confluent header")
            (schema_id,) = struct.unpack(">I", head[1:5])
            fingerprint = self._confluent_ids.get(schema_id)
            known = self.registry.by_fingerprint(fingerprint) if fingerprint else None
            if known is None:
                raise DecodeError("unknown_schema", f"no known schema has Confluent id {schema_id}")
            return known, 5
        raise DecodeError(
            "not_single_object",
            f"does not start with the Avro single-object marker C3 01 (starts with {head[:2].hex() or 'nothing'})",
        )
