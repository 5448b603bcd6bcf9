"""The layering of ARCHITECTURE.md, enforced: walks every import of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {
    "core",
    "drivers",
    "native_api",
    "ec2_api",
    "s3_api",
    "metadata_api",
    "translators",
    "cloudgate",
}

# package → project packages it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "core": {"drivers"},
    "drivers": set(),
    "translators": {"core"},
    "native_api": {"core"},
    "ec2_api": {"core", "translators"},
    "s3_api": {"core", "translators"},
    "metadata_api": {"core", "translators"},
    "cloudgate": PROJECT,
}
# The core speaks neither HTTP nor XML nor AWS.
CORE_FORBIDDEN_LIBRARIES = {
    "starlette",
    "uvicorn",
    "xmltodict",
    "botocore",
    "boto3",
    "moto",
    "httpx",
}


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def violations(root: Path = ROOT) -> list[str]:
    problems = []
    for package, allowed in ALLOWED.items():
        for path in sorted((root / package).rglob("*.py")):
            for line, module in imports_of(path):
                top = module.split(".")[0]
                where = f"{path.relative_to(root)}:{line} imports {module}"
                if top in PROJECT and top != package and top not in allowed:
                    problems.append(where)
                if package == "core" and top == "drivers" and not module.endswith(".base"):
                    problems.append(where + " (core may use driver interfaces only)")
                if package == "core" and top in CORE_FORBIDDEN_LIBRARIES:
                    problems.append(where + " (core speaks no wire protocol)")
    return problems


def test_layering_holds() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("package", "source", "bad"),
    [
        ("core", "import native_api.app\n", True),
        ("core", "from drivers.hypervisor.simulator import SimulatorDriver\n", True),
        ("core", "from drivers.hypervisor.base import HostRef\n", False),
        ("ec2_api", "from s3_api import app\n", True),
        ("drivers", "from core import errors\n", True),
    ],
)
def test_checker_catches_violations(tmp_path: Path, package: str, source: str, bad: bool) -> None:
    """The checker itself must be able to fail."""
    for name in ALLOWED:
        (tmp_path / name).mkdir()
    (tmp_path / package / "module.py").write_text(source)
    assert bool(violations(tmp_path)) is bad
