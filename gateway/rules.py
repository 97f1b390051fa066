"""Loads `config/rules.toml` (permit rules, risk profiles) and keeps it current.

`load_rules` reads and checks the file; every error names the file, the
table and the key. `RulesWatcher` puts the rules in force into the pipeline's
extras (`extras["rules"]`, read by the writer thread once per message) and
swaps in a new `Rules` object whole when the file changes or on SIGHUP; a
changed file with errors is logged and the rules in force stay.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Mapping, MutableMapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import structlog

from gateway.config import ConfigError, read_toml
from handlers.rules import CERTIFICATE_TYPES, Channel, PermitRule, RiskProfile, Rules
from protocol.envelope import PARTICIPANT_ID

log = structlog.get_logger("uams.rules")

_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_HS_PREFIX = re.compile(r"[0-9]{1,10}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_TAX_ID = re.compile(r"[0-9]{10}")
_PROCEDURES = ("IM", "EX", "TR")
_CHANNELS = tuple(c.value for c in Channel)
_PERMIT_KEYS = frozenset({"name", "hs_prefixes", "requires"})
_RISK_KEYS = frozenset({"default", "profile"})
_CRITERIA = ("origin_countries", "hs_prefixes", "declarants", "consignee_tax_ids",
             "customs_offices", "procedure_types", "invoice_above")
_PROFILE_KEYS = frozenset({"name", "channel", *_CRITERIA})
_MAX_AMOUNT = Decimal("9999999999999999.99")


class RulesError(ConfigError):
    """The rules file cannot be used; the message says where and why."""


class _Table:
    """Typed access to one TOML table, with errors that say where."""

    def __init__(self, path: Path, where: str, table: Any, allowed: frozenset[str]) -> None:
        self.path = path
        self.where = where
        if not isinstance(table, dict):
            raise self.fail("", "must be a table")
        self.table: Mapping[str, Any] = table
        self.allowed = allowed

    def check_keys(self) -> None:
        for key in self.table:
            if key not in self.allowed:
                raise self.fail(key, f"unknown key (allowed: {', '.join(sorted(self.allowed))})")

    def fail(self, key: str, problem: str) -> RulesError:
        at = f"{self.where}: {key}" if key else self.where
        return RulesError(f"{self.path}: {at}: {problem}")

    def name(self) -> str:
        value = self.table.get("name")
        if not isinstance(value, str) or not _NAME.fullmatch(value):
            raise self.fail("name", "is required: 1-64 characters A-Z a-z 0-9 . _ -")
        self.where = f"{self.where} ({value})"
        return value

    def strings(self, key: str, pattern: re.Pattern[str] | tuple[str, ...], what: str, *,
                required: bool = False) -> tuple[str, ...]:
        value = self.table.get(key)
        if value is None:
            if required:
                raise self.fail(key, f"is required: a list of {what}")
            return ()
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"must be a non-empty list of {what}")
        for item in value:
            ok = (pattern.fullmatch(item) if isinstance(pattern, re.Pattern)
                  else item in pattern)
            if not ok:
                raise self.fail(key, f"{item!r} is not {what}")
        return tuple(dict.fromkeys(value))

    def channel(self, key: str, *, required: bool) -> Channel | None:
        value = self.table.get(key)
        if value is None and not required:
            return None
        if value not in _CHANNELS:
            raise self.fail(key, f"must be one of {', '.join(_CHANNELS)}")
        return Channel(value)

    def amounts(self, key: str) -> tuple[tuple[str, int], ...]:
        value = self.table.get(key)
        if value is None:
            return ()
        if not isinstance(value, dict) or not value:
            raise self.fail(key, 'must be a table of currency = "amount", e.g. { USD = "1000.00" }')
        out: list[tuple[str, int]] = []
        for currency, amount in value.items():
            if not _CURRENCY.fullmatch(currency):
                raise self.fail(key, f"{currency!r} is not a currency code (3 letters A-Z)")
            out.append((currency, self._cents(key, currency, amount)))
        return tuple(out)

    def _cents(self, key: str, currency: str, amount: Any) -> int:
        problem = self.fail(key, f"{currency}: {amount!r} must be an amount >= 0 with at most "
                                 'two decimals, written as a string ("1000.00") or an integer')
        if isinstance(amount, bool) or not isinstance(amount, str | int):
            raise problem
        try:
            number = Decimal(str(amount))
        except InvalidOperation:
            raise problem from None
        if (not number.is_finite() or number < 0 or number > _MAX_AMOUNT
                or number != number.quantize(Decimal("0.01"))):
            raise problem
        return int(number * 100)


def load_rules(path: Path) -> Rules:
    """Read and check the rules file; raise `RulesError` naming what is wrong."""
    document = read_toml(path, "rules file", RulesError)
    unknown = set(document) - {"permit", "risk"}
    if unknown:
        raise RulesError(f"{path}: unknown top-level key {sorted(unknown)[0]!r} "
                         "(known: [[permit]], [risk], [[risk.profile]])")
    permits = document.get("permit", [])
    if not isinstance(permits, list):
        raise RulesError(f"{path}: 'permit' must be written as [[permit]] tables")
    risk = _Table(path, "[risk]", document.get("risk", {}), _RISK_KEYS)
    risk.check_keys()
    profiles = risk.table.get("profile", [])
    if not isinstance(profiles, list):
        raise RulesError(f"{path}: 'risk.profile' must be written as [[risk.profile]] tables")
    rules = Rules(
        permits=tuple(_permit(path, n, t) for n, t in enumerate(permits, 1)),
        profiles=tuple(_profile(path, n, t) for n, t in enumerate(profiles, 1)),
        default_channel=risk.channel("default", required=False) or Channel.GREEN,
    )
    _unique(path, "[[permit]]", [p.name for p in rules.permits])
    _unique(path, "[[risk.profile]]", [p.name for p in rules.profiles])
    return rules


def _permit(path: Path, position: int, table: Any) -> PermitRule:
    read = _Table(path, f"[[permit]] #{position}", table, _PERMIT_KEYS)
    name = read.name()
    read.check_keys()
    return PermitRule(
        name=name,
        hs_prefixes=read.strings("hs_prefixes", _HS_PREFIX, "HS-code prefixes (1-10 digits)",
                                 required=True),
        requires=read.strings("requires", CERTIFICATE_TYPES,
                              f"certificate types ({', '.join(CERTIFICATE_TYPES)})",
                              required=True),
    )


def _profile(path: Path, position: int, table: Any) -> RiskProfile:
    read = _Table(path, f"[[risk.profile]] #{position}", table, _PROFILE_KEYS)
    name = read.name()
    read.check_keys()
    channel = read.channel("channel", required=True)
    assert channel is not None
    if not any(key in read.table for key in _CRITERIA):
        raise read.fail("", f"needs at least one criterion ({', '.join(_CRITERIA)}); "
                            "for a catch-all set [risk] default")
    return RiskProfile(
        name=name, channel=channel,
        origin_countries=frozenset(read.strings("origin_countries", _COUNTRY,
                                                "country codes (2 letters A-Z)")),
        hs_prefixes=read.strings("hs_prefixes", _HS_PREFIX, "HS-code prefixes (1-10 digits)"),
        declarants=frozenset(read.strings("declarants", PARTICIPANT_ID, "participant ids")),
        consignee_tax_ids=frozenset(read.strings("consignee_tax_ids", _TAX_ID,
                                                 "tax ids (10 digits)")),
        customs_offices=frozenset(read.strings("customs_offices", PARTICIPANT_ID,
                                               "customs office ids")),
        procedure_types=frozenset(read.strings("procedure_types", _PROCEDURES,
                                               "procedure types (IM, EX, TR)")),
        invoice_above=read.amounts("invoice_above"),
    )


def _unique(path: Path, where: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise RulesError(f"{path}: {where} ({name}): name: used by more than one rule")
        seen.add(name)


class RulesWatcher:
    """The rules in force; once installed, also in `target["rules"]`. Reloaded when the
    file changes or on request.

    Construction loads the file and raises `RulesError` when it is invalid: the
    gateway refuses to start with bad rules.
    """

    KEY = "rules"

    def __init__(self, path: Path, *, check_seconds: float = 2.0) -> None:
        self.path = path
        self.check_seconds = check_seconds
        self.reloads = 0
        self._stamp = self._file_stamp()
        self.rules = load_rules(path)
        self.target: MutableMapping[str, object] = {}
        self._pending: set[asyncio.Task[bool]] = set()

    def install(self, target: MutableMapping[str, object]) -> None:
        """Publish the rules in force in `target` (the pipeline's extras) from now on."""
        self.target = target
        target[self.KEY] = self.rules

    def _file_stamp(self) -> tuple[int, int]:
        try:
            st = self.path.stat()
        except OSError:
            return (0, 0)
        return (st.st_mtime_ns, st.st_size)

    def reload(self) -> bool:
        """Read the file now; swap the new rules in, or log why not and keep the old."""
        self._stamp = self._file_stamp()
        try:
            fresh = load_rules(self.path)
        except RulesError as exc:
            log.error("rules_reload_failed", detail=str(exc)[:500])
            return False
        self.rules = fresh
        self.target[self.KEY] = fresh  # one assignment: the writer sees old or new, never half
        self.reloads += 1
        log.info("rules_reloaded", reloads=self.reloads, permits=len(fresh.permits),
                 profiles=len(fresh.profiles))
        return True

    def reload_if_changed(self) -> bool:
        """Reload when the file's modification time or size changed since the last read."""
        if self._file_stamp() == self._stamp:
            return False
        return self.reload()

    def request_reload(self) -> None:
        """Reload off the event loop (for a SIGHUP handler)."""
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(self.reload))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def watch(self) -> None:
        """Check the file every `check_seconds` until cancelled (0: never, just wait)."""
        if self.check_seconds <= 0:
            await asyncio.Event().wait()
        while True:
            await asyncio.sleep(self.check_seconds)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.reload_if_changed)
