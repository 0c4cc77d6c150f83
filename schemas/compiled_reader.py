"""Avro bodies decoded by Python code generated from the writer schema: the codec's fast path.

fastavro's ``schemaless_reader`` reads through a file object, one ``read()`` call per varint byte
and per field, and looks each field's type up as it goes: ~5 us for a Touchpoint on this
project's VM. A function generated once per writer schema reads the bytes in place, with every
field's type fixed in its code: about half of that (BENCHMARKS.md). The worker decodes every
input record and every joined feedback, and the sink every record it stores, so this is on the
hot path of both.

Only *canonical* encodings are read here: booleans 0 or 1, varints of at most 10 bytes, block
counts that are not negative, union branches and enum indexes in range, lengths within the body.
Anything else raises :class:`NotCanonical` (also a block count larger than the bytes left, so a
corrupt count never loops; or the IndexError / UnicodeDecodeError / struct.error of a body that
ends early or is not UTF-8), and the codec then decodes the same bytes with
fastavro, which decides: a value where fastavro would return one, the same error where it would
raise. So the result for every input is what fastavro gives (tests/unit/schemas/test_compiled_reader.py
compares them on generated records, and on every truncation and many corruptions of them).
Schemas resolved into a different reader schema (an older writer version) stay with fastavro.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

#: A compiled reader: (body, start) -> (datum, end).
Reader = Callable[[bytes, int], tuple[Any, int]]

_PRIMITIVES = frozenset(("null", "boolean", "int", "long", "float", "double", "bytes", "string"))


class NotCanonical(ValueError):
    """The body uses an encoding this reader leaves to fastavro (or is not valid Avro)."""


def _long_tail(b: bytes, p: int, first: int) -> tuple[int, int]:
    """The rest of a varint whose first byte (``first``, high bit set) was at ``p - 1``."""
    n = first & 0x7F
    shift = 7
    while True:
        x = b[p]
        p += 1
        if shift == 63 and x > 1:  # past 64 bits (fastavro wraps them): not a canonical long
            raise NotCanonical("varint past 64 bits")
        n |= (x & 0x7F) << shift
        if x < 0x80:
            return (n >> 1) ^ -(n & 1), p
        shift += 7
        if shift > 63:  # more than 10 bytes: not a canonical long
            raise NotCanonical("varint longer than 10 bytes")


_DOUBLE = struct.Struct("<d").unpack_from
_FLOAT = struct.Struct("<f").unpack_from


class _Generator:
    """Writes the source of one reader function per named record, plus the constants they use."""

    def __init__(self) -> None:
        self.named: dict[str, Any] = {}  # full name -> definition
        self.functions: dict[str, list[str]] = {}  # function name -> its source lines
        self.constants: dict[str, Any] = {"_long_tail": _long_tail, "NotCanonical": NotCanonical,
                                          "_DOUBLE": _DOUBLE, "_FLOAT": _FLOAT}
        self._counter = 0

    def fresh(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def constant(self, value: Any) -> str:
        name = self.fresh("_c")
        self.constants[name] = value
        return name

    def record_function(self, schema: dict[str, Any]) -> str:
        """The name of the function reading record ``schema`` (generated on first use)."""
        name = "_r_" + str(schema["name"]).replace(".", "_")
        if name in self.functions:
            return name
        self.functions[name] = []  # reserved first: a recursive record calls itself
        lines = [f"def {name}(b, p):"]
        values = []
        for field in schema["fields"]:
            var = self.fresh("v")
            lines += self.read(field["type"], var, "    ")
            values.append(f"{field['name']!r}: {var}")
        lines.append(f"    return {{{', '.join(values)}}}, p")
        self.functions[name] = lines
        return name

    def read(self, schema: Any, var: str, indent: str) -> list[str]:
        """Lines that read one value of ``schema`` at ``p`` into ``var`` and move ``p`` past it."""
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                return self.primitive(schema, var, indent)
            return self.read(self.named[schema], var, indent)
        if isinstance(schema, list):
            return self.union(schema, var, indent)
        kind = schema["type"]
        if kind in _PRIMITIVES:  # {"type": "long"}: a primitive whose logical type was stripped
            return self.primitive(kind, var, indent)
        if "name" in schema and kind in ("record", "enum", "fixed"):
            self.named[schema["name"]] = schema
        if kind == "record":
            return [f"{indent}{var}, p = {self.record_function(schema)}(b, p)"]
        if kind == "enum":
            symbols = self.constant(tuple(schema["symbols"]))
            return [*self.long("i", indent),
                    f"{indent}if i < 0: raise NotCanonical('negative enum index')",
                    f"{indent}{var} = {symbols}[i]"]
        if kind == "fixed":
            return [f"{indent}e = p + {int(schema['size'])}",
                    f"{indent}if e > len(b): raise NotCanonical('fixed past the end')",
                    f"{indent}{var} = b[p:e]", f"{indent}p = e"]
        if kind == "array":
            item = self.fresh("v")
            return [f"{indent}{var} = []", *self.blocks(schema["items"], item, f"{var}.append({item})", indent)]
        if kind == "map":
            key, value = self.fresh("k"), self.fresh("v")
            return [f"{indent}{var} = {{}}",
                    *self.blocks(("map", key, schema["values"]), value, f"{var}[{key}] = {value}", indent)]
        raise NotCanonical(f"no compiled reader for type {kind!r}")

    def blocks(self, items: Any, var: str, store: str, indent: str) -> list[str]:
        """Avro's blocked encoding of arrays and maps: count, items, ..., 0."""
        count = self.fresh("n")
        inner = indent + "        "
        lines = [f"{indent}while True:", *self.long(count, indent + "    "),
                 f"{indent}    if {count} == 0: break",
                 f"{indent}    if {count} < 0: raise NotCanonical('negative block count')",
                 # every item takes a byte or more (but null): a larger count is a corrupt body
                 f"{indent}    if {count} > len(b) - p: raise NotCanonical('block count past the end')",
                 f"{indent}    for _ in range({count}):"]
        if isinstance(items, tuple):  # a map entry: a string key, then the value
            _, key, values = items
            lines += self.primitive("string", key, inner)
            items = values
        lines += self.read(items, var, inner)
        lines.append(f"{inner}{store}")
        return lines

    def union(self, branches: list[Any], var: str, indent: str) -> list[str]:
        lines = self.long("u", indent)
        for index, branch in enumerate(branches):
            lines.append(f"{indent}{'if' if index == 0 else 'elif'} u == {index}:")
            lines += self.read(branch, var, indent + "    ")
        lines.append(f"{indent}else: raise NotCanonical('union branch out of range')")
        return lines

    def long(self, var: str, indent: str) -> list[str]:
        return [f"{indent}x = b[p]", f"{indent}p += 1",
                f"{indent}if x < 128: {var} = (x >> 1) ^ -(x & 1)",
                f"{indent}else: {var}, p = _long_tail(b, p, x)"]

    def primitive(self, kind: str, var: str, indent: str) -> list[str]:
        if kind == "null":
            return [f"{indent}{var} = None"]
        if kind == "boolean":
            return [f"{indent}x = b[p]", f"{indent}p += 1",
                    f"{indent}if x > 1: raise NotCanonical('boolean byte not 0 or 1')",
                    f"{indent}{var} = x == 1"]
        if kind in ("int", "long"):
            return self.long(var, indent)
        if kind in ("float", "double"):
            size, unpack = (4, "_FLOAT") if kind == "float" else (8, "_DOUBLE")
            return [f"{indent}{var} = {unpack}(b, p)[0]", f"{indent}p += {size}"]
        # bytes and string: a length, then that many bytes
        lines = [*self.long("n", indent),
                 f"{indent}e = p + n",
                 f"{indent}if n < 0 or e > len(b): raise NotCanonical('length past the end')"]
        if kind == "string":
            return [*lines, f"{indent}{var} = b[p:e].decode()", f"{indent}p = e"]
        return [*lines, f"{indent}{var} = b[p:e]", f"{indent}p = e"]


def compile_reader(wire_schema: dict[str, Any]) -> Reader:
    """A function reading bodies of the record ``wire_schema`` (fastavro-parsed, logical types
    stripped): ``(body, start) -> (datum, end)``, as fastavro would decode them; it raises on any
    encoding it does not read (see the module's doc)."""
    generator = _Generator()
    entry = generator.record_function(wire_schema)
    source = "\n\n".join("\n".join(lines) for lines in generator.functions.values())
    namespace = dict(generator.constants)
    exec(compile(source, f"<avro reader {wire_schema['name']}>", "exec"), namespace)  # noqa: S102 - our own schema's code
    reader: Reader = namespace[entry]
    return reader
