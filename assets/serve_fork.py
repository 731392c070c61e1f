"""What runs in a fork of ``budgetwh serve`` (``assets/serve.py``): the warm-up run, and a
client's request, with the client's streams, directory, umask and settings."""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.run import serve_client as wire

Handler = Callable[[list[str]], int]


@dataclass
class Request:
    """A client's request: its connection, what it asked and the descriptors it sent."""

    sock: socket.socket
    request: dict
    fds: list[int]
    queued_at: float = field(default_factory=time.perf_counter)

    def close(self) -> None:
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = []
        with contextlib.suppress(OSError):
            self.sock.close()


def _quietly(fn: Callable[[], object]) -> object:
    """``fn()`` with this process's standard output and error sent to /dev/null (file descriptors,
    so Dagster's handlers and child processes are silenced too)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        return fn()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def warm_up(handle: Handler) -> tuple[int, float, int]:
    """Import what a run imports, without running one here.

    Polars and DuckDB start native thread pools on first use, which a fork does not copy: a fork
    of a process that has used them deadlocks in its first query (seen: Polars' streaming engine
    waiting forever). So the server itself never computes: one real ingest of a generated sample
    into a scratch warehouse runs in a fork (which also warms the gate's process and the fork
    server), the fork reports the modules it imported, and the server imports those (imports
    start no pools). Returns the warm-up run's exit code, seconds, and the modules imported."""
    started = time.perf_counter()
    import assets.definitions  # the Definitions, built at import
    import assets.runner
    from assets.alembic_heads import warm_jobs

    warm_jobs(assets.definitions.defs, ("ingest", "publish"))  # the jobs' snapshots, made once for every fork
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the warm-up run
        code = 1
        try:
            os.close(read_fd)
            before = set(sys.modules)
            code = _quietly(lambda: _sample_ingest(handle))
            with os.fdopen(write_fd, "w") as out:
                json.dump(sorted(set(sys.modules) - before), out)
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd) as answers:
        text = answers.read()
    _, status = os.waitpid(pid, 0)
    imported = 0
    for name in json.loads(text or "[]"):
        if name not in sys.modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)
                imported += 1
    gc.collect()
    return os.waitstatus_to_exitcode(status), time.perf_counter() - started, imported


def _sample_ingest(handle: Handler) -> int:
    from pipelines.run.samples import write_samples

    with tempfile.TemporaryDirectory(prefix="budgetwh-serve-warm-") as scratch:
        pdf = next(p for p in write_samples(Path(scratch) / "in") if p.suffix == ".pdf")
        _set_environment({k: v for k, v in wire.carried_environment().items() if k not in wire.CARRIED_NAMES})
        _use_inherited_fork_server()
        from pipelines.publish.gate_process import inherit_gate_process

        inherit_gate_process()
        return int(handle(["ingest", "--warehouse", str(Path(scratch) / "wh.duckdb"), str(pdf)]) or 0)


def native_threads() -> int:
    """Threads of this process, native ones included (a fork copies only the one that forks)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _use_inherited_fork_server() -> None:
    """In a fork: the parse workers' fork server was started by the server, whose child it is;
    ``multiprocessing`` checks it is running with ``waitpid``, which only a parent may call. Here
    it is checked by pid instead (a dead one is replaced as before)."""
    from multiprocessing import forkserver, resource_tracker

    server = forkserver._forkserver
    pid = server._forkserver_pid
    if pid is None:
        return
    original = server.ensure_running

    def ensure_running() -> None:
        if server._forkserver_pid == pid:
            try:
                os.kill(pid, 0)
                resource_tracker.ensure_running()
                return
            except ProcessLookupError:  # it died: this process starts its own
                with contextlib.suppress(OSError):
                    os.close(server._forkserver_alive_fd)
                server._forkserver_pid = server._forkserver_address = server._forkserver_alive_fd = None
        original()

    server.ensure_running = ensure_running
    forkserver.ensure_running = ensure_running


def _set_environment(carried: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith(wire.CARRIED_PREFIXES) or k in wire.CARRIED_NAMES]:
        del os.environ[key]
    os.environ.update(carried)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)  # as the interpreter prints sys.exit("message")
    return 1


def _profiled(handle: Handler, argv: list[str]) -> int:
    """``handle(argv)``, under cProfile into the file ``BUDGETWH_SERVE_PROFILE`` names (the client's
    setting: where a served run's time goes)."""
    target = os.environ.get("BUDGETWH_SERVE_PROFILE")
    if not target:
        return handle(argv)
    import cProfile

    # a target ending in ".cpu": CPU seconds of this process (what it computes, not what it waits for)
    profile = cProfile.Profile(time.process_time) if target.endswith(".cpu") else cProfile.Profile()
    try:
        return profile.runcall(handle, argv)
    finally:
        profile.dump_stats(target)


def run_in_fork(req: Request, handle: Handler, close: list) -> None:
    """The fork's side of a request: become the client's process, run the command, report the
    exit code, exit. Never returns."""
    code = 1
    try:
        atexit._clear()  # the server's exit handlers (its gate process, its pools) are not this process's
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        for item in close:  # the server's listening socket, lock and queued clients are not this run's
            with contextlib.suppress(OSError):
                os.close(item) if isinstance(item, int) else item.close()
        for target, fd in zip((0, 1, 2), req.fds, strict=False):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdout.reconfigure(line_buffering=os.isatty(1))
        sys.stderr.reconfigure(line_buffering=True)
        request = req.request
        os.chdir(request["cwd"])
        os.umask(int(request.get("umask", 0o022)))
        _set_environment(request.get("env") or {})
        time.tzset()  # the client's TZ, if it sent one
        _use_inherited_fork_server()
        from pipelines.publish.gate_process import inherit_gate_process

        inherit_gate_process()
        try:
            code = int(_profiled(handle, list(request["argv"])) or 0)
        except SystemExit as exc:
            code = _exit_code(exc)
        except KeyboardInterrupt:
            traceback.print_exc()
            code = 130
        except BaseException:
            traceback.print_exc()
            code = 1
    finally:
        try:
            with contextlib.suppress(Exception):
                atexit._run_exitfuncs()  # the run's own (registered in this fork)
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            # Once the client has its exit code it leaves, and the server takes that for Ctrl-C: the
            # interrupt it then sends must find the run over.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            wire.send_answer(req.sock, {"exit": code})
        finally:
            os._exit(code & 0xFF)  # never back into the server's loop, whatever happened
