"""The client side of ``budgetwh serve`` (``assets/serve.py``): where the server listens, how a
request is framed, and ``budgetwh ingest`` handing its run to a running server.

Standard library only, and nothing of the project: the client's whole point is a process that
starts in a tenth of a second. A request carries the client's arguments, working directory, umask
and run settings (every ``BUDGETWH_*`` variable, ``DAGSTER_HOME``, ``TZ``), and the client's own
standard input, output and error as file descriptors (SCM_RIGHTS): the server's run writes to the
client's terminal directly, progress bar, summary and exit code exactly as in process.

The socket is ``$BUDGETWH_SERVER_SOCKET``, else ``<cache>/serve-<hash of the checkout>.sock``
(``<cache>``: ``$BUDGETWH_CACHE_DIR`` or ``~/.cache/budgetwh``), so a server serves the checkout it
was started from and no other. A request also carries a fingerprint of the code (the modules, SQL,
suites and catalogues, the lock file, the interpreter): a server started before an edit refuses
it, stops, and the client runs in process. ``BUDGETWH_SERVER=0`` never uses a server.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import struct
import sys
from pathlib import Path

from pipelines.run.paths import PROJECT_ROOT, cache_dir

PROTOCOL = 1
# Environment a request carries: what a run reads (the rest of the server's environment is its own).
CARRIED_PREFIXES = ("BUDGETWH_",)
CARRIED_NAMES = ("DAGSTER_HOME", "TZ")
# What the server's code is made of, for ``code_fingerprint`` (relative to the checkout).
CODE_FOLDERS = ("pipelines", "assets", "sql", "expectations")
CODE_FILES = ("pyproject.toml", "uv.lock", "workspace.yaml")
CODE_SUFFIXES = (".py", ".sql", ".json", ".csv", ".yaml")
# Seconds a client waits for the server to answer a request (it answers at once, even when busy).
ANSWER_TIMEOUT_S = 10.0


def socket_path() -> Path:
    configured = os.environ.get("BUDGETWH_SERVER_SOCKET")
    if configured:
        return Path(configured)
    checkout = hashlib.sha1(str(PROJECT_ROOT).encode()).hexdigest()[:12]
    return cache_dir() / f"serve-{checkout}.sock"


def code_fingerprint() -> str:
    """A hash of the names, sizes and modification times of the files the server's code is made
    of, and of the interpreter (~2 ms: no file is read)."""
    h = hashlib.sha1(f"{sys.executable}\0{sys.version}\0{PROTOCOL}".encode())
    paths = [PROJECT_ROOT / f for f in CODE_FILES]
    for folder in CODE_FOLDERS:
        for top, dirs, files in os.walk(PROJECT_ROOT / folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
            paths += [Path(top) / f for f in sorted(files) if f.endswith(CODE_SUFFIXES)]
    for p in paths:
        with contextlib.suppress(OSError):
            st = p.stat()
            h.update(f"{p.relative_to(PROJECT_ROOT)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def carried_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(CARRIED_PREFIXES) or k in CARRIED_NAMES}


# --- framing: a request is a 4-byte length and a JSON object, its descriptors sent with the first
# bytes; answers are JSON objects, one per line.


def send_request(sock: socket.socket, request: dict, fds: list[int] = ()) -> None:
    body = json.dumps(request, ensure_ascii=False).encode()
    data = struct.pack("!I", len(body)) + body
    sent = socket.send_fds(sock, [data], list(fds)) if fds else sock.send(data)
    if sent < len(data):
        sock.sendall(data[sent:])


def receive_request(sock: socket.socket, max_fds: int = 3) -> tuple[dict, list[int]]:
    """A request and the descriptors sent with it (raises ``ValueError`` on a malformed one)."""
    data, fds, _flags, _addr = socket.recv_fds(sock, 1 << 16, max_fds)
    try:
        while len(data) < 4 or len(data) < 4 + struct.unpack("!I", data[:4])[0]:
            more = sock.recv(1 << 16)
            if not more:
                raise ValueError("the request ended early")
            data += more
        (length,) = struct.unpack("!I", data[:4])
        return json.loads(data[4 : 4 + length].decode()), fds
    except (ValueError, struct.error):
        for fd in fds:
            os.close(fd)
        raise


def send_answer(sock: socket.socket, answer: dict) -> bool:
    """False when the client is gone."""
    try:
        sock.sendall(json.dumps(answer, ensure_ascii=False).encode() + b"\n")
        return True
    except OSError:
        return False


def _answers(sock: socket.socket):
    buffer = b""
    while True:
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield json.loads(line.decode())
        chunk = sock.recv(1 << 16)
        if not chunk:
            return
        buffer += chunk


def connect(path: Path | None = None) -> socket.socket | None:
    """A connection to the server, or None when none listens (no socket file, or a dead server's:
    refused)."""
    path = path or socket_path()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None
    return sock


def _note(text: str) -> None:
    print(f"budgetwh: {text}", file=sys.stderr, flush=True)


def ingest_via_server(argv: list[str]) -> int | None:
    """``budgetwh <argv>`` run by the server, its output on this process's terminal; its exit code,
    or None when no server could take it (none runs, a dead server's socket, a server of other code,
    one stopping): the caller then runs it in process."""
    if os.environ.get("BUDGETWH_SERVER", "1") == "0":
        return None
    sock = connect()
    if sock is None:
        return None
    umask = os.umask(0)
    os.umask(umask)
    request = {
        "verb": "run", "protocol": PROTOCOL, "fingerprint": code_fingerprint(), "argv": argv, "cwd": os.getcwd(),
        "umask": umask, "env": carried_environment(),
    }  # fmt: skip
    started = False
    try:
        sock.settimeout(ANSWER_TIMEOUT_S)
        send_request(sock, request, [0, 1, 2])
        for answer in _answers(sock):
            state = answer.get("state")
            if "exit" in answer:
                return int(answer["exit"])
            if state == "queued":
                _note(f"the ingest server runs another ingest; this one waits for it ({answer.get('ahead', 1)} ahead)")
                sock.settimeout(None)  # as long as the runs ahead take
            elif state == "running":
                started = True
                sock.settimeout(None)
            else:  # stale, stopping, refused: this process runs it
                if answer.get("reason"):
                    _note(f"{answer['reason']}; ingesting in this process")
                return None
    except (OSError, ValueError) as exc:
        if not started:
            return None
        _note(f"lost the ingest server during the run ({exc}); ingesting again in this process")
        return None
    finally:
        sock.close()
    if started:  # the server and its run ended without an exit code: the run is redone here (idempotent)
        _note("the ingest server stopped during the run; ingesting again in this process")
    return None


def ask_server(verb: str, path: Path | None = None, timeout: float | None = 30.0) -> dict | None:
    """A ``status`` or ``stop`` request; the server's answer, or None when none listens."""
    sock = connect(path)
    if sock is None:
        return None
    try:
        sock.settimeout(timeout)
        send_request(sock, {"verb": verb, "protocol": PROTOCOL})
        return next(_answers(sock), None)
    except (OSError, ValueError):
        return None
    finally:
        sock.close()
