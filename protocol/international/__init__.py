"""International standards accepted natively: pure XML → XML mappings, no I/O.

Each module turns one foreign document, already valid against its own schema
pack, into the equivalent UAMS/1 body element, which the gateway then validates
and handles like any native body:

- `sps`: a UN/CEFACT SPSCertificate:17 (ePhyto) → `ElectronicCertificate`;
- `wco`: a WCO Data Model DEC-DMS:2 `Declaration` (UK CDS) → `CustomsDeclaration`.

The field mapping, what is required and the defaults used for absent fields are
documented in docs/international.md.
"""
