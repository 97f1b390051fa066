"""Typed views of message bodies, read from schema-valid elements (no validation here)."""
