"""Splitting SQL scripts into single statements."""

import pytest

from cxstream.sinks.sqlscript import split_statements


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("", []),
        ("SELECT 1", ["SELECT 1"]),
        ("SELECT 1;\n\nSELECT 2;\n", ["SELECT 1", "SELECT 2"]),
        ("-- a comment; with a semicolon\nSELECT 1; -- trailing\n", ["SELECT 1"]),
        ("SELECT 'a;b', \"c;d\"; SELECT 2", ["SELECT 'a;b', \"c;d\"", "SELECT 2"]),
        ("SELECT 'it\\'s; fine'; SELECT 3", ["SELECT 'it\\'s; fine'", "SELECT 3"]),
        ("SELECT '-- not a comment'", ["SELECT '-- not a comment'"]),
    ],
)
def test_statements_are_split_outside_strings_and_comments(script: str, expected: list[str]) -> None:
    assert split_statements(script) == expected
