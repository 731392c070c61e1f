"""Start `budgetwh ui` (dagster dev: webserver + daemon) on a free local port, wait until it serves
the project's definitions, talk to its GraphQL API, and stop it. Used by the UI test and by
scripts/screenshot_ui.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCATION = "assets.definitions:defs"
REPOSITORY = "__repository__"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UIServer:
    def __init__(self, env: dict, log_path: Path, port: int | None = None):
        self.env = env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 300) -> UIServer:
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "ui", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"budgetwh ui exited ({self.proc.returncode}):\n{self.log_path.read_text()}")
            try:
                status = self.location_status()
                if status == "LOADED":
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
                pass
            time.sleep(1)
        raise TimeoutError(f"the UI did not serve within {timeout}s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # dagster dev stops its webserver, daemon and code server
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):  # leftovers of the group of the process we started
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()
        self.proc = None

    def __enter__(self) -> UIServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                data = json.loads(resp.read())
        except urllib.error.HTTPError as e:  # the server's answer says what went wrong
            raise RuntimeError(f"GraphQL HTTP {e.code}: {e.read().decode(errors='replace')[:4000]}") from e
        if data.get("errors"):
            raise RuntimeError(f"GraphQL errors: {data['errors']}")
        return data["data"]

    def location_status(self) -> str | None:
        data = self.graphql(
            "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }", timeout=5
        )
        entries = data["workspaceOrError"].get("locationEntries") or []
        return next((e["loadStatus"] for e in entries if e["name"] == LOCATION), None)
