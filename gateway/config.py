"""Typed configuration: one frozen dataclass per TOML section.

`load_config` reads `config/gateway.toml` (or starts from the defaults), then
applies environment overrides named `UAMS_<SECTION>_<KEY>`, e.g.
`UAMS_SERVER_PORT=7500`. Every value is converted to its field's type and
checked; anything unknown or invalid stops start-up with a `ConfigError` that
names the file or variable, the section and the key.

Relative paths (fields typed `Path`) are resolved against the current working
directory at load time; run the gateway from the project folder or give
absolute paths. `store.url` is passed through untouched (SQLite resolves its own
relative path against the working directory too).

Adding a section: write a frozen dataclass whose fields all have defaults and
validate themselves in `__post_init__` (raise `SettingError`), then add one
field to `Config`. `SECTIONS` is derived from `Config`, so the loader, the
environment overrides and the error messages pick it up on their own.
Supported field types: str, int, float, bool, Path, Path | None (empty string =
None) and tuple[str, ...] (a TOML list, or a comma-separated variable).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import tomllib
import typing
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from protocol.envelope import PARTICIPANT_ID

#: Environment variables starting with these are not settings (test-suite knobs, the file path).
ENV_PREFIX = "UAMS_"
ENV_NOT_SETTINGS = ("UAMS_TEST_", "UAMS_CONFIG")

MAX_PORT = 65535
MAX_FRAME_LIMIT = 0xFFFFFFFF  # the 32-bit length prefix
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_SECRET_HINTS = ("url", "password", "secret", "token")


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


class SettingError(ValueError):
    """Raised by a section's `__post_init__`: `key` is the offending setting."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem


def _at_least(section: object, minimum: float, *keys: str) -> None:
    for key in keys:
        if getattr(section, key) < minimum:
            raise SettingError(key, f"must be at least {minimum}")


def _positive(section: object, *keys: str) -> None:
    for key in keys:
        if not getattr(section, key) > 0:
            raise SettingError(key, "must be greater than 0")


def _one_of(section: object, key: str, choices: tuple[str, ...]) -> None:
    if getattr(section, key) not in choices:
        raise SettingError(key, f"must be one of {', '.join(choices)}")


def _port(section: object, key: str) -> None:
    if not 0 <= getattr(section, key) <= MAX_PORT:
        raise SettingError(key, f"must be a port number between 0 and {MAX_PORT}")


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class GatewaySection:
    """`[gateway]`: who this gateway is."""

    id: str = "SCC"
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if not PARTICIPANT_ID.fullmatch(self.id):
            raise SettingError("id", "must be 2 to 32 characters A-Z, 0-9 or '-'")
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise SettingError("timezone", "must be an IANA time zone name") from None


@dataclass(frozen=True, slots=True)
class ServerSection:
    """`[server]`: the mutual-TLS listener and its limits."""

    host: str = "127.0.0.1"
    port: int = 7400
    max_frame_bytes: int = 4 * 1024 * 1024
    max_inflight: int = 256
    max_garbage: int = 10
    idle_timeout_seconds: float = 300.0
    frame_timeout_seconds: float = 30.0
    handshake_timeout_seconds: float = 10.0
    max_connections: int = 10_000
    max_connections_per_participant: int = 100
    shutdown_grace_seconds: float = 30.0
    workers: int = 1
    rate_limit_per_second: float = 0.0
    rate_limit_burst: int = 100

    def __post_init__(self) -> None:
        _port(self, "port")
        _at_least(self, 1, "max_frame_bytes", "max_inflight", "max_connections",
                  "max_connections_per_participant", "workers", "rate_limit_burst")
        _at_least(self, 0, "max_garbage", "shutdown_grace_seconds", "rate_limit_per_second")
        _positive(self, "idle_timeout_seconds", "frame_timeout_seconds",
                  "handshake_timeout_seconds")
        if self.max_frame_bytes > MAX_FRAME_LIMIT:
            raise SettingError("max_frame_bytes", f"must be at most {MAX_FRAME_LIMIT}")


@dataclass(frozen=True, slots=True)
class TlsSection:
    """`[tls]`: the server certificate, the trusted CA and the CRL (None = no CRL)."""

    cert_file: Path = Path("certs/dev/server.crt")
    key_file: Path = Path("certs/dev/server.key")
    ca_file: Path = Path("certs/dev/ca.crt")
    crl_file: Path | None = Path("certs/dev/crl.pem")
    reload_interval_seconds: float = 10.0

    def __post_init__(self) -> None:
        _positive(self, "reload_interval_seconds")


@dataclass(frozen=True, slots=True)
class PlaintextSection:
    """`[plaintext]`: the development listener without TLS (loopback only)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 7401
    participant: str = ""

    def __post_init__(self) -> None:
        _port(self, "port")
        if self.enabled and not is_loopback(self.host):
            raise SettingError("host", "must be a loopback address when plaintext is enabled")
        if self.enabled and not self.participant:
            raise SettingError("participant", "must name a participant when plaintext is enabled")


@dataclass(frozen=True, slots=True)
class StoreSection:
    """`[store]`: where messages are committed, and the group-commit batching."""

    url: str = "sqlite:///var/uams.db"
    sqlite_synchronous: str = "FULL"
    batch_max_messages: int = 500
    batch_max_wait_ms: float = 2.0
    queue_max: int = 10_000

    def __post_init__(self) -> None:
        if "://" not in self.url:
            raise SettingError("url", "must be a database URL such as sqlite:///var/uams.db")
        _one_of(self, "sqlite_synchronous", ("OFF", "NORMAL", "FULL", "EXTRA"))
        _at_least(self, 1, "batch_max_messages", "queue_max")
        _at_least(self, 0, "batch_max_wait_ms")


@dataclass(frozen=True, slots=True)
class RetentionSection:
    """`[retention]`: background purge of stored payloads and of acknowledged notifications
    (decisions and history are kept)."""

    enabled: bool = False
    payload_max_age_days: int = 365
    notification_max_age_days: int = 30
    batch_size: int = 500
    pause_ms: float = 100.0
    interval_seconds: float = 3600.0

    def __post_init__(self) -> None:
        _at_least(self, 1, "payload_max_age_days", "notification_max_age_days", "batch_size")
        _at_least(self, 0, "pause_ms")
        _positive(self, "interval_seconds")


@dataclass(frozen=True, slots=True)
class ParticipantsSection:
    """`[participants]`: the participant registry file."""

    file: Path = Path("config/participants.toml")


@dataclass(frozen=True, slots=True)
class RulesSection:
    """`[rules]`: permit rules and risk profiles; re-read when the file changes or on SIGHUP
    (`reload_check_seconds` = 0: only on SIGHUP)."""

    file: Path = Path("config/rules.toml")
    reload_check_seconds: float = 2.0

    def __post_init__(self) -> None:
        _at_least(self, 0, "reload_check_seconds")


@dataclass(frozen=True, slots=True)
class PkiSection:
    """`[pki]`: where `certs init` writes the development PKI."""

    dev_dir: Path = Path("certs/dev")


@dataclass(frozen=True, slots=True)
class MqttSection:
    """`[mqtt]`: status notifications published to an MQTT broker (url "" = off).

    `url` is `mqtt://host:port` or `mqtts://host:port` (TLS with `ca_file`, and
    `cert_file`/`key_file` as the gateway's client certificate).
    """

    url: str = ""
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    client_id_prefix: str = "uams-gateway"
    keepalive_seconds: int = 30
    batch_size: int = 500
    poll_interval_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    ack_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.url:
            scheme, sep, rest = self.url.partition("://")
            if scheme not in ("mqtt", "mqtts") or not sep or not rest.split("@")[-1]:
                raise SettingError("url", "must be empty, mqtt://host:port or mqtts://host:port")
            if scheme == "mqtts" and self.ca_file is None:
                raise SettingError("ca_file", "is required for an mqtts:// url")
        if (self.cert_file is None) != (self.key_file is None):
            raise SettingError("key_file", "cert_file and key_file go together")
        if not 1 <= len(self.client_id_prefix) <= 40:
            raise SettingError("client_id_prefix", "must be 1 to 40 characters")
        _at_least(self, 5, "keepalive_seconds")
        _at_least(self, 1, "batch_size")
        _positive(self, "poll_interval_seconds", "backoff_max_seconds", "ack_timeout_seconds")


@dataclass(frozen=True, slots=True)
class LoggingSection:
    """`[logging]`: level and output format (auto = console on a terminal, else JSON)."""

    level: str = "INFO"
    format: str = "auto"

    def __post_init__(self) -> None:
        _one_of(self, "level", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
        _one_of(self, "format", ("auto", "json", "console"))


@dataclass(frozen=True, slots=True)
class InternationalSection:
    """`[international]`: international formats accepted natively (docs/international.md).

    `sps_schema`: the main XSD of a UN/CEFACT SPSCertificate:17 pack; `wco_schema`: the main
    XSD of a WCO DEC-DMS:2 pack (empty = that format is not accepted). The mapping
    defaults apply where a foreign document has no value that fits the native body.
    """

    sps_schema: Path | None = None
    wco_schema: Path | None = None
    fallback_tax_id: str = "0000000000"
    fallback_office: str = "AZ-INTL"
    sps_validity_days: int = 30

    def __post_init__(self) -> None:
        if not (len(self.fallback_tax_id) == 10 and self.fallback_tax_id.isascii()
                and self.fallback_tax_id.isdigit()):
            raise SettingError("fallback_tax_id", "must be 10 digits")
        if not PARTICIPANT_ID.fullmatch(self.fallback_office):
            raise SettingError("fallback_office", "must be 2 to 32 characters A-Z, 0-9 or '-'")
        if not 1 <= self.sps_validity_days <= 3660:
            raise SettingError("sps_validity_days", "must be between 1 and 3660")


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration: one attribute per TOML section."""

    gateway: GatewaySection = field(default_factory=GatewaySection)
    server: ServerSection = field(default_factory=ServerSection)
    tls: TlsSection = field(default_factory=TlsSection)
    plaintext: PlaintextSection = field(default_factory=PlaintextSection)
    store: StoreSection = field(default_factory=StoreSection)
    retention: RetentionSection = field(default_factory=RetentionSection)
    participants: ParticipantsSection = field(default_factory=ParticipantsSection)
    rules: RulesSection = field(default_factory=RulesSection)
    pki: PkiSection = field(default_factory=PkiSection)
    logging: LoggingSection = field(default_factory=LoggingSection)
    mqtt: MqttSection = field(default_factory=MqttSection)
    international: InternationalSection = field(default_factory=InternationalSection)


#: Section name -> its dataclass; derived from `Config`, the one place to add a section.
SECTIONS: dict[str, type] = dict(typing.get_type_hints(Config))


def load_config(path: Path | None = None, environ: Mapping[str, str] = os.environ) -> Config:
    """Read `path` (None: defaults only), apply `UAMS_*` overrides, validate everything."""
    raw: dict[str, dict[str, tuple[Any, str]]] = {name: {} for name in SECTIONS}
    if path is not None:
        _read_file(path, raw)
    _read_environment(environ, raw)
    sections = {name: _build(name, cls, raw[name]) for name, cls in SECTIONS.items()}
    return Config(**sections)


def read_toml(path: Path, what: str, error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """A TOML file as a dict; `error` names the file and why it cannot be used."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def _read_file(path: Path, raw: dict[str, dict[str, tuple[Any, str]]]) -> None:
    document = read_toml(path, "configuration file")
    for section, table in document.items():
        if section not in SECTIONS:
            raise ConfigError(f"{path}: unknown section [{section}] (known: {', '.join(SECTIONS)})")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        known = _field_types(SECTIONS[section])
        for key, value in table.items():
            origin = f"{path}: [{section}] {key}"
            if key not in known:
                raise ConfigError(f"{path}: [{section}] unknown key {key!r}")
            try:
                raw[section][key] = (_from_toml(value, known[key]), origin)
            except _BadValue:
                raise ConfigError(f"{origin}: expected {_describe(known[key])}"
                                  f"{_shown(key, value)}") from None


def _read_environment(environ: Mapping[str, str],
                      raw: dict[str, dict[str, tuple[Any, str]]]) -> None:
    by_prefix = sorted(((f"{ENV_PREFIX}{name.upper()}_", name) for name in SECTIONS),
                       key=lambda item: len(item[0]), reverse=True)
    for variable, text in environ.items():
        if not variable.startswith(ENV_PREFIX) or variable.startswith(ENV_NOT_SETTINGS):
            continue
        section = next((name for prefix, name in by_prefix if variable.startswith(prefix)), None)
        if section is None:
            raise ConfigError(f"environment variable {variable}: names no configuration section "
                              f"(known: {', '.join(SECTIONS)})")
        key = variable[len(ENV_PREFIX) + len(section) + 1:].lower()
        known = _field_types(SECTIONS[section])
        origin = f"environment variable {variable} ([{section}] {key})"
        if key not in known:
            raise ConfigError(f"{origin}: unknown key")
        try:
            raw[section][key] = (_from_env(text, known[key]), origin)
        except (_BadValue, ValueError):
            raise ConfigError(f"{origin}: expected {_describe(known[key])}"
                              f"{_shown(key, text)}") from None


def _build(name: str, cls: type, values: dict[str, tuple[Any, str]]) -> Any:
    kwargs = {key: value for key, (value, _) in values.items()}
    for f in dataclasses.fields(cls):
        current = kwargs.get(f.name, f.default)
        if isinstance(current, Path):
            kwargs[f.name] = Path.cwd() / current
    try:
        return cls(**kwargs)
    except SettingError as exc:
        if exc.key in values:
            shown = _shown(exc.key, kwargs[exc.key])
            raise ConfigError(f"{values[exc.key][1]}: {exc.problem}{shown}") from None
        raise ConfigError(f"[{name}] {exc.key}: {exc.problem}") from None


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _shown(key: str, value: Any) -> str:
    """`(got ...)` for an error message, unless the setting may hold a credential."""
    if any(hint in key for hint in _SECRET_HINTS):
        return ""
    return f" (got {value!r})"


def _describe(tp: Any) -> str:
    names: dict[Any, str] = {
        str: "a string", int: "an integer", float: "a number", bool: "true or false",
        Path: "a path", Path | None: "a path or an empty string",
        tuple[str, ...]: "a list of strings",
    }
    return names.get(tp, str(tp))


class _BadValue(Exception):
    pass


def _from_toml(value: Any, tp: Any) -> Any:
    if tp is bool and isinstance(value, bool):
        return value
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if (tp is float and isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value)):
        return float(value)
    if tp is str and isinstance(value, str):
        return value
    if tp in (Path, Path | None) and isinstance(value, str):
        return _path(value, tp)
    if (tp == tuple[str, ...] and isinstance(value, list)
            and all(isinstance(item, str) for item in value)):
        return tuple(value)
    raise _BadValue


def _from_env(text: str, tp: Any) -> Any:
    if tp is bool:
        lowered = text.strip().lower()
        if lowered not in _TRUE | _FALSE:
            raise _BadValue
        return lowered in _TRUE
    if tp is int:
        return int(text)
    if tp is float:
        number = float(text)
        if not math.isfinite(number):
            raise _BadValue
        return number
    if tp in (Path, Path | None):
        return _path(text, tp)
    if tp == tuple[str, ...]:
        return tuple(item.strip() for item in text.split(",") if item.strip())
    if tp is str:
        return text
    raise _BadValue


def _path(text: str, tp: Any) -> Path | None:
    if not text:
        if tp == Path | None:
            return None
        raise _BadValue
    return Path(text)
