"""Every third-party module the installed program imports is a declared runtime dependency.

The development venv also has the dev extras (quixstreams brings confluent-kafka, for one), so an
import of a package only a dev tool pulled in works here and fails in the Docker image, which
installs the runtime dependencies alone."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_FOLDERS = ("cxstream", "streams", "sinks", "schemas", "stack")


def _declared() -> set[str]:
    requirements = importlib.metadata.requires("cxstream") or []
    names = {re.split(r"[ ;<>=!~\[]", r, maxsplit=1)[0] for r in requirements if "extra ==" not in r}
    return {name.lower().replace("_", "-") for name in names}


def _imported_top_levels() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in RUNTIME_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            if path.is_symlink() or "__pycache__" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_of_the_program_is_a_declared_dependency() -> None:
    declared = _declared()
    distributions = importlib.metadata.packages_distributions()
    missing = []
    for module, where in sorted(_imported_top_levels().items()):
        if module in sys.stdlib_module_names or module in ("cxstream", "streams", "sinks", "schemas", "stack"):
            continue
        providers = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
        if not providers & declared:
            missing.append(f"{module} (imported in {where}; from {sorted(providers) or 'nothing installed'})")
    assert not missing, "imported but not in pyproject's dependencies: " + "; ".join(missing)
