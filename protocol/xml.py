"""The one hardened XML parser (PROTOCOL §3, SECURITY 1–10).

Every received document goes through `parse_document`. It parses from bytes
only, never resolves entities, never loads a DTD or touches the network, and
then refuses what UAMS/1 forbids: a DOCTYPE, entity declarations or
references beyond the five predefined ones, XInclude, and processing
instructions. Parser messages are never surfaced: a peer learns at most the
line where its document broke.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from lxml import etree

from protocol import namespaces as ns
from protocol.errors import Detail, ForbiddenXml, MalformedXml


class _RefuseEverything(etree.Resolver):  # type: ignore[misc]
    """Registered on every parser; counts calls so tests can prove none happened."""

    calls = 0

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        type(self).calls += 1
        return self.resolve_string("", context)


def _new_parser() -> etree.XMLParser:
    # Never collect_ids=False: with it libxml2 opened external DTDs (SECURITY 2).
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_pis=False,      # kept so that they can be refused, not silently dropped
        remove_comments=True,  # comments carry no meaning; positions stay predictable
        remove_blank_text=False,
        strip_cdata=True,
    )
    parser.resolvers.add(_RefuseEverything())
    return parser


_local = threading.local()


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _new_parser()
    return parser


_FORBIDDEN_NODES = (
    etree.Entity,
    etree.ProcessingInstruction,
    f"{{{ns.XINCLUDE}}}*",
    f"{{{ns.XINCLUDE_OLD}}}*",
)

# Only consulted when libxml2 refused a document: was the cause something forbidden?
_FORBIDDEN_TEXT = re.compile(
    rb"<!DOCTYPE|<!ENTITY|<\?(?!xml[\s?])|"
    rb"&(?!(?:lt|gt|amp|quot|apos);|#[0-9]+;|#x[0-9A-Fa-f]+;)[A-Za-z_:][^;\s<&]*;"
)


#: UTF-16/32 byte-order marks. libxml2 decodes such a document and then reports its
#: encoding as UTF-8 when no declaration names it, so the bytes are checked first.
_WIDE_BOMS = (b"\xfe\xff", b"\xff\xfe")


def _is_wide(payload: bytes) -> bool:
    """True for UTF-16/UTF-32 text: a wide BOM, or a NUL byte where markup must start.

    A UTF-8 document never holds a NUL byte (U+0000 is not an XML character), while
    UTF-16 and UTF-32 spell the ASCII markup every document starts with using them.
    """
    return payload.startswith(_WIDE_BOMS) or b"\x00" in payload[:4]


def parse_document(payload: bytes) -> etree._Element:
    """Parse one received document and return its root element.

    Raises `ForbiddenXml` for constructs UAMS/1 refuses and `MalformedXml` for
    anything that is not well-formed UTF-8 XML.
    """
    if _is_wide(payload):
        raise MalformedXml([Detail("The document must be encoded in UTF-8.")])
    try:
        root = etree.fromstring(payload, _parser())
    except etree.XMLSyntaxError as exc:
        if _FORBIDDEN_TEXT.search(payload):
            raise ForbiddenXml() from None
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        raise MalformedXml([Detail("The document is not well-formed.", line=line)]) from None
    except ValueError:  # e.g. a str or an unsupported encoding declaration
        raise MalformedXml() from None
    tree = root.getroottree()
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise ForbiddenXml()
    if (docinfo.encoding or "UTF-8").upper().replace("_", "-") not in ("UTF-8", "UTF8"):
        raise MalformedXml([Detail("The document must be encoded in UTF-8.")])
    for _ in root.iter(*_FORBIDDEN_NODES):
        raise ForbiddenXml()
    for sibling in root.itersiblings(preceding=True):
        if not isinstance(sibling, etree._Comment):
            raise ForbiddenXml()
    for sibling in root.itersiblings():
        if not isinstance(sibling, etree._Comment):
            raise ForbiddenXml()
    return root
