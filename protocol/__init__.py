"""The UAMS/1 wire format, free of I/O: framing, hardened XML, schemas, errors, replies."""
