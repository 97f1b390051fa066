"""`SchemaSet`: every UAMS/1 XSD compiled once, validating on the hot path with lxml.

The set is loaded from `protocol/xsd/uams.xsd`, which imports one schema per
namespace. The envelope's Body is `processContents="lax"`: a body in one of
our namespaces is validated strictly; alternate international formats
(registered per message type) are validated by their own schema packs.
Documents' `schemaLocation` hints are never followed.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from lxml import etree

from protocol.errors import Detail, SchemaInvalid

XSD_DIR = Path(__file__).parent / "xsd"
MAIN_XSD = XSD_DIR / "uams.xsd"

# `{urn:uams:declaration:1}HSCode` → `HSCode`; a pattern's `{6,10}` has no ':' and stays.
_NAMESPACE_IN_TEXT = re.compile(r"\{[^{}]*[:/][^{}]*\}")


def _schema_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False)


def compile_schema(path: Path) -> etree.XMLSchema:
    """Compile an XSD (and the local files it imports) without network access."""
    return etree.XMLSchema(etree.parse(str(path), _schema_parser()))


class SchemaSet:
    """The compiled UAMS/1 schemas. Thread-safe: each thread validates with its own copy."""

    def __init__(self, path: Path = MAIN_XSD) -> None:
        self.path = path
        self._local = threading.local()
        self._schema()  # compile now: a broken schema fails at start, not on first message

    def _schema(self) -> etree.XMLSchema:
        schema: etree.XMLSchema | None = getattr(self._local, "schema", None)
        if schema is None:
            schema = self._local.schema = compile_schema(self.path)
        return schema

    def is_valid(self, root: etree._Element) -> bool:
        return bool(self._schema().validate(root))

    def validate(self, root: etree._Element) -> None:
        """Raise `SchemaInvalid` with up to 20 details when `root` does not match."""
        schema = self._schema()
        if schema.validate(root):
            return
        raise SchemaInvalid(details_of(schema.error_log, root))


def details_of(error_log: etree._ListErrorLog, root: etree._Element) -> list[Detail]:
    details: list[Detail] = []
    for entry in error_log:
        if len(details) >= 20:
            break
        message = _NAMESPACE_IN_TEXT.sub("", entry.message or "")[:512] or "Invalid content."
        details.append(Detail(text=message, line=entry.line or None,
                              path=readable_path(root, entry.path)))
    return details or [Detail(text="The document does not match its schema.")]


def readable_path(root: etree._Element, libxml_path: str | None) -> str | None:
    """Turn libxml2's `/*/*[2]/*[1]` into `/Envelope/Body/CustomsDeclaration/...`."""
    if not libxml_path:
        return None
    try:
        found = root.getroottree().xpath(libxml_path)
    except etree.XPathError:
        return None
    if not found or not isinstance(found[0], etree._Element):
        return None
    return element_path(found[0])


def element_path(el: etree._Element) -> str:
    parts: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))
