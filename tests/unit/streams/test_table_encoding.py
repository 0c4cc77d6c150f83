"""Table keys are encoded one way on every install: with orjson, a declared dependency.

Faust encodes table keys and values with orjson when it can import it and with the json module
otherwise, and the two write a non-ASCII key differently, so a worker installed without orjson
would not find the state another install wrote (and the reverse). The restore itself, with a
non-ASCII service, runs in the fault scenarios (tests/support/ground_truth.py's services).
"""

from __future__ import annotations

import importlib.metadata
import re

import faust.utils.json
from faust.serializers import codecs


def test_orjson_is_a_declared_dependency_of_cxstream() -> None:
    declared = {re.split(r"[ ;<>=!~\[]", r, maxsplit=1)[0].lower() for r in importlib.metadata.requires("cxstream") or []
                if "extra ==" not in r}
    assert "orjson" in declared


def test_faust_encodes_table_keys_with_orjson() -> None:
    assert faust.utils.json.orjson is not None
    key = "VA/préstamos/in_person"
    encoded = codecs.dumps("json", key)
    assert encoded == ('"' + key + '"').encode()  # raw UTF-8; the json module would write "pr\u00e9stamos"
    assert codecs.loads("json", encoded) == key
