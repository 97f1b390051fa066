"""`uams-gateway validate FILE…`: the gateway's own checks, offline, with readable errors."""

from __future__ import annotations

from pathlib import Path

from protocol.errors import UamsError
from protocol.schemas import SchemaSet
from protocol.xml import parse_document


def check(schemas: SchemaSet, payload: bytes) -> UamsError | None:
    try:
        root = parse_document(payload)
        schemas.validate(root)
    except UamsError as error:
        return error
    return None


def run(files: list[Path]) -> int:
    schemas = SchemaSet()
    failed = 0
    for path in files:
        try:
            payload = path.read_bytes()
        except OSError as exc:
            print(f"{path}: cannot read ({exc.strerror})")
            failed += 1
            continue
        error = check(schemas, payload)
        if error is None:
            print(f"{path}: valid")
            continue
        failed += 1
        print(f"{path}: {error.code.value} — {error.reason}")
        for d in error.details:
            where = " ".join(x for x in (f"line {d.line}" if d.line else "", d.path or "") if x)
            print(f"    {where}: {d.text}" if where else f"    {d.text}")
    return 1 if failed else 0
