"""International formats accepted natively: load the operator's schema packs at start;
`gateway.app` puts the formats into `Pipeline.alternate_formats`.

A pack is the main XSD of a standard's schema set, with the files it imports
beside it, as the operator downloaded them. It is compiled once at start; any
import that is not a local file is refused (never fetched), so a pack that
needs the network fails at start with a `ConfigError`, not on the first message.
Validation then runs on each thread's own compiled copy (like `SchemaSet`).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lxml import etree

from gateway.config import ConfigError, InternationalSection
from gateway.pipeline import BodyFormat
from protocol.errors import MAX_DETAILS, Detail, SchemaInvalid
from protocol.international.common import MappingDefaults
from protocol.international.sps import ROOT_TAG as SPS_ROOT
from protocol.international.sps import sps_to_native
from protocol.international.wco import ROOT_TAG as WCO_ROOT
from protocol.international.wco import wco_to_native
from protocol.schemas import element_path


class _LocalFilesOnly(etree.Resolver):  # type: ignore[misc]
    """Lets libxml2 load local schema files; answers anything remote with nothing."""

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        scheme = urlparse(system_url).scheme.lower()
        if scheme in ("", "file") or len(scheme) == 1:  # a path, file://, or C:\
            return None
        return self.resolve_string("", context)


def compile_pack(path: Path) -> etree.XMLSchema:
    """Compile a schema pack's main XSD from local files only; raises `ConfigError`."""
    if not path.is_file():
        raise ConfigError(f"{path}: schema pack not found")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    parser.resolvers.add(_LocalFilesOnly())
    try:
        return etree.XMLSchema(etree.parse(str(path), parser))
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError, OSError) as exc:
        raise ConfigError(f"{path}: the schema pack does not compile from local files "
                          f"({exc})") from None


class SchemaPack:
    """One compiled pack: checked at construction, validating with a copy per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._local.schema = compile_pack(path)

    def _schema(self) -> etree.XMLSchema:
        schema: etree.XMLSchema | None = getattr(self._local, "schema", None)
        if schema is None:
            schema = self._local.schema = compile_pack(self.path)
        return schema

    def validate(self, body: etree._Element) -> None:
        """Raise `SchemaInvalid` (details with paths, no server-side text) on a mismatch."""
        schema = self._schema()
        if not schema.validate(body):
            raise SchemaInvalid(body_details(schema.error_log, body))


#: `{urn:…}` / `{http://…}` of a qualified name; not a pattern quantifier such as `{6,10}`
_NAMESPACE_IN_TEXT = re.compile(r"\{[^{}]*:[^{}]*\}")


def body_details(error_log: etree._ListErrorLog, body: etree._Element) -> list[Detail]:
    """Details of a body validated on its own: libxml2 reports paths from the body
    (`/*` is the body itself); they are given from the envelope like every other path."""
    details: list[Detail] = []
    for entry in error_log:
        if len(details) >= MAX_DETAILS:
            break
        text = _NAMESPACE_IN_TEXT.sub("", entry.message or "")[:512] or "Invalid content."
        details.append(Detail(text=text, line=entry.line or None,
                              path=_path_in(body, entry.path)))
    return details or [Detail(text="The body does not match its schema.")]


def _path_in(body: etree._Element, libxml_path: str | None) -> str | None:
    """`/rsm:SPSCertificate/rsm:SPSConsignment` or `/*/*[2]`: the first step is the body."""
    if not libxml_path or not libxml_path.startswith("/"):
        return None
    _, _, rest = libxml_path[1:].partition("/")
    prefixes = {k: v for k, v in body.nsmap.items() if k}
    try:
        found = body.xpath("self::*" + (f"/{rest}" if rest else ""), namespaces=prefixes)
    except etree.XPathError:
        return None
    if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
        return None
    return element_path(found[0])


class _PackFormat:
    """An alternate body validated by the operator's schema pack."""

    def __init__(self, pack: SchemaPack, defaults: MappingDefaults) -> None:
        self.pack = pack
        self.defaults = defaults

    def validate(self, body: etree._Element) -> None:
        self.pack.validate(body)


class SpsCertificateFormat(_PackFormat):
    """An ElectronicCertificate sent as a UN/CEFACT SPSCertificate:17."""

    def to_native(self, body: etree._Element, sender_id: str) -> etree._Element:
        return sps_to_native(body, self.defaults)


class WcoDeclarationFormat(_PackFormat):
    """A CustomsDeclaration sent as a WCO Data Model DEC-DMS:2 Declaration."""

    def to_native(self, body: etree._Element, sender_id: str) -> etree._Element:
        return wco_to_native(body, sender_id, self.defaults)


def load_formats(section: InternationalSection) -> dict[tuple[str, str], BodyFormat]:
    """The formats the configuration turns on, keyed like `Pipeline.alternate_formats`."""
    defaults = MappingDefaults(fallback_tax_id=section.fallback_tax_id,
                               fallback_office=section.fallback_office,
                               sps_validity_days=section.sps_validity_days)
    formats: dict[tuple[str, str], BodyFormat] = {}
    if section.sps_schema is not None:
        formats[("ElectronicCertificate", SPS_ROOT)] = SpsCertificateFormat(
            SchemaPack(section.sps_schema), defaults)
    if section.wco_schema is not None:
        formats[("CustomsDeclaration", WCO_ROOT)] = WcoDeclarationFormat(
            SchemaPack(section.wco_schema), defaults)
    return formats

