"""What a handler returns: a command's acceptance or a query's answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Accepted:
    """A command was applied: answered with a Receipt once committed."""

    object_kind: str | None
    reference: str | None
    status: str
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    """A query's reply: its MessageType and serialized body element."""

    message_type: str
    body: str


Outcome = Accepted | Answer
