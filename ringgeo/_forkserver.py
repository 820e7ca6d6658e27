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
  and its children) and dies with the server (ipykernel's parent poller).

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
import signal
import subprocess
import sys
import threading
import warnings
import weakref

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
    building it when empty), the coverage tables' geography and agency roles,
    the agency points, and the class-break and web-map libraries. Every kernel
    forked afterwards finds them in the in-process caches that a kernel fills
    on first use anyway. What one notebook alone needs (a lookup's indexes) is
    left to it: here it would delay every kernel. No figure is drawn (the
    kernel's matplotlib backend must load in the kernel).
    """
    # imported here, in the server process only: the runner that imports this module
    # never loads the data libraries (pandas, geopandas: several seconds)
    from . import _warm, agencies, coverage, geography, partners, postal

    importlib.import_module("mapclassify")  # imported by the maps on first use
    importlib.import_module("folium")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notebooks show the data's warnings
        _warm.warm()
        linked = partners.load_partners()
        for load in (geography.load_states, geography.load_counties,
                     geography.load_municipalities, geography.load_municipality_parts,
                     geography.load_mcd_place_overlaps, agencies.load_agencies,
                     postal.load_postal_codes):
            load()
        coverage.by_state(linked)
        coverage.by_county(linked)
        agencies.with_partners(linked)


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


def _own_exit_handlers() -> None:
    """In a forked kernel: exit handlers of its own, as a new process has.

    The inherited ones (``atexit``, ``weakref.finalize``) are the server's: run
    in a kernel they would, for example, delete the server's temporary files.
    They are dropped; what the kernel registers runs when it ends.
    """
    atexit._clear()
    weakref.finalize._registry.clear()
    weakref.finalize._registered_with_atexit = False


def _become_kernel(request: dict, server_pid: int) -> None:
    """In a forked child: run ipykernel as ``python -m ipykernel_launcher`` would; never return."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the kernel's subprocesses are waited for
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # quiet, as the runner's kernels are; never the server's pipes
            os.dup2(null, fd)
        os.close(null)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        _own_state()
        _own_exit_handlers()
        sys.path[:] = _KERNEL_PATH  # without the server's folder; IPython adds the kernel's
        argv = list(request["argv"]) + [f"--IPKernelApp.parent_handle={server_pid}"]
        sys.argv = [request["launcher"], *argv]
        from ipykernel import kernelapp

        kernelapp.IPKernelApp.launch_instance(argv=argv)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    except BaseException:  # noqa: B036 - a forked child must never return into the server
        code = 1
    finally:
        try:
            _without_socket_teardown()
            atexit._run_exitfuncs()  # the kernel's own (IPython's history, temporary files)
        finally:
            os._exit(code)  # never the server's interpreter shutdown


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


def serve(preload: list[str]) -> None:
    """Run the fork server's main loop (``python -m ringgeo._forkserver MODULE...``).

    Imports ipykernel and ``preload``, runs :func:`rehearse` when ringgeo is among
    them, prints ``{"ready": true}`` and then, for each JSON request read from
    standard input (``argv``, ``cwd``, ``env``, ``launcher``), forks a kernel and
    prints ``{"pid": N}``. Ends at the end of its input.
    """
    out = sys.stdout
    sys.stdout = sys.stderr  # anything the imports print must not reach the protocol
    try:
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
        # what is loaded now lives as long as the server: the kernels' garbage collections
        # leave it alone (they walked all of it, up to 0.6 s each, and wrote to its pages)
        gc.freeze()
    except BaseException as err:  # noqa: B036 - reported to the runner, which raises it
        out.write(json.dumps({"error": f"{type(err).__name__}: {err}"}) + "\n")
        out.flush()
        raise SystemExit(1) from None
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # ended kernels are reaped by the system
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    me = os.getpid()
    for line in sys.stdin:
        request = json.loads(line)
        sys.stderr.flush()
        with warnings.catch_warnings():  # numpy's BLAS thread pool is fork-safe (atfork)
            warnings.filterwarnings("ignore", ".*multi-threaded.*fork", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            _become_kernel(request, me)
        out.write(json.dumps({"pid": pid}) + "\n")
        out.flush()
    # the batch is over: nothing to save, and tearing down the loaded libraries and tables
    # one by one, as a normal exit does, kept the runner waiting 1.5 s
    sys.stderr.flush()
    os._exit(0)


class ForkedProcess:
    """A kernel forked by the server, seen by jupyter_client as a ``Popen``.

    The kernel is the server's child, not this process's: it is polled by
    signal 0 (the server lets the system reap it, so an ended kernel is gone,
    not a zombie) and its exit status is not known (``returncode`` is -1 once it ended).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = -1
            except PermissionError:  # the pid now belongs to another user's process
                self.returncode = -1
        return self.returncode

    def wait(self, timeout=None):
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
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
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ringgeo._forkserver", *preload],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            text=True, start_new_session=True)  # Ctrl-C in the terminal is the runner's

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
            answer = self._read()
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

    def _read(self) -> dict:
        line = self._process.stdout.readline()
        if not line:
            code = self._process.wait()
            raise RuntimeError(f"the kernel fork server ended (exit status {code})")
        return json.loads(line)

    def spawn(self, argv: list[str], *, cwd, env: dict, launcher: str) -> ForkedProcess:
        """Fork a kernel running ``launcher argv`` in ``cwd`` with ``env``."""
        request = {"argv": list(argv), "cwd": str(cwd), "env": dict(env), "launcher": launcher}
        with self._lock:
            self.ready()
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            answer = self._read()
        return ForkedProcess(int(answer["pid"]))

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
        self._process.stdout.close()


if __name__ == "__main__":
    _KERNEL_PATH[:] = sys.path[1:] if sys.path and sys.path[0] in ("", os.getcwd()) else sys.path
    serve(sys.argv[1:])
