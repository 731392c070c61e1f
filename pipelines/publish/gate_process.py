"""The quality gate in a process of its own, warmed while the run starts.

Importing Great Expectations and registering its suites costs ~2.3 s of CPU, validating the
suites of a small warehouse ~2 s more: most of a one-document run. In the run's own process that
cost is serial (a thread only fills the seconds the run waits for its parse workers, and competes
for the interpreter otherwise). ``start_gate_process`` starts a child process at the beginning
of ``budgetwh ingest``; it imports GE and registers the suites on the machine's other core while
the run sets Dagster up and parses, then waits for the candidate warehouse. ``validate_warehouse``
hands the gate (``pipelines.publish.gate.validate_warehouse``, unchanged) to that process when
there is one, and runs it here otherwise: the gate itself is the same, only where it runs differs.
``submit_validation`` asks without waiting: the run screens the candidate and reads its counts and
previews while the gate runs, and takes the outcomes when it needs them (``PendingGate``).

Once GE is loaded the child forks a helper (``BUDGETWH_GATE_PROCESSES``, default 2 on two cores
or more), before it opens any DuckDB connection and with only its main thread running: each
request's suites are shared between the two through a queue (``gate_queue.py``: each takes the
next suite, largest first, when it is free), the outcomes merged in the suites' order, and the
warehouse-wide constraints checked once over the whole. GE validates in one thread, so with a
free core this halves the gate of a small run; on a busy machine (``split_pays``) the child
validates alone. Whether a core is free is measured over the
moments just before the request (``CpuWindow``: the machine's busy time from ``/proc/stat`` less
the asking run's own), not taken from the 1-minute load average, which a run's own processes raise.
If the helper dies its share is validated in the child.

The child reads requests from its standard input and writes answers to a dedicated pipe (pickle;
what GE prints is discarded). It exits when its standard input closes, so it never
outlives the process that started it. If it dies, or fails, the gate runs here instead: the same
error is then raised with its context, and a run is never published unvalidated.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from pipelines.publish import gate_queue
from pipelines.publish.lake import pid_alive

_log = logging.getLogger("budgetwh")

# Settings the gate reads from the environment: sent with every request, so that a variable
# set after the child started (a test's monkeypatch, a run's own flags) applies there too.
ENV_PREFIXES = ("BUDGETWH_",)


class GateProcess:
    """A child process with Great Expectations loaded that runs the gate on request."""

    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        env = {**os.environ, "BUDGETWH_GATE_ANSWER_FD": str(write_fd)}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.publish.gate_process"],
            stdin=subprocess.PIPE,
            # Not the run's streams: what GE warns goes nowhere (a failure comes back as a traceback),
            # and a reader of the run's output is not kept waiting by this process after the run.
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(write_fd,),
            env=env,
        )
        os.close(write_fd)
        self._answers = os.fdopen(read_fd, "rb")
        self._lock = threading.Lock()
        self._owner = os.getpid()
        self._requests = 0

    @property
    def alive(self) -> bool:
        if self._owner != os.getpid():  # used by a fork of its parent (``inherit_gate_process``): not our child
            return pid_alive(self._proc.pid)
        return self._proc.poll() is None

    def validate_warehouse(self, db_path: Path, **kwargs) -> dict:
        """``gate.validate_warehouse(db_path, **kwargs)`` in the child; raises ``GateProcessError``
        when the child could not answer (died, or the gate raised there)."""
        return self.submit(db_path, **kwargs)()

    def submit(self, db_path: Path, **kwargs):
        """Send the request and return at once; calling the returned function waits for the answer
        (``GateProcessError`` as above). This process's requests are asked one at a time: the lock
        is held from here until the answer is read, or the request abandoned."""
        env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES)}
        self._lock.acquire()
        # Each request is numbered and its answer names it: an answer to a request whose asker gave
        # up (abandoned, or a fork of ``budgetwh serve`` stopped mid-gate) is read past, never taken.
        self._requests += 1
        request_id = f"{os.getpid()}-{self._requests}"
        try:
            pickle.dump(("validate_warehouse", str(db_path), kwargs, env, request_id), self._proc.stdin)
            self._proc.stdin.flush()
        except BaseException as exc:
            self._lock.release()
            if isinstance(exc, OSError):
                raise GateProcessError(f"the gate process stopped ({exc!r}, exit code {self._proc.poll()})") from exc
            raise
        done = False

        def answer(abandon: bool = False) -> dict | None:
            nonlocal done
            if done:
                raise RuntimeError("the gate's answer was taken already")
            done = True
            try:
                if abandon:  # the next request reads past this one's answer
                    return None
                while True:
                    status, value, *answered = pickle.load(self._answers)
                    if answered == [request_id]:
                        break
            except (OSError, EOFError, pickle.UnpicklingError) as exc:
                raise GateProcessError(f"the gate process stopped ({exc!r}, exit code {self._proc.poll()})") from exc
            finally:
                self._lock.release()
            if status != "ok":
                raise GateProcessError(value)
            return value

        return answer

    def close(self) -> None:
        if self._owner != os.getpid():  # a fork's copy: the process that started it closes it
            return
        try:
            if self._proc.stdin:
                self._proc.stdin.close()  # the child's loop ends at EOF
            self._proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
        self._answers.close()


class GateProcessError(RuntimeError):
    pass


_process: GateProcess | None = None
_process_pid: int | None = None  # the process that started it (a forked child must not use it)


def start_gate_process() -> GateProcess | None:
    """Start the gate's process (once per process; a no-op when it runs). ``BUDGETWH_GATE_PROCESS=0``
    keeps the gate in the run's process."""
    global _process, _process_pid
    if os.environ.get("BUDGETWH_GATE_PROCESS", "1") == "0":
        return None
    if _process is not None and _process_pid == os.getpid() and _process.alive:
        return _process
    try:
        _process, _process_pid = GateProcess(), os.getpid()
    except OSError as exc:  # no process could be started: the gate runs in this one
        _log.warning("could not start the quality gate's process (%s): validating in this one", exc)
        _process = None
        return None
    atexit.register(stop_gate_process)
    return _process


def inherit_gate_process() -> bool:
    """In a fork of the process that started the gate's process (``budgetwh serve`` runs each
    request in one): use it from here, as the only process that asks it while this one lives.
    True when there is one."""
    global _process_pid
    if _process is None or not _process.alive:
        return False
    _process_pid = os.getpid()
    return True


def gate_process_running() -> bool:
    return _process is not None and _process_pid == os.getpid() and _process.alive


def stop_gate_process() -> None:
    global _process
    if _process is not None and _process_pid == os.getpid():
        _process.close()
    _process = None


def validate_warehouse(db_path: Path, **kwargs) -> dict:
    """The quality gate on ``db_path``: in the gate's process when one runs, else here."""
    return submit_validation(db_path, **kwargs).result()


class CpuWindow:
    """The cores other processes kept busy between its start and ``others_busy()``: the machine's
    busy time (``/proc/stat``, every CPU) less this process's own (all its threads). Started just
    before the run builds its candidate, read when it asks for the gate: the run's parse workers are
    done by then and the gate's processes wait, so what is left is other people's work. The gate's
    helper pays when a core is left for it, whatever the load average says: that average counts the
    run's own processes (the parse, the build), and lags by a minute."""

    MIN_SECONDS = 0.1  # shorter windows hold too few clock ticks (100 a second per CPU) to say anything

    def __init__(self) -> None:
        self._start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, int, int, float] | None:
        """(wall, busy ticks, all ticks, own CPU seconds), or None where ``/proc/stat`` is not."""
        try:
            with open("/proc/stat", "rb") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
        return time.monotonic(), sum(fields[:8]) - idle, sum(fields[:8]), time.process_time()

    def others_busy(self) -> float | None:
        """Cores kept busy by other processes over the window, or None when it cannot be told."""
        end = self._sample()
        if self._start is None or end is None or end[0] - self._start[0] < self.MIN_SECONDS:
            return None
        wall, busy, total = end[0] - self._start[0], end[1] - self._start[1], end[2] - self._start[2]
        if total <= 0:
            return None
        cores = os.cpu_count() or 1
        own = (end[3] - self._start[3]) / wall
        return max(0.0, busy / total * cores - own)


def free_cores(others_busy: float) -> float:
    """Cores this process may use that other processes leave free."""
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    return max(0.0, min(usable, (os.cpu_count() or 1) - others_busy))


class PendingGate:
    """The gate of one candidate, asked of the gate's process and not yet answered: the run does
    other work (the screen, counts, previews) while the gate runs on the other core. ``window``
    (a ``CpuWindow`` started before the candidate was built) tells the gate's process how many
    cores others leave free, which decides whether it splits the suites with its helper."""

    def __init__(self, db_path: Path, kwargs: dict, window: CpuWindow | None = None) -> None:
        self.db_path, self.kwargs = Path(db_path), kwargs
        self._answer = None
        self.free_cores: float | None = None  # as measured at the request (None: not measured)
        if gate_process_running():
            others = window.others_busy() if window is not None else None
            if others is not None:
                self.free_cores = free_cores(others)
                kwargs = {**kwargs, FREE_CORES_KEY: self.free_cores}
            try:
                self._answer = _process.submit(db_path, **kwargs)
            except GateProcessError as exc:
                _fall_back(exc)

    def result(self) -> dict:
        """The outcomes (``gate.validate_warehouse``), from the gate's process or computed here."""
        from pipelines.publish import gate

        if self._answer is not None:
            answer, self._answer = self._answer, None
            try:
                return answer()
            except GateProcessError as exc:
                _fall_back(exc)
        return gate.validate_warehouse(self.db_path, **self.kwargs)

    def abandon(self) -> None:
        """The candidate is not the one to validate any more (the screen quarantined a document)."""
        if self._answer is not None:
            self._answer(abandon=True)
            self._answer = None


def _fall_back(exc: Exception) -> None:
    _log.warning("the quality gate's process failed (%s): validating in this process", exc)
    stop_gate_process()


def submit_validation(db_path: Path, window: CpuWindow | None = None, **kwargs) -> PendingGate:
    """Start the quality gate on ``db_path`` (in the gate's process when one runs; else it runs
    here when its result is asked for). ``window``: see ``PendingGate``."""
    return PendingGate(db_path, kwargs, window)


def gate_processes() -> int:
    """Processes the gate's suites may be split between (``BUDGETWH_GATE_PROCESSES``; default: 2 on
    a machine with two cores or more)."""
    configured = os.environ.get("BUDGETWH_GATE_PROCESSES")
    return max(1, int(configured)) if configured else min(2, os.cpu_count() or 1)


# The request's measure of the cores other processes leave free (``CpuWindow``), for ``split_pays``.
FREE_CORES_KEY = "_free_cores"
# The helper pays with a core at least mostly free: the run's own screen and previews share the
# machine with the two halves for part of the gate, and halves on a saturated machine only add
# their set-up (measured at load 7 on 2 cores: 1.7–2.1 s split against 1.3–1.9 s whole).
SPLIT_MIN_FREE_CORES = 0.75


def split_pays(free: float | None = None) -> bool:
    """Whether a request is split with the helper: always when ``BUDGETWH_GATE_PROCESSES`` asks for
    it; else when the asking run measured ``free`` cores left by others (``CpuWindow``), when at
    least ``SPLIT_MIN_FREE_CORES`` are; else (no measure) when the 1-minute load average is below
    the cores less one half."""
    if os.environ.get("BUDGETWH_GATE_PROCESSES"):
        return gate_processes() > 1
    if free is not None:
        return free >= SPLIT_MIN_FREE_CORES
    try:
        return os.getloadavg()[0] < (os.cpu_count() or 1) - 0.5
    except OSError:
        return False


class _Helper:
    """A fork of the warmed gate process that validates a share of the suites: GE validates one
    suite at a time in one thread, so a second process halves the gate's wall time when a core is
    free. Forked once, right after GE is loaded and before any DuckDB connection is opened, with
    only the main thread running."""

    def __init__(self, close_in_child: list[int]) -> None:
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        self.queue_r, self.queue_w = gate_queue.open_queue()  # the suites both processes take from
        self.pid = os.fork()
        if self.pid == 0:  # the helper: answer until the gate process closes its requests
            os.close(requests_w)
            os.close(answers_r)
            os.close(self.queue_w)
            for fd in close_in_child:  # the run's pipes: only the gate process answers the run
                os.close(fd)
            _answer_requests(os.fdopen(requests_r, "rb"), os.fdopen(answers_w, "wb"), queue=self.queue_r)
            os._exit(0)
        os.close(requests_r)
        os.close(answers_w)
        self._requests = os.fdopen(requests_w, "wb")
        self._answers = os.fdopen(answers_r, "rb")

    def submit(self, db_path: str, kwargs: dict, env: dict) -> bool:
        try:
            pickle.dump(("validate_warehouse", db_path, kwargs, env), self._requests)
            self._requests.flush()
            return True
        except OSError:
            return False

    def close(self) -> None:
        """End the helper (its requests close) and wait for it."""
        with contextlib.suppress(OSError):
            self._requests.close()
        with contextlib.suppress(OSError, ChildProcessError):
            os.waitpid(self.pid, 0)

    def result(self) -> tuple[str, object] | None:
        """The helper's answer, or None when it died."""
        try:
            return pickle.load(self._answers)
        except (OSError, EOFError, pickle.UnpicklingError):
            with contextlib.suppress(OSError):
                os.waitpid(self.pid, os.WNOHANG)  # reaped, not left a zombie
            return None


def _set_env(env: dict) -> None:
    for k in [k for k in os.environ if k.startswith(ENV_PREFIXES)]:
        if k not in env:
            del os.environ[k]
    os.environ.update(env)


# A request to the helper: take suites from the shared queue (their names, in the queue's order).
QUEUE_KEY = "_queue"


def _validate(db_path: str, kwargs: dict, helper: _Helper | None, queue: int | None = None) -> tuple[dict, bool]:
    """The gate over every suite, shared with ``helper`` through the queue (``gate_queue.py``);
    returns the outcomes (in the suites' order, as one process gives them) and whether the helper
    is still usable. In the helper (``queue``: its end of the queue) a request names the queue's
    suites, and the helper validates those it takes."""
    from pipelines.publish import gate

    free = kwargs.pop(FREE_CORES_KEY, None)
    names = kwargs.pop(QUEUE_KEY, None)
    if names is not None and queue is not None:
        return gate.validate_warehouse(Path(db_path), **kwargs, suites=gate_queue.take(queue, names)), False
    if helper is None or kwargs.get("suites") is not None or not split_pays(free):
        return gate.validate_warehouse(Path(db_path), **kwargs), helper is not None
    names = gate_queue.by_work()
    gate_queue.fill(helper.queue_w, names)  # before the helper is asked: it never finds the queue empty
    part = {**kwargs, QUEUE_KEY: names, "constraints": False}
    env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES)}
    submitted = helper.submit(db_path, part, env)
    try:
        mine = gate_queue.take(helper.queue_r, names)
        out = gate.validate_warehouse(Path(db_path), **{**kwargs, "suites": mine, "constraints": False})
    finally:  # read even when this share raised: the next request must not get this answer
        answer = helper.result() if submitted else None
        gate_queue.drain(helper.queue_r)  # nobody takes from it now: what is left goes
    if answer is None:  # the helper died: the suites it did not answer for are validated here
        other = gate.validate_warehouse(Path(db_path), **{**kwargs, "constraints": False},
                                        suites=[n for n in names if n not in out])  # fmt: skip
    elif answer[0] != "ok":
        raise GateProcessError(f"the gate's helper process failed:\n{answer[1]}")
    else:
        other = answer[1]
    both = {**out, **other}
    merged = {name: both[name] for name in gate.suite_names() if name in both}
    gate.check_constraints(Path(db_path), merged, kwargs.get("scope"))
    return merged, answer is not None


def _answer_requests(requests, answers, helper: _Helper | None = None, queue: int | None = None) -> None:
    while True:
        try:
            verb, db_path, kwargs, env, *request_id = pickle.load(requests)
        except EOFError:
            return
        _set_env(env)
        try:
            if verb != "validate_warehouse":
                raise ValueError(f"unknown request {verb!r}")
            outcomes, usable = _validate(db_path, kwargs, helper, queue)
            helper = helper if usable else None
            answer = ("ok", outcomes)
        except BaseException:  # reported to the parent, which validates itself and raises it there
            answer = ("error", traceback.format_exc(limit=8))
        try:
            pickle.dump((*answer, *request_id), answers)
            answers.flush()
        except OSError:  # nobody is waiting any more
            return


def _serve() -> None:
    """The child: load GE and the suites, fork a helper, then answer requests until standard
    input closes."""
    answers = os.fdopen(int(os.environ.pop("BUDGETWH_GATE_ANSWER_FD")), "wb")
    from pipelines.publish import gate  # noqa: F401  (loaded before the fork: the helper has it too)
    from pipelines.validate.expectations import preload_quality_engine, wait_for_preload

    preload_quality_engine()
    wait_for_preload()
    helper = None
    if gate_processes() > 1:
        try:
            helper = _Helper(close_in_child=[answers.fileno(), sys.stdin.fileno()])
        except OSError:  # no fork: one process validates every suite
            helper = None
    _answer_requests(sys.stdin.buffer, answers, helper)
    if helper is not None:
        helper.close()


if __name__ == "__main__":
    _serve()
    # Without the interpreter's teardown: unwinding Great Expectations' module graph took ~0.8 s,
    # and the run that closed this process waits for it to exit (the answers are flushed already).
    os._exit(0)
