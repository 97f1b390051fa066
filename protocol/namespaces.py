"""XML namespaces of UAMS/1 and of the international formats it accepts."""

ENVELOPE = "urn:uams:envelope:1"
REPLY = "urn:uams:reply:1"
DECLARATION = "urn:uams:declaration:1"
CERTIFICATE = "urn:uams:certificate:1"
TRANSPORT = "urn:uams:transport:1"
ENFORCEMENT = "urn:uams:enforcement:1"
STATUS = "urn:uams:status:1"
REPORT = "urn:uams:report:1"

XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"
XINCLUDE = "http://www.w3.org/2001/XInclude"
XINCLUDE_OLD = "http://www.w3.org/2003/XInclude"

SPS_CERTIFICATE = "urn:un:unece:uncefact:data:standard:SPSCertificate:17"
WCO_DECLARATION = "urn:wco:datamodel:WCO:DEC-DMS:2"
