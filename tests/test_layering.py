"""Dependencies point inward: gateway → handlers, adapters → protocol.

`protocol/` imports nothing of ours; `handlers/` imports only `protocol/` (and itself);
`adapters/` imports `protocol/` and the ports it implements (`handlers.ports`), never
`gateway/`. Checked on the source, so a new import that breaks the rule fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("protocol", "handlers", "adapters", "gateway")

#: package → the packages of ours it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "protocol": set(),
    "handlers": {"protocol"},
    "adapters": {"protocol", "handlers.ports"},
    "gateway": {"protocol", "handlers", "adapters"},
}


def all_imports(path: Path) -> set[str]:
    """Every absolute module name a source file imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def imports_of(path: Path) -> set[str]:
    """The modules of this project a source file imports."""
    return {name for name in all_imports(path) if name.split(".")[0] in PACKAGES}


def allowed(package: str, module: str) -> bool:
    if module.split(".")[0] == package:
        return True
    return any(module == ok or module.startswith(ok + ".") for ok in ALLOWED[package])


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_inward(package: str) -> None:
    offending = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / package).rglob("*.py")
        for module in imports_of(path)
        if not allowed(package, module)
    )
    assert offending == []


#: What the I/O-free layers never touch: sockets, event loops, drivers, logging, a clock of
#: their own. (`threading.local`, for per-thread parsers and schemas, is not I/O.)
IO_MODULES = {"asyncio", "socket", "ssl", "sqlite3", "psycopg", "oracledb", "aiomqtt",
              "subprocess", "logging", "structlog", "time"}


@pytest.mark.parametrize("package", ["protocol", "handlers"])
def test_protocol_and_handlers_do_no_io(package: str) -> None:
    offending = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in all_imports(path)
        if name.split(".")[0] in IO_MODULES
    )
    assert offending == []
