"""Run the gateway as a real process (`uams-gateway serve`) for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import PARTICIPANTS_FILE, ROOT


def gateway_environment(pki_dir: Path, store_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UAMS_")}
    env.update({
        "UAMS_SERVER_PORT": "0",
        "UAMS_STORE_URL": store_url,
        "UAMS_TLS_CERT_FILE": str(pki_dir / "server.crt"),
        "UAMS_TLS_KEY_FILE": str(pki_dir / "server.key"),
        "UAMS_TLS_CA_FILE": str(pki_dir / "ca.crt"),
        "UAMS_TLS_CRL_FILE": str(pki_dir / "crl.pem"),
        "UAMS_PARTICIPANTS_FILE": str(PARTICIPANTS_FILE),
        "UAMS_PKI_DEV_DIR": str(pki_dir),
        "UAMS_LOGGING_LEVEL": "WARNING",
        "UAMS_LOGGING_FORMAT": "json",
    })
    env.update({f"UAMS_{k}": v for k, v in extra.items()})
    return env


class GatewayProcess:
    """`uams-gateway serve` in a child process; `port` once it is listening."""

    def __init__(self, workdir: Path, env: dict[str, str], *, args: tuple[str, ...] = ()) -> None:
        self.ready_file = workdir / f"ready-{time.monotonic_ns()}.json"
        self.log_file = (workdir / "gateway.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--ready-file", str(self.ready_file),
             *args],
            cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT,
        )
        self.port = self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}")
            if self.ready_file.exists() and self.ready_file.stat().st_size:
                return int(json.loads(self.ready_file.read_text())["tls_port"])
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("gateway did not become ready")

    def kill(self) -> None:
        """SIGKILL: no chance to flush or say goodbye."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.log_file.close()

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, then the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.log_file.close()
