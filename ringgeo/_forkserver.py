"""Notebook kernels forked from one process that has done the batch's fixed work.

Every papermill run starts a new kernel, and every kernel of the standard set
used to import pandas, geopandas, matplotlib and ringgeo again (about 2 s) and
read the parsed-data cache again (:mod:`ringgeo.tablecache`). :func:`ringgeo.runner.run_batch`
therefore starts, on Linux, one *fork server* per batch: a Python process that
imports ipykernel and, when the batch's notebooks import ringgeo, ringgeo's
modules, loads the tables the standard notebooks read for the default snapshot
(:func:`rehearse`) and then waits. Each kernel is a ``fork()`` of it: a copy of
a process that has paid those costs once, made in a few milliseconds, that
runs ``ipykernel`` exactly as ``python -m ipykernel_launcher -f <connection file>``
would, with the environment and working folder jupyter_client asks for.

What a forked kernel computes is what a fresh kernel computes: the in-process
caches it inherits are those every kernel fills on first use, keyed on the
source files, and they hand out copies (the notebooks' outputs are compared
with plain kernels' in ``tests/test_runner.py``). A kernel never inherits
anything of another notebook: every kernel is forked from the server, never
from another kernel.

Details that keep a forked kernel equal to a fresh one:

* matplotlib is imported with ``MPLBACKEND`` set as ipykernel sets it in a
  kernel (the inline backend unless the environment names one), and no figure
  is made in the server, so the backend itself is loaded in the kernel, where
  it hooks into IPython's display as usual;
* PROJ's database connection is opened again in each kernel (an SQLite handle
  must not be shared across ``fork()``);
* the kernel leads its own session (``setsid``: Ctrl-C and ``killpg`` reach it
  and its children) and dies with the server (ipykernel's parent poller);
* it ends as a Python program ends, by its own exit handlers (IPython's
  history, ``weakref.finalize``), and then by the server's last one
  (:func:`_end_of_kernel`), before those it inherited from the server.

What a kernel runs is safe to fork from: the server forks from a single thread.
The thread pools its libraries keep (OpenBLAS's) are ended once it has loaded
(:func:`_end_thread_pools`), and before every fork it checks that it runs no
other thread; if it does, it refuses, and the kernel starts as a new process.

Like a new process, a forked kernel has a real exit status and its own output:
the server reaps the kernels that end and reports each one's status to the
runner (:class:`ForkedProcess` returns it, as ``Popen`` would), and a kernel
writes its standard output and error, and the exception it dies of, to the log
file the runner names (``build/<run>.log``).

The server ends when the batch ends (its standard input closes). A batch
forks when it pays (:func:`worth_it`: more than two runs a job). Set
``RINGGEO_FORK_KERNELS=0`` to start every kernel as a new process instead
(the only way on macOS and Windows, where ``fork()`` of a process that loaded
these libraries is unsafe or missing), ``1`` to fork every batch.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
import warnings

from ._config import FORK_KERNELS_ENV, env_switch

__all__ = ["ENV", "enabled", "forced", "worth_it", "ForkServer", "ForkedProcess", "rehearse",
           "serve"]

#: Environment variable switching forked kernels off: ``0``, ``false``, ``no`` or ``off``.
ENV = FORK_KERNELS_ENV
_INLINE = "module://matplotlib_inline.backend_inline"
# what every kernel imports as it starts, before the notebook's first cell: ipykernel's
# debugger (debugpy: 0.2 s of each kernel's start) and what it needs; importing them
# starts no thread and opens nothing
_KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "pdb",
                   "psutil")
# what the standard notebooks import besides, imported once in the server (a kernel
# imported each of them again: 0.05 s a kernel)
_NOTEBOOK_MODULES = ("ringgeo.plot", "ringgeo.lookup", "ringgeo.tables", "ringgeo.stack",
                     "ringgeo.atlas", "ringgeo.demographics", "ringgeo.export", "ringgeo.params",
                     "pandas.io.formats.style")
# what some notebooks import on first use, imported by the server once it is ready,
# while it waits for requests (:func:`serve`): the web map (folium and branca, 0.2 s),
# which two standard runs draw. The first kernels of a batch start that much sooner; a
# kernel forked before it is loaded imports it when it needs it.
_DEFERRED = ("ringgeo.plot._explore",)
# ... and mapclassify (scipy.stats and scikit-learn, 0.6 s), which computes class breaks
# that are not in the parsed-data cache: imported too when the server found that cache
# cold (it built tables), as the kernels will then compute breaks as well. A warm batch
# reads them all, and importing it would only take a core from the first kernels.
# (statsmodels, for notebook 08's model, is likewise only imported on a cold cache, by
# the kernel that computes the model)
_DEFERRED_COLD = ("mapclassify",)
# how long the server waits for the next request before it loads a deferred module: the
# runner asks for its first kernels one after another, right after the server is ready
_IDLE = 0.1
# sys.path of a kernel before IPython adds its working folder: the server's, without
# the folder ``python -m`` put first (ipykernel_launcher removes it the same way)
_KERNEL_PATH: list[str] = []


def enabled() -> bool:
    """Whether batches may fork their kernels (Linux, unless ``RINGGEO_FORK_KERNELS=0``)."""
    return env_switch(ENV) is not False and sys.platform.startswith("linux") \
        and hasattr(os, "fork")


def forced() -> bool:
    """Whether ``RINGGEO_FORK_KERNELS`` asks for forked kernels for every batch, however small."""
    return enabled() and env_switch(ENV) is True


def worth_it(runs: int, jobs: int) -> bool:
    """Whether forking pays for a batch of ``runs`` notebooks run ``jobs`` at a time.

    The server takes a few seconds to load before the first kernel, and saves
    about 2.5 s in every kernel after it: it pays when each job slot runs more
    than two notebooks (the standard set: 13 runs). A single run (``--only``,
    ``refresh_notebook``) starts a new kernel process, which is quicker.
    ``RINGGEO_FORK_KERNELS=1`` forks every batch.
    """
    return enabled() and (forced() or runs > 2 * jobs)


def rehearse() -> None:
    """Load what the standard notebooks read for the default snapshot, in this process.

    Runs in the fork server before the first kernel: the linked partners, the
    geography, the agencies and the ZIP codes (from the parsed-data cache,
    building it when empty), the coverage tables and the residents each agency
    polices first (read from that cache once stored), the national maps' geometry
    and the modules the notebooks import. Every kernel forked afterwards finds them
    in the in-process caches that a kernel fills on first use anyway; the web map's
    libraries (and, on a cold cache, the class breaks') follow once the server is
    ready (:func:`_deferred`). What one
    notebook alone needs (a lookup's indexes) is left to it: here it would delay
    every kernel. No figure is drawn (the kernel's matplotlib backend must load
    in the kernel).
    """
    # imported here, in the server process only: the runner that imports this module
    # never loads the data libraries (pandas, geopandas: several seconds)
    from . import _warm, agencies, coverage, geography, partners, postal

    # what the notebooks import as they run (ringgeo's modules are imported on first
    # use, pandas' Styler by every table they display): a few hundredths of a second each
    for name in _NOTEBOOK_MODULES:
        importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notebooks show the data's warnings
        _warm.warm()
        linked = partners.load_partners()
        for load in (geography.load_states, geography.load_counties,
                     geography.load_municipalities, geography.load_municipality_parts,
                     geography.load_mcd_place_overlaps, agencies.load_agencies,
                     postal.load_postal_codes):
            load()
        coverage.by_state(linked)  # read from the parsed-data cache once stored
        coverage.by_county(linked)
        agencies.with_partners(linked)
        # the residents each agency polices first, which the web maps' popups give
        # (read from the parsed-data cache once stored)
        from .plot import _choropleth, _mappoints

        _mappoints.population_policed([])
        # the national maps' composite geometry (Alaska, Hawaii and Puerto Rico moved):
        # nine standard runs draw one (0.04 s each)
        for level in ("state", "county"):
            _choropleth._geometry(level)  # memoized: what every kernel would compute


def _as_in_a_kernel() -> None:
    """Set what libraries decide when imported, as they decide it inside a kernel.

    pandas chooses ``display.max_columns`` when imported: 0 (fit the terminal's
    width) outside a Jupyter kernel, 20 inside (``pandas/core/config_init.py``);
    imported here, before any kernel exists, it would choose 0 and a forked
    kernel's tables would print differently from a fresh kernel's.
    """
    pandas = sys.modules.get("pandas")
    if pandas is not None and pandas.get_option("display.max_columns") == 0:
        pandas.set_option("display.max_columns", 20)


def _own_state() -> None:
    """In a forked kernel: what each process must not share with its siblings.

    Python's ``random`` reseeds itself after ``fork()``; numpy's global generator
    does not, and would give every forked kernel the same "random" numbers,
    where fresh kernels each draw a new seed. PROJ's database connection (SQLite)
    must not be used by two processes: each kernel opens its own.
    """
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()
    if "pyproj" in sys.modules:
        from pyproj import datadir

        datadir.set_data_dir(datadir.get_data_dir())


def _os_threads() -> list[str]:
    """Return the names of this process's OS threads (``/proc/self/task``), main thread first."""
    names = []
    for task in sorted(os.listdir("/proc/self/task"), key=lambda t: (t != str(os.getpid()), t)):
        try:
            with open(f"/proc/self/task/{task}/comm", encoding="utf-8") as comm:
                names.append(comm.read().strip())
        except OSError:  # the thread ended meanwhile
            pass
    return names


def _end_thread_pools() -> None:
    """End the thread pools the loaded libraries keep, so the server forks from one thread.

    numpy's and scipy's OpenBLAS keep a pool of worker threads once used (one
    per core but the first). OpenBLAS ends its pool itself at every ``fork()``
    (its ``pthread_atfork`` handler) and starts it again only on its next use.
    A throwaway child, ending at once, makes that happen now; the server then
    runs no numerical code, so each kernel is forked from a single thread
    (:func:`serve` checks that before every fork).
    """
    if len(_os_threads()) > 1:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)


def _threads_in_the_way() -> tuple[int, str | None]:
    """Return the OS threads this process runs, and why it must not fork now (or None)."""
    names = _os_threads()
    if len(names) > 1 or threading.active_count() > 1:
        python = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        return len(names), (
            f"the fork server runs {len(names)} OS threads ({', '.join(names)}; Python "
            f"threads besides the main one: {', '.join(python) or 'none'}), and forking a "
            "process that runs threads may deadlock its child")
    return len(names), None


# Set in a forked kernel when its kernel ends; the exit status :func:`_end_of_kernel` ends it with.
_EXIT_STATUS = 0
# The fork server's process id: :func:`_end_of_kernel` acts in its children only.
_SERVER_PID = -1
# A forked kernel's own copy of its log file (its standard output and error are made
# ipykernel's pipes while it runs); where the exception a kernel dies of is written.
_LOG_FD = -1


def _end_of_kernel() -> None:
    """End a forked kernel after its own exit handlers (the server's last exit handler).

    Exit handlers run last registered first. A kernel registers its own (IPython's
    history, temporary folders) after it was forked, and they run first; this
    one, registered when the server had loaded, ends the kernel then, with its
    exit status, before the handlers it inherited from the server (which would,
    for example, delete the server's files) and before the interpreter tears down
    every module the server loaded, which a kernel has no need of.
    """
    if os.getpid() == _SERVER_PID:
        return
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(_EXIT_STATUS)


def _report_death(message: str) -> None:
    """In a forked kernel: write why it ends to its log (the runner names the log)."""
    if _LOG_FD >= 0:
        try:
            os.write(_LOG_FD, message.encode("utf-8", "replace"))
        except OSError:
            pass


def _become_kernel(request: dict, server_pid: int, server_fds: tuple) -> None:
    """In a forked child: run ipykernel as ``python -m ipykernel_launcher`` would.

    Never returns: raises ``SystemExit`` with the kernel's exit status, which
    unwinds the server's loop and ends the process the way a Python program ends,
    by its exit handlers: the kernel's own, then :func:`_end_of_kernel`.
    """
    global _EXIT_STATUS, _LOG_FD
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for fd in server_fds:  # the server's own pipes: the kernel has no use for them
            os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the kernel's subprocesses are waited for
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        try:  # what the kernel prints outside the notebook (and what it dies of) goes here
            log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        except (KeyError, TypeError, OSError):
            log = os.open(os.devnull, os.O_WRONLY)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # never the server's pipes
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        _LOG_FD = log
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        _own_state()
        sys.path[:] = _KERNEL_PATH  # without the server's folder; IPython adds the kernel's
        argv = list(request["argv"]) + [f"--IPKernelApp.parent_handle={server_pid}"]
        sys.argv = [request["launcher"], *argv]
        from ipykernel import kernelapp

        kernelapp.IPKernelApp.launch_instance(argv=argv)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        if code:
            _report_death(f"[ringgeo] the kernel exited: SystemExit({stop.code!r})\n")
    except BaseException:  # noqa: B036 - a forked child must never return into the server
        code = 1
        _report_death("[ringgeo] the kernel died of an exception:\n" + traceback.format_exc())
    _without_socket_teardown()
    _EXIT_STATUS = code
    raise SystemExit(code)


def _without_socket_teardown() -> None:
    """In a forked kernel that has ended: drop ipykernel's orderly closing of its sockets.

    ``IPKernelApp.close`` (an exit handler) stops the IOPub thread and then joins
    the control thread. In about one kernel in four (ipykernel 7.4) the control
    thread is then still flushing output through the IOPub thread just stopped,
    and the join waits until the runner terminates the kernel, 0.5 s later. The
    notebook has run and the shutdown is answered by then, and the process ends
    right after this, which closes every socket; so the kernel skips it.
    """
    kernelapp = sys.modules.get("ipykernel.kernelapp")
    if kernelapp is not None and kernelapp.IPKernelApp.initialized():
        atexit.unregister(kernelapp.IPKernelApp.instance().close)


def _send(out, message: dict) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def _report_exits(out) -> None:
    """Reap the kernels that have ended; tell the runner their exit status."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # no child left
            return
        if pid == 0:  # none has ended
            return
        # as subprocess reports it: the exit code, or minus the signal that ended it
        _send(out, {"exit": pid, "status": os.waitstatus_to_exitcode(status)})


def _load(preload: list[str]) -> None:
    """Prepare the server for its first fork (see :func:`serve`)."""
    os.environ.setdefault("MPLBACKEND", _INLINE)  # as ipykernel sets it, before matplotlib
    # imported as a kernel imports them: warning filters that modules add when
    # imported stay (no catch_warnings here), and what they print goes nowhere
    for name in _KERNEL_MODULES:
        importlib.import_module(name)
    for name in preload:
        importlib.import_module(name)
    if "ringgeo" in preload:
        rehearse()
    _as_in_a_kernel()
    _settle()


def _settle(*, strict: bool = True) -> None:
    """Make the server fit to fork from after loading: one thread, what is loaded frozen.

    ``strict``: a thread still running is an error (the server cannot start); else it
    is left to :func:`serve`, which checks before every fork and refuses to fork.
    """
    _end_thread_pools()
    _, why = _threads_in_the_way()
    if why and strict:
        raise RuntimeError(why)
    # what is loaded now lives as long as the server: the kernels' garbage collections
    # leave it alone (they walked all of it, up to 0.6 s each, and wrote to its pages)
    gc.freeze()


def _deferred(preload: list[str]) -> list[str]:
    """Return the modules the server imports once ready (:data:`_DEFERRED`), in order."""
    if "ringgeo" not in preload:
        return []
    from . import tablecache

    return list(_DEFERRED) + (list(_DEFERRED_COLD) if tablecache.built() else [])


def _load_deferred(name: str) -> None:
    """Import a module of :data:`_DEFERRED` while no kernel is asked for.

    Imported as :func:`_load` imports (no warnings caught). A module that cannot be
    imported is left to the kernels, which then say why in their notebook.
    """
    try:
        importlib.import_module(name)
    except Exception:  # noqa: BLE001 - the kernel that imports it reports the error
        return
    # a thread the import left running makes the next fork refuse, and that kernel
    # starts as a new process
    _settle(strict=False)


def serve(preload: list[str]) -> None:
    """Run the fork server's main loop (:func:`main`).

    Imports ipykernel and ``preload``, runs :func:`rehearse` when ringgeo is among
    them, ends the libraries' thread pools (:func:`_end_thread_pools`) and prints
    ``{"ready": true}`` (or ``{"error": ...}``). Then, for each JSON request read
    from standard input (``argv``, ``cwd``, ``env``, ``launcher``, ``log``), it
    forks a kernel and prints ``{"pid": N, "threads": 1}`` (the OS threads it ran
    as it forked), or ``{"refused": why}`` when it runs other threads; and for
    each kernel that ends, ``{"exit": N, "status": S}``, S being the kernel's
    exit code, or minus the signal that ended it. Ends at the end of its input.
    Once ready, it imports the modules of :func:`_deferred` whenever no request
    has come for :data:`_IDLE` seconds.
    """
    global _SERVER_PID
    out = sys.stdout
    sys.stdout = sys.stderr  # anything the imports print must not reach the protocol
    try:
        _load(preload)
    except BaseException as err:  # noqa: B036 - reported to the runner, which raises it
        _send(out, {"error": f"{type(err).__name__}: {err}"})
        raise SystemExit(1) from None
    _SERVER_PID = os.getpid()
    atexit.register(_end_of_kernel)  # the last: in a kernel, the first of the server's to run
    # A kernel that ends is this process's child: it is reaped and its status reported.
    # SIGCHLD writes to a pipe that the loop waits on beside its input (no thread).
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(wake_write)
    _send(out, {"ready": True})
    stdin = sys.stdin.fileno()
    pending = b""
    deferred = _deferred(preload)
    while True:
        _report_exits(out)
        readable, _, _ = select.select([stdin, wake_read], [], [], _IDLE if deferred else None)
        if not readable:  # no request for a while: import what a few notebooks need
            _load_deferred(deferred.pop(0))
            continue
        if wake_read in readable:
            while True:
                try:
                    if not os.read(wake_read, 512):
                        break
                except BlockingIOError:
                    break
        if stdin not in readable:
            continue
        chunk = os.read(stdin, 1 << 16)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            threads, why = _threads_in_the_way()  # the last thing before the fork
            if why:
                _send(out, {"refused": why})
                continue
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _become_kernel(request, _SERVER_PID, (wake_read, wake_write))
            _send(out, {"pid": pid, "threads": threads})
    # the batch is over: nothing to save, and tearing down the loaded libraries and tables
    # one by one, as a normal exit does, kept the runner waiting 1.5 s
    _report_exits(out)
    sys.stderr.flush()
    os._exit(0)


class ForkedProcess:
    """A kernel forked by the server, seen by jupyter_client as a ``Popen``.

    The kernel is the server's child, not this process's: the server reaps it
    when it ends and reports its exit status (the code it exited with, or minus
    the signal that ended it, as ``Popen.returncode``), which :meth:`poll` and
    :meth:`wait` return. Only when the server has ended before the kernel is
    the status lost: the kernel is then polled by signal 0 and ``returncode``
    is -1 once it has ended.

    Parameters
    ----------
    pid : int
        The kernel's process id.
    server : ForkServer
        The server it was forked from.
    threads : int
        The OS threads the server ran when it forked the kernel (1: only its own).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int, server: "ForkServer", threads: int = 1):
        self.pid = pid
        self.threads_at_fork = threads
        self.returncode = None
        self._server = server

    def poll(self):
        """Return the kernel's exit status, or None while it runs."""
        if self.returncode is None:
            status = self._server.exit_status(self.pid)
            if status is not None:
                self.returncode = status
            elif self._server.ended:  # orphaned: its status went to whoever adopted it
                try:
                    os.kill(self.pid, 0)
                except (ProcessLookupError, PermissionError):  # ended (the pid may be reused)
                    self.returncode = -1
        return self.returncode

    def wait(self, timeout=None):
        """Wait until the kernel ends; return its exit status.

        Raises
        ------
        subprocess.TimeoutExpired
            It still runs after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            self._server.wait_for_news(0.05 if left is None else min(left, 0.05))
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkServer:
    """The runner's handle on a fork server: start, fork kernels, stop.

    The server starts loading when this is made, and the runner goes on (it
    checks the batch meanwhile); :meth:`ready` and :meth:`spawn` wait for it.
    A thread of the runner reads what the server says: the answers to its
    requests, and the exit status of each kernel that ends.

    Parameters
    ----------
    preload : list of str
        Modules the server imports before forking (``["ringgeo"]`` also runs
        :func:`rehearse`).
    env : dict
        The server's environment: the one its kernels would get.
    """

    def __init__(self, preload: list[str], env: dict):
        self.preload = list(preload)
        self._lock = threading.Lock()
        self._ready = False
        self._answers: queue.SimpleQueue = queue.SimpleQueue()
        self._exits: dict[int, int] = {}
        self._news = threading.Condition()
        self.ended = False
        self._process = subprocess.Popen(
            [sys.executable, "-c", _START, *preload],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            text=True, start_new_session=True)  # Ctrl-C in the terminal is the runner's
        self._reader = threading.Thread(target=self._read_all, daemon=True,
                                        name=f"ringgeo fork server {self._process.pid}")
        self._reader.start()

    def _read_all(self) -> None:
        """Sort what the server says until it ends (the reader thread)."""
        try:
            for line in self._process.stdout:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if "exit" in message:
                    with self._news:
                        self._exits[int(message["exit"])] = int(message["status"])
                        self._news.notify_all()
                else:
                    self._answers.put(message)
        except (OSError, ValueError):  # its pipe closed under us
            pass
        finally:
            with self._news:
                self.ended = True
                self._news.notify_all()
            self._answers.put(None)

    def exit_status(self, pid: int):
        """Return the exit status the server reported for its kernel ``pid``, or None."""
        with self._news:
            return self._exits.get(pid)

    def wait_for_news(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a kernel to end (or the server)."""
        with self._news:
            if not self.ended:
                self._news.wait(timeout)

    def _answer(self) -> dict:
        while True:
            try:
                answer = self._answers.get(timeout=0.2)  # Ctrl-C is seen between waits
            except queue.Empty:
                continue
            if answer is None:
                self._answers.put(None)  # for whoever asks next
                code = self._process.wait()
                raise RuntimeError(f"the kernel fork server ended (exit status {code})")
            return answer

    def ready(self) -> None:
        """Wait until the server has loaded (it loads while the runner goes on).

        Raises
        ------
        RuntimeError
            The server could not load (its error), or ended; it is stopped.
        """
        if self._ready:
            return
        try:
            answer = self._answer()
        except BaseException:  # Ctrl-C while it loads: it must not outlive the batch
            self.close()
            raise
        if "error" in answer:
            self.close()
            raise RuntimeError(f"the kernel fork server could not start: {answer['error']}")
        self._ready = True

    @property
    def pid(self) -> int:
        return self._process.pid

    def spawn(self, argv: list[str], *, cwd, env: dict, launcher: str,
              log=None) -> ForkedProcess:
        """Fork a kernel running ``launcher argv`` in ``cwd`` with ``env``.

        Parameters
        ----------
        argv : list of str
            The kernel's arguments (``-f <connection file>`` ...).
        cwd : str or Path
            Its working folder.
        env : dict
            Its environment.
        launcher : str
            Its ``sys.argv[0]``: the path of ``ipykernel_launcher``.
        log : str or Path, optional
            The file its standard output and error are appended to (default: none).

        Returns
        -------
        ForkedProcess

        Raises
        ------
        RuntimeError
            The server ended, or would not fork (it runs threads): start the
            kernel as a new process instead.
        """
        request = {"argv": list(argv), "cwd": str(cwd), "env": dict(env), "launcher": launcher,
                   "log": None if log is None else str(log)}
        with self._lock:
            self.ready()
            try:
                self._process.stdin.write(json.dumps(request) + "\n")
                self._process.stdin.flush()
            except OSError as err:  # it ended: the pipe is broken
                raise RuntimeError(f"the kernel fork server ended ({err})") from None
            answer = self._answer()
        if "refused" in answer:
            raise RuntimeError(f"the kernel fork server did not fork: {answer['refused']}")
        return ForkedProcess(int(answer["pid"]), self, int(answer.get("threads", 1)))

    def close(self) -> None:
        """End the server (its kernels end with it, within a second, if still running).

        A server still loading is killed: no kernel came from it yet.
        """
        if not self._ready and self._process.poll() is None:
            self._process.kill()
        try:
            self._process.stdin.close()  # its loop ends at the end of its input
        except OSError:  # it ended already: the pipe is broken
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=10)
        self._process.stdout.close()


# How the runner starts the server: without the current folder on sys.path (which
# ``python -m`` and ``-c`` put first), so that the server imports the ringgeo, and the
# other modules, that a kernel imports (``ipykernel_launcher`` removes its folder too):
# run from a checkout of another version, ``-m`` would import that checkout's.
_START = ("import sys\nif sys.path and sys.path[0] == '': del sys.path[0]\n"
          "from ringgeo._forkserver import main\nmain()")


def main() -> None:
    """Run the server as the runner starts it (``python -c _START MODULE...``).

    ``sys.path`` is then that of a kernel (see :data:`_START`), and the server's
    kernels keep it.
    """
    _KERNEL_PATH[:] = sys.path
    serve(sys.argv[1:])


if __name__ == "__main__":  # python -m ringgeo._forkserver: without the folder -m put first
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    main()
