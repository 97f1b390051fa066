"""Typed configuration: defaults, the shipped file, environment overrides, refusals."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from gateway.config import SECTIONS, Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "config" / "gateway.toml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return path


def test_defaults_resolve_paths_against_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, environ={})
    assert config.server.port == 7400
    assert config.server.max_frame_bytes == 4 * 1024 * 1024
    assert config.store.sqlite_synchronous == "FULL"
    assert config.plaintext.enabled is False
    assert config.tls.cert_file == tmp_path / "certs/dev/server.crt"
    assert config.tls.crl_file == tmp_path / "certs/dev/crl.pem"
    assert config.participants.file == tmp_path / "config/participants.toml"


def test_shipped_file_documents_every_setting_with_its_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert load_config(SHIPPED, environ={}) == load_config(None, environ={})
    document = tomllib.loads(SHIPPED.read_text())
    for name, section in SECTIONS.items():
        assert set(document[name]) == {f.name for f in dataclasses.fields(section)}, name


def test_sections_table_follows_config() -> None:
    assert list(SECTIONS) == [f.name for f in dataclasses.fields(Config)]


def test_environment_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, "[server]\nport = 7000\n")
    config = load_config(path, environ={
        "UAMS_SERVER_PORT": "7500",
        "UAMS_SERVER_IDLE_TIMEOUT_SECONDS": "12.5",
        "UAMS_STORE_URL": "postgresql+psycopg://uams@db/uams",
        "UAMS_PLAINTEXT_ENABLED": "yes",
        "UAMS_PLAINTEXT_PARTICIPANT": "BRK-0001",
        "UAMS_TLS_CRL_FILE": "",
        "UAMS_TEST_ORACLE_URL": "not a setting",
        "PATH": "/usr/bin",
    })
    assert config.server.port == 7500
    assert config.server.idle_timeout_seconds == 12.5
    assert config.store.url == "postgresql+psycopg://uams@db/uams"
    assert config.plaintext.enabled is True
    assert config.tls.crl_file is None


@pytest.mark.parametrize(("text", "fragment"), [
    ("[server]\nprot = 1\n", "[server] unknown key 'prot'"),
    ("[srever]\nport = 1\n", "unknown section [srever]"),
    ("[server]\nport = 70000\n", "[server] port: must be a port number"),
    ("[server]\nport = \"7400\"\n", "[server] port: expected an integer"),
    ("[server]\nmax_inflight = -1\n", "[server] max_inflight: must be at least 1"),
    ("[server]\nidle_timeout_seconds = 0\n", "[server] idle_timeout_seconds: must be greater"),
    ("[server]\nworkers = true\n", "[server] workers: expected an integer"),
    ("[store]\nsqlite_synchronous = \"SOMETIMES\"\n", "[store] sqlite_synchronous: must be one"),
    ("[gateway]\ntimezone = \"Mars/Olympus\"\n", "[gateway] timezone: must be an IANA"),
    ("[logging]\nformat = \"xml\"\n", "[logging] format"),
    ("[server\n", "not valid TOML"),
])
def test_bad_file_is_refused(tmp_path: Path, text: str, fragment: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert str(path) in str(caught.value)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(("environ", "fragment"), [
    ({"UAMS_SERVER_PORT": "abc"}, "UAMS_SERVER_PORT ([server] port): expected an integer"),
    ({"UAMS_SERVER_PORT": "-5"}, "UAMS_SERVER_PORT ([server] port): must be a port number"),
    ({"UAMS_SERVR_PORT": "7500"}, "UAMS_SERVR_PORT: names no configuration section"),
    ({"UAMS_SERVER_PROT": "7500"}, "UAMS_SERVER_PROT ([server] prot): unknown key"),
    ({"UAMS_PLAINTEXT_ENABLED": "maybe"}, "expected true or false"),
    ({"UAMS_STORE_BATCH_MAX_WAIT_MS": "nan"}, "expected a number"),
])
def test_bad_environment_variable_is_refused(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ=environ)
    assert fragment in str(caught.value)


def test_credentials_are_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ={"UAMS_STORE_URL": "secret-password"})
    assert "secret-password" not in str(caught.value)


def test_plaintext_on_a_non_loopback_host_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, '[plaintext]\nenabled = true\nhost = "0.0.0.0"\n'
                            'participant = "BRK-0001"\n')
    with pytest.raises(ConfigError, match=r"\[plaintext\] host: must be a loopback"):
        load_config(path, environ={})


def test_plaintext_needs_a_participant() -> None:
    with pytest.raises(ConfigError, match=r"\[plaintext\] participant"):
        load_config(None, environ={"UAMS_PLAINTEXT_ENABLED": "true"})


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_plaintext_on_loopback_is_allowed(host: str) -> None:
    config = load_config(None, environ={"UAMS_PLAINTEXT_ENABLED": "1",
                                        "UAMS_PLAINTEXT_HOST": host,
                                        "UAMS_PLAINTEXT_PARTICIPANT": "BRK-0001"})
    assert config.plaintext.host == host


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml", environ={})
