"""``budgetwh serve`` (assets/serve.py) with the real command: a server started as a user starts
it, ``budgetwh ingest`` run through it into a new warehouse, and the same ingest in process; the
warehouses, the output and the exit codes are the same. A stopped server, and a dead one's
socket, leave ``budgetwh ingest`` to run in process."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.run.serve_client import ask_server
from scripts.compare_warehouses import compare
from tests.conftest import CORPUS, ROOT, needs_shared

PDF = CORPUS / "jiangsu_province" / "江苏省委办公厅" / "江苏省委办公厅2019年度部门预算公开表格.pdf"  # 12 pages
NOT_A_DOCUMENT = CORPUS / "MANIFEST.md"  # quarantined: not a disclosure


def _env(sock: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "BUDGETWH_WAREHOUSE")}
    return {**env, "BUDGETWH_SERVER_SOCKET": str(sock), "BUDGETWH_SERVER": "1"}


def _ingest(env: dict, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pipelines.cli", "ingest", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def _same_text(out: str, warehouse: Path) -> str:
    """The output with what differs between any two runs (run id, seconds, rates, the folder) left out."""
    out = out.replace(str(warehouse.parent), "<dir>")
    out = re.sub(r"run [0-9a-f]{8}", "run <id>", out)
    out = re.sub(r"\d+(\.\d+)? pages/s", "<rate>", out)
    return re.sub(r"in \d+(\.\d+)?s", "in <t>", out)


def _wait_until_serving(sock: Path, server: subprocess.Popen, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the server exited: {server.stdout.read()}"
        answer = ask_server("status", sock, timeout=5)
        if answer:
            return answer
        time.sleep(0.2)
    raise AssertionError("the server did not start")


@needs_shared
def test_an_ingest_through_the_server_is_the_ingest_in_process(tmp_path):
    sock = tmp_path / "serve.sock"
    env = _env(sock)
    server = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        status = _wait_until_serving(sock, server)
        assert status["pid"] == server.pid and status["busy"] is False
        served, local = tmp_path / "served" / "wh.duckdb", tmp_path / "local" / "wh.duckdb"
        in_process = {**env, "BUDGETWH_SERVER": "0"}

        # a document through the server, then in process: the same warehouse, output and exit code
        a = _ingest(env, "--warehouse", str(served), str(PDF))
        assert ask_server("status", sock)["served"] == 1  # the server ran it
        b = _ingest(in_process, "--warehouse", str(local), str(PDF))
        assert a.returncode == b.returncode == 0, a.stderr + b.stderr
        assert "1 loaded, 0 unchanged, 0 quarantined" in a.stdout
        assert _same_text(a.stdout, served) == _same_text(b.stdout, local)
        assert compare(local, served) == []
        # a real Dagster run, recorded in the warehouse's own Dagster home (what the UI shows)
        run_id = re.search(r"run ([0-9a-f]{8})", a.stdout).group(1)
        assert [p for p in (served.parent / "dagster_home" / "history" / "runs").glob(f"{run_id}*.db")]

        # a document that is quarantined, with --strict: the same summary and exit code 3
        a = _ingest(env, "--strict", "--warehouse", str(served), str(NOT_A_DOCUMENT))
        b = _ingest(in_process, "--strict", "--warehouse", str(local), str(NOT_A_DOCUMENT))
        assert a.returncode == b.returncode == 3
        assert "quarantined MANIFEST.md" in a.stdout
        assert _same_text(a.stdout, served) == _same_text(b.stdout, local)
        assert compare(local, served) == []
        # a path that does not exist: the same message on stderr, exit code 2
        a = _ingest(env, "--warehouse", str(served), str(tmp_path / "nowhere.pdf"))
        b = _ingest(in_process, "--warehouse", str(local), str(tmp_path / "nowhere.pdf"))
        assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr) == (2, "", a.stderr)
        assert "No such file or folder" in a.stderr
        assert ask_server("status", sock)["served"] == 3

        # stopped: the socket is gone and the ingest runs in process
        stop = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "serve", "--stop"], cwd=ROOT, env=env, capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
        assert stop.returncode == 0 and server.wait(timeout=30) == 0
        assert not sock.exists()
        c = _ingest(env, "--warehouse", str(served), str(tmp_path / "nowhere.pdf"))
        assert (c.returncode, c.stderr) == (2, a.stderr)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_a_dead_servers_socket_is_ignored(tmp_path):
    """A socket file nobody listens on (its server was killed) is refused: the client runs in process."""
    from pipelines.run.serve_client import ingest_via_server

    sock = tmp_path / "dead.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock))
    listener.close()  # the file stays, as a killed server leaves it
    assert sock.exists()
    os.environ["BUDGETWH_SERVER_SOCKET"] = str(sock)
    try:
        os.environ["BUDGETWH_SERVER"] = "1"
        assert ingest_via_server(["ingest", "--warehouse", str(tmp_path / "wh.duckdb")]) is None
        assert ask_server("status", sock) is None
    finally:
        os.environ.pop("BUDGETWH_SERVER_SOCKET")
        os.environ["BUDGETWH_SERVER"] = "0"


@pytest.mark.parametrize("setting", ["0"])
def test_budgetwh_server_0_never_asks_a_server(tmp_path, setting, monkeypatch):
    from pipelines.run import serve_client

    monkeypatch.setenv("BUDGETWH_SERVER", setting)
    monkeypatch.setattr(serve_client, "connect", lambda *a: pytest.fail("a server was asked"))
    assert serve_client.ingest_via_server(["ingest"]) is None
