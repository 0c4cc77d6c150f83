"""The repository stands on its own: no file sends a reader to a folder a user's clone lacks."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: A path that leaves the repository: a clone has nothing beside it.
OUTSIDE = re.compile(r"\.\./shared\b|\.\./\.\./")


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    return [REPO / n for n in names if n.endswith((".md", ".py", ".sql", ".yml", ".yaml", ".toml", ".avsc"))
            or n in ("Makefile", "Dockerfile")]


def test_no_file_refers_to_a_folder_outside_the_repository() -> None:
    offenders = [f"{path.relative_to(REPO)}:{n}" for path in _tracked_text_files() if path.exists()
                 for n, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
                 if OUTSIDE.search(line) and path.name != "test_docs_stand_alone.py"]
    assert offenders == []


def test_documents_the_readme_names_exist() -> None:
    readme = (REPO / "README.md").read_text()
    named = set(re.findall(r"`(docs/[\w/.-]+\.md)`", readme))
    assert {"docs/CONTRACT.md", "docs/A11.md", "docs/ARCHITECTURE.md"} <= named
    assert [name for name in sorted(named) if not (REPO / name).exists()] == []
