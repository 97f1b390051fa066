"""`uams-gateway`: serve, send, validate, certs."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path

from adapters.errors import StoreError
from gateway.config import ConfigError, load_config

DEFAULT_CONFIG = Path("config/gateway.toml")


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None,
                        help="configuration file (default: config/gateway.toml if present)")


def _load(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    path = args.config
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    return load_config(path)


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway import app
    from gateway import logging as gwlogging

    config = _load(args)
    gwlogging.configure(config.logging.level, config.logging.format)
    workers = args.workers or config.server.workers
    if workers > 1:
        from gateway.workers import run_workers

        return int(run_workers(config, workers, ready_file=args.ready_file))
    try:
        import uvloop

        runner: Callable[..., object] = uvloop.run
    except ImportError:
        runner = asyncio.run

    async def main() -> None:
        if args.ready_file is None:
            await app.serve(config)
            return
        await app.serve(config, on_ready=lambda gw: args.ready_file.write_text(json.dumps(
            {"tls_port": gw.tls_port, "plaintext_port": gw.plaintext_port})))

    runner(main())
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from gateway.validate import run

    return run(args.files)


def _registry_ids(path: Path) -> list[str]:
    """Participant ids of the registry, read before its certificates exist."""
    import tomllib

    from gateway.participants import load_participants

    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))["participant"]
        return [str(table["id"]) for table in tables]
    except (OSError, ValueError, KeyError, TypeError):
        return [p.id for p in load_participants(path)]  # raises the loader's precise error


def cmd_certs(args: argparse.Namespace) -> int:
    from gateway import pki
    from gateway.participants import load_participants

    config = _load(args)
    directory = config.pki.dev_dir
    if args.action == "init":
        # Certificates first: a signing ministry's registry entry needs its certificate.
        pki.init_dev_pki(directory, _registry_ids(config.participants.file))
        registry = load_participants(config.participants.file, dev_cert_dir=directory)
        print(f"development PKI ready in {directory} ({len(registry)} participants)")
    elif args.action == "issue":
        for pid in args.ids:
            crt, key = pki.issue_participant_cert(directory, pid)
            print(f"issued {crt} and {key}")
    elif args.action == "revoke":
        for pid in args.ids:
            pki.revoke(directory, pid)
            print(f"revoked {pid} in {directory / 'crl.pem'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="uams-gateway",
                                     description="UAMS Single Window message gateway")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway")
    _config_arg(serve)
    serve.add_argument("--workers", type=int, default=None,
                       help="worker processes sharing the port (SO_REUSEPORT)")
    serve.add_argument("--ready-file", type=Path, default=None,
                       help="write the bound ports as JSON to this file once listening")
    serve.set_defaults(func=cmd_serve)

    from gateway import send

    send_parser = sub.add_parser("send", help="send message files as a participant")
    send.add_arguments(send_parser)
    send_parser.set_defaults(func=send.run)

    from gateway import demo

    demo_parser = sub.add_parser("demo", help="play 'a day at the border' against a running "
                                              "gateway with the development certificates")
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(func=demo.run)

    from gateway import sign

    sign_parser = sub.add_parser("sign", help="sign the certificate of an envelope (to stdout)")
    sign.add_arguments(sign_parser)
    sign_parser.set_defaults(func=sign.run)

    validate = sub.add_parser("validate", help="check files against the UAMS/1 schemas offline")
    validate.add_argument("files", nargs="+", type=Path)
    validate.set_defaults(func=cmd_validate)

    certs = sub.add_parser("certs", help="development PKI")
    _config_arg(certs)
    certs_sub = certs.add_subparsers(dest="action", required=True)
    certs_sub.add_parser("init", help="create CA, server and participant certificates")
    issue = certs_sub.add_parser("issue", help="issue a participant certificate")
    issue.add_argument("ids", nargs="+", metavar="ID")
    revoke = certs_sub.add_parser("revoke", help="put a participant certificate on the CRL")
    revoke.add_argument("ids", nargs="+", metavar="ID")
    certs.set_defaults(func=cmd_certs)

    from gateway import db

    db_parser = sub.add_parser("db", help="store schema (upgrade, current) and retention (purge)")
    db.add_arguments(db_parser, _config_arg)
    db_parser.set_defaults(func=lambda args: db.run(args, _load))

    from gateway import mqtt_config

    mqtt_parser = sub.add_parser("mqtt-config",
                                 help="write a Mosquitto configuration (TLS listener, ACL)")
    _config_arg(mqtt_parser)
    mqtt_config.add_arguments(mqtt_parser)
    mqtt_parser.set_defaults(func=lambda args: mqtt_config.run(args, _load(args)))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"uams-gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:  # e.g. the database is down, or at another schema revision
        print(f"uams-gateway: store error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
