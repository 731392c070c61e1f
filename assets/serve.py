"""``budgetwh serve``: a long-lived process that runs ``budgetwh ingest`` for its clients, warm.

A fresh ``budgetwh ingest`` spends ~1.5 s importing Dagster, Polars and DuckDB and building the
Definitions, then starts the gate's process (Great Expectations) and the parse workers' fork
server. The server pays that once: it imports everything, starts the gate's process and the fork
server, and runs one real ingest of a generated sample into a scratch warehouse (the warm-up, in
a fork: see ``warm_up``) before it listens.

Each request then runs in a **fork** of the warmed server (one at a time; later requests queue):
the fork takes the client's working directory, umask, run settings (``BUDGETWH_*``,
``DAGSTER_HOME``, ``TZ``, replacing the server's own) and standard streams, runs the command line
(``pipelines.cli.main``) exactly as the client would have in process — the same Dagster job,
recorded in the warehouse's own Dagster home — and exits. Whatever a run changes (environment,
caches, the progress printer, open connections) dies with its fork, so nothing leaks from one
request to the next; the server itself never runs a request. The fork uses the server's gate
process (requests and answers are numbered, so an abandoned request's answer is never taken) and
its fork server.

The client side (``pipelines/run/serve_client.py``) finds the socket, and falls back to running
in process when no server answers. A client that goes away (Ctrl-C) interrupts its run
(SIGINT, as in process). SIGTERM or SIGINT to the server, or ``budgetwh serve --stop``, stops it
once the current run ends (a second signal interrupts that run); queued clients then run in
process. A request from other code (the checkout was edited since the server started) is
refused, and the server stops.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from assets.serve_fork import Handler, Request, native_threads, run_in_fork, warm_up
from pipelines.run import serve_client as wire

# Seconds a run may take to end after its client went away and it was interrupted (SIGINT).
INTERRUPT_GRACE_S = 10.0
# Seconds a connection may take to send its request.
REQUEST_TIMEOUT_S = 5.0


def _log(text: str) -> None:
    print(f"budgetwh serve: {text}", flush=True)


@dataclass
class _Running:
    request: Request
    pid: int
    pidfd: int | None
    interrupted_at: float | None = None


class Server:
    """The socket, the queue of requests and the one running fork; a single-threaded loop
    (``serve_forever``) that never computes itself: every run is a fork (``serve_fork.run_in_fork``)."""

    def __init__(self, handle: Handler, path: Path, fingerprint: str) -> None:
        self.handle, self.path, self.fingerprint = handle, path, fingerprint
        self.queue: deque[Request] = deque()
        self.running: _Running | None = None
        self.stopping = False
        self.signals = 0
        self.served = 0
        self.warm_seconds = 0.0
        self.selector = selectors.DefaultSelector()
        self.listener: socket.socket | None = None
        self._lock_fd: int | None = None

    # --- start and stop

    def lock(self) -> bool:
        """One server per socket: a lock held for the server's life (a dead server's is released)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(str(self.path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd
        return True

    def listen(self) -> None:
        """Bind the socket; a file left there by a dead server (its lock is free) is replaced."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket is this user's alone
        try:
            listener.bind(str(self.path))
        finally:
            os.umask(old_umask)
        listener.listen(64)
        listener.setblocking(False)
        self.listener = listener
        self._socket_inode = os.stat(self.path).st_ino
        self.selector.register(listener, selectors.EVENT_READ, "accept")

    def close(self) -> None:
        if self.listener is not None:
            self.selector.unregister(self.listener)
            self.listener.close()
            with contextlib.suppress(OSError):  # only our own socket file (never a newer server's)
                if os.stat(self.path).st_ino == self._socket_inode:
                    os.unlink(self.path)
            self.listener = None
        for req in self.queue:
            wire.send_answer(req.sock, {"state": "stopping", "reason": "the ingest server stopped"})
            req.close()
        self.queue.clear()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _on_signal(self, signum, _frame) -> None:
        self.signals += 1
        self.stopping = True
        if self.signals > 1 and self.running is not None:  # a second signal: interrupt the run too
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.running.pid, signal.SIGINT)

    # --- the loop

    def serve_forever(self) -> None:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        self.selector.register(wake_r, selectors.EVENT_READ, "wake")
        try:
            while not (self.stopping and self.running is None):
                timeout = None
                if self.running is not None and (self.running.pidfd is None or self.running.interrupted_at):
                    timeout = 0.05  # no pidfd: the fork is polled; an interrupted one is watched for its grace
                for key, _ in self.selector.select(timeout):
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "wake":
                        with contextlib.suppress(OSError):
                            os.read(wake_r, 512)
                    elif key.data == "client":
                        self._client_readable()
                self._reap()
                self._start_next()
        finally:
            signal.set_wakeup_fd(-1)
            self.selector.unregister(wake_r)
            os.close(wake_r)
            os.close(wake_w)

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.setblocking(True)
        conn.settimeout(REQUEST_TIMEOUT_S)
        try:
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _pid, uid, _gid = struct.unpack("3i", creds)
            if uid != os.getuid():
                conn.close()
                return
            request, fds = wire.receive_request(conn)
        except (OSError, ValueError):
            conn.close()
            return
        req = Request(conn, request, fds)
        verb = request.get("verb")
        if verb == "status":
            wire.send_answer(conn, self.status())
            req.close()
        elif verb == "stop":
            self.stopping = True
            wire.send_answer(conn, {"state": "stopping", "pid": os.getpid(), "busy": self.running is not None})
            req.close()
        elif verb != "run" or len(fds) != 3:
            wire.send_answer(conn, {"state": "refused", "reason": f"the ingest server does not know {verb!r}"})
            req.close()
        elif request.get("protocol") != wire.PROTOCOL or request.get("fingerprint") != self.fingerprint:
            wire.send_answer(
                conn,
                {"state": "stale", "reason": f"the ingest server (pid {os.getpid()}) runs code older than this "
                 "checkout's and stops (start it again: budgetwh serve)"},
            )  # fmt: skip
            req.close()
            self.stopping = True
        elif self.stopping:
            wire.send_answer(conn, {"state": "stopping", "reason": "the ingest server is stopping"})
            req.close()
        else:
            self.queue.append(req)
            if self.running is not None:
                wire.send_answer(conn, {"state": "queued", "ahead": len(self.queue)})

    def status(self) -> dict:
        return {
            "state": "serving", "pid": os.getpid(), "socket": str(self.path), "checkout": str(wire.PROJECT_ROOT),
            "busy": self.running is not None, "queued": len(self.queue), "served": self.served,
            "warm_up_seconds": round(self.warm_seconds, 2), "stopping": self.stopping, "threads": native_threads(),
        }  # fmt: skip

    def _start_next(self) -> None:
        while self.running is None and self.queue and not self.stopping:
            req = self.queue.popleft()
            if not wire.send_answer(req.sock, {"state": "running"}):
                req.close()  # the client left while queued
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                run_in_fork(req, self.handle, [self.listener, self._lock_fd, *(q.sock for q in self.queue)])
            for fd in req.fds:  # the fork holds the client's streams now
                os.close(fd)
            req.fds = []
            try:
                pidfd = os.pidfd_open(pid)
            except (AttributeError, OSError):
                pidfd = None
            self.running = _Running(req, pid, pidfd)
            self.served += 1
            if pidfd is not None:
                self.selector.register(pidfd, selectors.EVENT_READ, "child")
            self.selector.register(req.sock, selectors.EVENT_READ, "client")

    def _client_readable(self) -> None:
        """The running request's client sent something or left: it never sends after its request,
        so this is it leaving (Ctrl-C): the run is interrupted as Ctrl-C interrupts it in process."""
        run = self.running
        if run is None or run.interrupted_at is not None:
            return
        with contextlib.suppress(OSError):
            if run.request.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                return
        self.selector.unregister(run.request.sock)
        run.interrupted_at = time.perf_counter()
        with contextlib.suppress(ProcessLookupError):
            os.kill(run.pid, signal.SIGINT)

    def _reap(self) -> None:
        run = self.running
        if run is None:
            return
        try:
            pid, status = os.waitpid(run.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = run.pid, 0
        if pid == 0:
            if run.interrupted_at is not None and time.perf_counter() - run.interrupted_at > INTERRUPT_GRACE_S:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(run.pid, signal.SIGKILL)
            return
        code = os.waitstatus_to_exitcode(status)
        code = 128 - code if code < 0 else code  # killed by a signal: as a shell reports it
        wire.send_answer(run.request.sock, {"exit": code})  # the fork reported it already, unless it was killed
        if run.pidfd is not None:
            self.selector.unregister(run.pidfd)
            os.close(run.pidfd)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(run.request.sock)
        run.request.close()
        self.running = None
        argv = " ".join(run.request.request.get("argv", []))
        _log(f"{argv[:200]} → exit {code} in {time.perf_counter() - run.request.queued_at:.2f}s")
        self._keep_warm()

    def _keep_warm(self) -> None:
        """What a run may have used up: a gate process that died (it is started again) and the fork
        server (started again by the next run otherwise, as that run's child)."""
        from pipelines.publish.gate_process import gate_process_running, start_gate_process

        if not gate_process_running():
            start_gate_process()
        from multiprocessing import forkserver

        if forkserver._forkserver._forkserver_pid is not None:
            forkserver.ensure_running()


def serve(handle: Handler, path: Path, fingerprint: str, *, warm: bool = True) -> int:
    """Run the server on the socket ``path`` until stopped; 1 when another one serves there."""
    server = Server(handle, path, fingerprint)
    if not server.lock():
        answer = wire.ask_server("status", path, timeout=5)
        pid = f" (pid {answer['pid']})" if answer else ""
        print(f"budgetwh serve: an ingest server already serves on {path}{pid}", file=sys.stderr)
        return 1
    try:
        from pipelines.publish.gate_process import start_gate_process
        from pipelines.run.pool import default_workers, warm_up_workers

        start_gate_process()  # Great Expectations loads on the other core while this process imports
        warm_up_workers(default_workers())
        from assets import alembic_heads

        alembic_heads.warm()  # pure Python, no thread: each fork finds the migration heads read
        if warm:
            code, server.warm_seconds, imported = warm_up(handle)
            _log(f"warm-up ingest of a sample: exit {code}; {imported} modules it used imported here")
        threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        if threads:  # a fork copies only the thread that forks: say so, it may matter
            _log(f"Python threads run in the server ({', '.join(threads)}): a fork may deadlock")
        server.listen()
        _log(
            f"ready on {path} (pid {os.getpid()}, warmed in {server.warm_seconds:.1f}s); "
            "budgetwh ingest in this checkout now runs here; stop with budgetwh serve --stop"
        )
        server.serve_forever()
    finally:
        server.close()
    _log(f"stopped after {server.served} run(s)")
    return 0
