"""``ringgeo figures``: regenerate every standard figure and table.

A batch file (``notebooks/runs.yaml``) lists papermill runs::

    runs:
      - name: fig1_state_partners_per_100k     # optional; file stem of the outputs
        notebook: 02_coverage_map.ipynb        # relative to the batch file's folder
        parameters: {level: state, metric: partners_per_100k}

:func:`run_batch` checks the whole batch before running anything (unknown
notebooks, keys or parameters are an :class:`~ringgeo.exceptions.InputError`
naming the file and the run), executes the notebooks with papermill, writes
each executed notebook to ``build_dir/<name>.ipynb`` and hands every notebook
the absolute ``output_dir`` (and ``output_name``, when it declares them), where
its figures and tables go. What a run's kernel prints outside its notebook
goes to ``build_dir/<name>.log`` (kept when not empty). Each run may take
``timeout`` seconds (default 600; ``ringgeo figures --timeout``). The first
failure stops the batch with a :class:`~ringgeo.exceptions.NotebookError`
naming the notebook, the cell and the error (a :class:`NotebookTimeoutError`
for a run stopped at its time limit; the kernel's exit status and log when it
died); runs not yet started are not executed.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as _dt
import json
import logging
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import yaml

from . import _forkserver, data
from .exceptions import InputError, NotebookError, NotebookTimeoutError, ParameterError

__all__ = ["Run", "RunResult", "load_batch", "run_batch", "strip_notebook", "refresh_notebook",
           "add_cli", "DEFAULT_BATCH", "DEFAULT_TIMEOUT", "CHECK_MARK", "NotebookTimeoutError"]

#: The standard batch, relative to the project root.
DEFAULT_BATCH = Path("notebooks") / "runs.yaml"
_RUN_KEYS = ("name", "notebook", "parameters")
_BATCH_KEYS = ("runs",)
# parameters the runner sets itself, when the notebook declares them
_RUNNER_PARAMETERS = ("output_dir",)


@dataclass(frozen=True)
class Run:
    """One notebook execution of a batch (validated)."""

    index: int                      # 1-based position in the batch file
    name: str                       # sanitized stem of the executed notebook and outputs
    notebook: Path                  # absolute path of the input notebook
    parameters: dict = field(default_factory=dict)
    declared: tuple = ()            # parameter names of the notebook's parameters cell


@dataclass(frozen=True)
class RunResult:
    """What a successful run produced."""

    name: str
    notebook: Path
    executed: Path                  # the executed notebook in build_dir
    parameters: dict                # as passed to papermill (output_dir included)
    seconds: float


def _where(source: str, index: int | None = None, name: str | None = None) -> str:
    if index is None:
        return source
    return f"{source}, run {index}" + (f" ({name!r})" if name else "")


def _refuse_unknown(where: str, given, allowed, unknown_as: str, allowed_as: str) -> None:
    unknown = sorted(set(map(str, given)) - set(allowed))
    if unknown:
        raise InputError(f"{where}: {unknown_as} {', '.join(map(repr, unknown))}; "
                         f"{allowed_as}: {', '.join(allowed) or 'nothing'}.")


class _BatchValueError(Exception):
    """A batch file's text that YAML would read as something else than written (or not at all)."""

    def __init__(self, node, message: str):
        super().__init__(message)
        self.line = node.start_mark.line + 1
        self.message = message


# YAML 1.1 (PyYAML) reads these plain scalars as numbers unlike what they look like: a leading
# zero makes an octal number (02134 -> 1116), colons a base-60 one (1:30 -> 90)
_OCTAL = re.compile(r"[-+]?0[0-7_]+")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
# ... "0x" and "0b" ones hexadecimal and binary (0x1F -> 31), and yes/no/on/off booleans
# ("state: NO" is false, the Norway problem)
_OTHER_BASE = re.compile(r"[-+]?0[xXbB][0-9a-fA-F_]+")


class _BatchLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` for batch files: what it would read silently wrong is an error.

    Refused, with the line: a key given twice in one mapping (PyYAML keeps the last),
    aliases (``*name``: a few lines of them can expand into billions of values), unquoted
    numbers YAML reads unlike they look (``02134`` octal, ``1:30`` base 60, ``0x1F``
    hexadecimal), words it reads as booleans (``NO``, ``on``, ``yes``: only ``true`` and
    ``false`` are booleans in a batch file) and unquoted
    dates that are no day of the calendar (``2019-02-30``). Valid unquoted dates stay dates
    (the runner passes them on as ISO strings: :func:`_json_value`).
    """

    def compose_node(self, parent, index):
        """Refuse an alias (``*name``) before it is resolved."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _BatchValueError(event, f"the alias *{event.anchor} (YAML anchors and "
                                          "aliases are not allowed in a batch file): write "
                                          "the value out in full where it is used.")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        """Refuse a key that a mapping already has (PyYAML would keep the last value)."""
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # <<: {...}, merged by PyYAML
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:  # unhashable: the constructor says so, with the line
                    continue
                if first is not key_node:
                    raise _BatchValueError(
                        key_node, f"the key {key!r} is given twice in one mapping (lines "
                                  f"{first.start_mark.line + 1} and "
                                  f"{key_node.start_mark.line + 1}); YAML would keep only "
                                  "the last: keep one of them.")
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node, deep=False):
        """Construct ``node``; an unquoted value YAML would change, or cannot read, is an error."""
        if isinstance(node, yaml.ScalarNode) and node.style is None:
            text = node.value
            if node.tag == "tag:yaml.org,2002:int" and _OCTAL.fullmatch(text):
                raise _BatchValueError(node, (
                    f"{text} without quotes is the octal number {self.construct_yaml_int(node)} "
                    f"for YAML (a leading zero), not {text}: write it in quotes, '{text}', to "
                    "pass it as written (a ZIP code is text)."))
            if node.tag == "tag:yaml.org,2002:int" and _OTHER_BASE.fullmatch(text):
                base = "hexadecimal" if text.lstrip("+-")[1] in "xX" else "binary"
                raise _BatchValueError(node, (
                    f"{text} without quotes is the {base} number "
                    f"{self.construct_yaml_int(node)} for YAML, not {text}: write it in "
                    f"quotes, '{text}', to pass it as written."))
            if node.tag == "tag:yaml.org,2002:bool" and text.casefold() not in ("true",
                                                                                  "false"):
                raise _BatchValueError(node, (
                    f"{text} without quotes is the boolean {self.construct_yaml_bool(node)} "
                    f"for YAML (it reads yes/no/on/off as true/false), not the text "
                    f"{text}: write it in quotes, '{text}', to pass it as text, or true or "
                    f"false for a yes-or-no setting."))
            if node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") \
                    and _SEXAGESIMAL.fullmatch(text):
                number = (self.construct_yaml_int(node) if node.tag.endswith("int")
                          else self.construct_yaml_float(node))
                raise _BatchValueError(node, (
                    f"{text} without quotes is the base-60 number {number} for YAML (the "
                    f"colons), not {text}: write it in quotes, '{text}', to pass it as "
                    "written."))
        try:
            return super().construct_object(node, deep=deep)
        except (_BatchValueError, yaml.YAMLError):
            raise
        except Exception as err:  # any value the constructor cannot build (e.g. 2019-02-30)
            if node.tag == "tag:yaml.org,2002:timestamp" and node.style is None:
                raise _BatchValueError(node, (
                    f"{node.value} without quotes is a date for YAML, and no day of the "
                    f"calendar ({err}): correct the date, or write it in quotes, "
                    f"'{node.value}', to pass it as text.")) from None
            raise _BatchValueError(node, f"cannot read {_shown(node)}: {err}.") from None


def _shown(node) -> str:
    return repr(node.value) if isinstance(node, yaml.ScalarNode) else f"this {node.id}"


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def _batch_text(path: Path) -> str:
    """Return the text of a batch file: UTF-8, or UTF-8/16/32 with a byte-order mark."""
    raw = path.read_bytes()
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), "utf-8")
    if encoding == "utf-8" and b"\x00" in raw:  # UTF-16 without a byte-order mark?
        even, odd = raw[0::2].count(0), raw[1::2].count(0)
        if len(raw) % 2 == 0 and max(even, odd) >= len(raw) // 4 and min(even, odd) == 0:
            encoding = "utf-16-le" if odd else "utf-16-be"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        hint = (" (UTF-16 without a byte-order mark?)" if b"\x00" in raw[:200] else "")
        line = raw[:err.start].count(b"\n") + 1
        raise InputError(f"{path}, line {line}: not "
                         f"{encoding.upper()} text{hint}: {err.reason} at byte {err.start}; "
                         "save the batch file as UTF-8.") from None


def _yaml_error(path: Path, text: str, err: yaml.YAMLError) -> InputError:
    """Return the parser's error as one line naming the file and the line."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = f"{path}, line {mark.line + 1}" if mark is not None else str(path)
    if isinstance(err, yaml.MarkedYAMLError):
        what = ", ".join(filter(None, (err.context, err.problem)))
    elif isinstance(err, yaml.reader.ReaderError) and isinstance(err.character, int):
        line = text[:err.position].count("\n") + 1
        return InputError(f"{path}, line {line}: the character U+{err.character:04X} is not "
                          "allowed in a YAML file (a control character): remove it.")
    else:
        what = str(err)
    what = " ".join(what.split())
    return InputError(f"{where}: not valid YAML: {what}.")


def _read_batch(batch) -> tuple[dict, str, Path]:
    """Return (mapping, label for messages, folder notebooks are relative to)."""
    if isinstance(batch, dict):
        return batch, "batch", Path.cwd()
    path = Path(batch)
    if not path.is_file():
        raise InputError(f"batch file {str(path)!r} not found: run from the project's root "
                         f"(where {DEFAULT_BATCH} is) or pass --batch FILE.")
    try:
        text = _batch_text(path)
    except OSError as err:
        raise InputError(f"{path}: cannot read the batch file: {err.strerror or err}.") from None
    try:
        data = yaml.load(text, Loader=_BatchLoader)  # a SafeLoader, stricter
    except _BatchValueError as err:
        raise InputError(f"{path}, line {err.line}: {err.message}") from None
    except yaml.YAMLError as err:
        raise _yaml_error(path, text, err) from None
    except RecursionError:
        raise InputError(f"{path}: nested too deeply to read (thousands of brackets?): "
                         "a batch file is a list of runs.") from None
    return data, str(path), path.resolve().parent


def _declared_parameters(notebook: Path, where: str) -> tuple[str, ...]:
    import nbformat
    import papermill
    from papermill.exceptions import PapermillException

    try:
        found = papermill.inspect_notebook(str(notebook))
    # unreadable file, not JSON, not a notebook
    except (OSError, ValueError, nbformat.ValidationError, PapermillException) as err:
        raise InputError(f"{where}: cannot read notebook {str(notebook)!r}: {err}") from None
    return tuple(found)


def load_batch(batch=None) -> list[Run]:
    """Read and check a batch of notebook runs.

    Parameters
    ----------
    batch : str, Path or dict, optional
        A YAML file (read as ``yaml.safe_load`` reads it, more strictly: see Raises;
        default ``notebooks/runs.yaml`` of the current folder, else of the ringgeo
        checkout; UTF-8, or UTF-16/32 with a byte-order mark) or the same structure as a
        dict: ``{"runs": [{"notebook": ..., "parameters": {...}, "name": ...}]}``.
        Notebook paths are relative to the batch file's folder (to the current
        folder for a dict).

    Returns
    -------
    list of Run
        One per run, in batch order; ``name`` defaults to the notebook's stem
        followed by the parameter values, sanitized by :func:`ringgeo.params.output_name`.

    Raises
    ------
    InputError
        Naming the batch file and run: a missing or unknown notebook, an unknown
        key, a parameter the notebook does not declare, a duplicate name. Naming the
        file and line: text that is not YAML, or that YAML would read unlike it is
        written (a key given twice in one mapping, an alias ``*name``, an unquoted
        ``02134`` or ``1:30``, an unquoted impossible date such as ``2019-02-30``);
        a file that is not UTF-8 (nor UTF-16/32 with a byte-order mark).

    Examples
    --------
    >>> runs = load_batch()
    >>> runs[0].name, runs[0].notebook.name
    ('table0_partners_by_state_year', '01_partners_overview.ipynb')
    """
    return _check_batch(*_read_batch(_default_batch() if batch is None else batch))


def _check_batch(data, source: str, root: Path) -> list[Run]:
    """Return the runs of a batch as read by :func:`_read_batch`; see :func:`load_batch`."""
    # imported here: ringgeo.params loads pandas (0.3 s), which the runner must not import
    # before its fork server has started (it loads while this checks the batch)
    from .params import output_name

    if not isinstance(data, dict) or not isinstance(data.get("runs"), list) or not data["runs"]:
        raise InputError(f"{source}: expected a mapping with a non-empty list under 'runs:', "
                         "each run a mapping with 'notebook' and optional 'parameters', 'name'.")
    _refuse_unknown(source, data, _BATCH_KEYS, "unknown top-level key(s)", "allowed")
    runs, seen, declared_by_notebook = [], {}, {}
    for index, spec in enumerate(data["runs"], start=1):
        where = _where(source, index)
        if not isinstance(spec, dict):
            raise InputError(f"{where}: expected a mapping with 'notebook' and optional "
                             f"'parameters', 'name'; got {spec!r}.")
        where = _where(source, index, spec.get("name"))
        _refuse_unknown(where, spec, _RUN_KEYS, "unknown key(s)", "allowed keys")
        nb = spec.get("notebook")
        if not isinstance(nb, str) or not nb.endswith(".ipynb"):
            raise InputError(f"{where}: 'notebook' must name an .ipynb file; got {nb!r}.")
        notebook = (root / nb).resolve()
        if not notebook.is_file():
            available = sorted(p.name for p in root.glob("*.ipynb"))
            raise InputError(f"{where}: notebook {nb!r} not found in {str(root)!r}; "
                             f"available: {', '.join(available) or 'none'}.")
        parameters = spec.get("parameters") or {}
        if not isinstance(parameters, dict) or not all(isinstance(k, str) for k in parameters):
            raise InputError(f"{where}: 'parameters' must be a mapping of names to values; "
                             f"got {parameters!r}.")
        if notebook not in declared_by_notebook:  # a notebook is often run several times
            declared_by_notebook[notebook] = _declared_parameters(notebook, where)
        declared = declared_by_notebook[notebook]
        reserved = sorted(set(parameters) & set(_RUNNER_PARAMETERS))
        if reserved:
            raise InputError(f"{where}: {', '.join(reserved)} is set by the runner "
                             "(--output-dir); remove it from the run's parameters.")
        _refuse_unknown(where, parameters, declared, f"{nb} has no parameter",
                        "its parameters cell declares")
        parameters = {key: _json_value(where, key, value) for key, value in parameters.items()}
        try:
            name = output_name(*([spec["name"]] if spec.get("name") is not None else
                                 [notebook.stem, *parameters.values()]))
        except ParameterError as err:
            raise InputError(f"{where}: {err}") from None
        if name in seen:
            raise InputError(f"{where}: name {name!r} is already used by run {seen[name]}; "
                             "give each run its own 'name'.")
        seen[name] = index
        runs.append(Run(index, name, notebook, dict(parameters), declared))
    return runs


def _json_value(where: str, key: str, value):
    """Return a parameter value papermill can hand to a kernel (JSON): dates as ISO strings.

    ``as_of: 2019-08-28`` without quotes is a date for YAML: it means the date, so it
    is passed as ``'2019-08-28'``. Anything else JSON cannot carry is refused here,
    before any notebook runs.
    """
    if isinstance(value, _dt.datetime):
        value = value.isoformat(sep=" ") if value.time() != _dt.time() or value.tzinfo \
            else value.date().isoformat()
    elif isinstance(value, _dt.date):
        value = value.isoformat()
    elif isinstance(value, list):
        value = [_json_value(where, key, item) for item in value]
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise InputError(f"{where}: parameter {key!r} is {value!r} ({type(value).__name__}), "
                         "which cannot be passed to a notebook: give a string, number, "
                         "true/false, null or a list of them.") from None
    return value


def _select(runs: list[Run], only, source: str) -> list[Run]:
    if not only:
        return runs
    wanted = [only] if isinstance(only, str) else list(only)
    names = {run.name for run in runs}
    missing = [w for w in wanted if w not in names]
    if missing:
        raise InputError(f"{source}: no run named {', '.join(map(repr, missing))}; "
                         f"runs: {', '.join(run.name for run in runs)}.")
    return [run for run in runs if run.name in wanted]


def _first_line(text: str, limit: int = 300) -> str:
    line = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


_LOG = logging.getLogger(__name__)

# kernel processes started by this process and not yet reaped, killed on Ctrl-C
_KERNELS: set = set()
_KERNELS_LOCK = threading.Lock()


def _curve_available() -> bool:
    """Whether pyzmq can encrypt the kernel's sockets (libzmq built with CurveZMQ)."""
    import zmq

    return bool(zmq.has("curve"))


def _kernel_manager_class(this_python: bool = True, kernel: "_Kernel | None" = None):
    """Return a kernel manager class for a run's kernel.

    Its kernel spec names :class:`_BatchProvisioner` (unless the kernel's own
    spec names a provisioner), which writes what the kernel prints outside the
    notebook (ipykernel's "KeyboardInterrupt caught in kernel", a library's
    warnings, a traceback it dies of) to ``kernel.log`` rather than the
    terminal, registers the kernel so that Ctrl-C can stop it, keeps its exit
    status and, with ``kernel.server``, forks it from the batch's fork server.
    With ``this_python`` the kernels run the Python running ringgeo: a
    ``python3`` kernelspec found first on the Jupyter path (a user's own, in
    another environment without ringgeo) would otherwise be used; this is what
    ``nbval --nbval-current-env`` does for the tests.
    """
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from traitlets import default

    _register_provisioner()

    class BatchKernelSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            if this_python:
                from ipykernel.kernelspec import RESOURCES, get_kernel_dict

                spec = KernelSpec(resource_dir=RESOURCES, name=kernel_name, **get_kernel_dict())
            else:
                spec = super().get_kernel_spec(kernel_name)
            if "kernel_provisioner" not in spec.metadata:
                spec.metadata = {**spec.metadata, "kernel_provisioner": {
                    "provisioner_name": _PROVISIONER, "config": {}}}
            return spec

    class BatchKernelManager(AsyncKernelManager):
        # After its last cell a kernel is asked to shut down and given half of this to
        # end before it is terminated. Now and then an ipykernel does not end by itself
        # (1 run in 13, fresh or forked), and the default 5 s cost that run 2.5 s more.
        # A batch wants nothing more from a kernel once the notebook is executed.
        shutdown_wait_time = 1.0
        batch_kernel = kernel  # read by its provisioner (its parent)
        forkable = this_python  # the kernel spec is this Python's ipykernel
        # CurveZMQ keys for a kernel whose spec says it takes them (ipykernel 7.4 and later;
        # jupyter_client 8.10 and later, else the setting is ignored): this process and the
        # kernel talk over loopback TCP, and without keys ipykernel logs "Kernel is running
        # over TCP without encryption" at every start. "auto" leaves other kernels as they are.
        transport_encryption = "auto" if _curve_available() else "disabled"

        @default("kernel_spec_manager")
        def _default_kernel_spec_manager(self):
            return BatchKernelSpecs(parent=self)

    return BatchKernelManager


@dataclass
class _Kernel:
    """A run's kernel, as its provisioner started it."""

    log: Path                       # where it writes what it prints outside the notebook
    server: object = None           # the ForkServer it is forked from, if any
    process: object = None          # its Popen or ForkedProcess, once started
    forked: bool = False
    returncode: int | None = None   # its exit status, once known

    def status(self, wait: float = 1.0) -> int | None:
        """Its exit status, waiting up to ``wait`` seconds for it to end; None if it runs."""
        if self.returncode is None and self.process is not None:
            try:
                self.returncode = self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        return self.returncode


_LAUNCHER_CMD = ["-m", "ipykernel_launcher"]  # a kernelspec's argv[1:3] a fork can stand for
# The name the batch's kernel specs give their provisioner (jupyter_client's kernel_provisioner).
_PROVISIONER = "ringgeo-batch"


def _register_provisioner() -> None:
    """Make :class:`_BatchProvisioner` known to jupyter_client under :data:`_PROVISIONER`.

    jupyter_client finds a kernel spec's provisioner by name among the entry points of
    the group ``jupyter_client.kernel_provisioners``, which its factory caches; the
    batch's provisioner is added to that cache (ringgeo's installed metadata need not
    declare it).
    """
    from importlib.metadata import EntryPoint

    from jupyter_client.provisioning import KernelProvisionerFactory

    factory = KernelProvisionerFactory.instance()
    if _PROVISIONER not in factory.provisioners:
        factory.provisioners[_PROVISIONER] = EntryPoint(
            _PROVISIONER, f"{__name__}:_BatchProvisioner", KernelProvisionerFactory.GROUP_NAME)


def _provisioner_class():
    """Build :class:`_BatchProvisioner` (jupyter_client is imported only when kernels start)."""
    from jupyter_client.provisioning import LocalProvisioner

    class _BatchProvisioner(LocalProvisioner):
        """jupyter_client's local provisioner, for the kernels of a batch.

        Reads the run's :class:`_Kernel` from its kernel manager (``parent.batch_kernel``):
        the kernel's standard output and error go to its log; it is forked from the
        batch's fork server when there is one (else, or when the server cannot fork,
        it starts as a new process, as ``LocalProvisioner`` starts it); it is registered
        for Ctrl-C; and its exit status is kept once it has ended.
        """

        async def launch_kernel(self, cmd, **kwargs):
            kernel = getattr(self.parent, "batch_kernel", None)
            if kernel is None:
                return await super().launch_kernel(cmd, **kwargs)
            with open(kernel.log, "ab") as log:
                process = None
                if kernel.server is not None and getattr(self.parent, "forkable", False) \
                        and cmd[1:3] == _LAUNCHER_CMD:
                    process = _fork(kernel.server, cmd, kwargs, kernel.log)
                if process is None:
                    kwargs.setdefault("stdout", log)
                    kwargs.setdefault("stderr", log)
                    info = await super().launch_kernel(cmd, **kwargs)
                else:
                    self.process = process
                    self.pid = self.pgid = process.pid  # it leads its own session
                    self.cwd = kwargs.get("cwd") or os.getcwd()
                    info = self.connection_info
            kernel.process, kernel.forked = self.process, process is not None
            with _KERNELS_LOCK:
                _KERNELS.add(self.process)
            return info

        async def wait(self):
            process = self.process
            status = await super().wait()
            kernel = getattr(self.parent, "batch_kernel", None)
            if kernel is not None and process is not None and process is kernel.process:
                kernel.returncode = process.returncode
            return status

    return _BatchProvisioner


def __getattr__(name: str):
    if name == "_BatchProvisioner":  # what jupyter_client loads by the provisioner's name
        cls = globals()[name] = _provisioner_class()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _fork(server, cmd: list[str], kwargs: dict, log: Path):
    """Fork a kernel running ``cmd`` from ``server``; None when it cannot.

    Hands the kernel what ``LocalProvisioner`` would hand a new process: the
    environment and working folder jupyter_client asks for, and
    ``JPY_PARENT_PID`` as jupyter_client's launcher sets it.
    """
    import ipykernel_launcher

    env = dict(kwargs.get("env") or os.environ)
    env["JPY_PARENT_PID"] = str(os.getpid())
    try:
        return server.spawn(cmd[3:], cwd=kwargs.get("cwd") or os.getcwd(), env=env,
                            launcher=ipykernel_launcher.__file__, log=log)
    except RuntimeError as err:  # it ended, or runs threads: a new kernel process
        _LOG.info("kernel started as a new process: %s", err)
        return None


def _notebooks_import_ringgeo(notebooks) -> bool:
    """Whether any of these notebooks has a code cell importing ringgeo.

    Read as plain JSON (nbformat is not imported yet when the runner asks); a
    notebook that cannot be read is left to the batch's checks.
    """
    for notebook in set(notebooks):
        try:
            cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        for cell in cells if isinstance(cells, list) else []:
            source = cell.get("source", "") if isinstance(cell, dict) else ""
            source = "".join(source) if isinstance(source, list) else str(source)
            if cell.get("cell_type") == "code" and re.search(
                    r"^\s*(import|from)\s+ringgeo\b", source, re.M):
                return True
    return False


def _start_server(data, root: Path, only, jobs: int, kernel_name):
    """Start the batch's fork server, before the batch is checked; None when not forking.

    The server loads (a few seconds) while the runner checks the batch and
    imports papermill. What it decides from is the batch file as read: the
    number of runs (``only``'s, when given) and whether its notebooks import
    ringgeo. A batch that fails its checks stops the server.
    """
    specs = data.get("runs") if isinstance(data, dict) else None
    specs = [spec for spec in specs if isinstance(spec, dict)] if isinstance(specs, list) else []
    count = (1 if isinstance(only, str) else len(list(only))) if only else len(specs)
    if kernel_name or not specs or not _forkserver.worth_it(count, jobs):
        return None
    notebooks = [root / spec["notebook"] for spec in specs if isinstance(spec.get("notebook"), str)]
    try:
        return _forkserver.ForkServer(["ringgeo"] if _notebooks_import_ringgeo(notebooks) else [],
                                      dict(os.environ))
    except OSError as err:  # cannot start a process: each kernel will be a new one
        _LOG.info("kernels start as new processes: %s", err)
        return None


@contextlib.contextmanager
def _kernel_source(runs, bar, server, *, warm_cache: bool):
    """Prepare the batch's kernels; yield the fork server they come from, or None.

    ``server`` (:func:`_start_server`), when forking pays, loads ringgeo and
    its tables (if the notebooks import ringgeo) once for all kernels, building
    the parsed-data cache if it is empty: this waits until it has. Otherwise each
    kernel is a new process; with ``warm_cache`` the cache is built here first,
    so that they read the tables instead of each building them.
    """
    if server is not None:
        if "ringgeo" in server.preload:  # a few seconds; 15 s more when it builds the cache
            bar.set_postfix_str("loading ringgeo and its tables, once for all kernels")
        try:
            server.ready()
        except RuntimeError as err:  # a source that fails: each notebook says so
            _LOG.info("kernels start as new processes: %s", err)
            server = None
    if server is None and warm_cache and _notebooks_import_ringgeo(r.notebook for r in runs):
        bar.set_postfix_str("building the parsed-data cache if it is empty")
        # imported here: the tables it builds need pandas and geopandas, which this
        # process otherwise never imports (the kernels do)
        from ._warm import warm

        warm()
    bar.set_postfix_str("", refresh=False)
    try:
        yield server
    finally:
        if server is not None:
            server.close()


def _kill_kernels() -> int:
    """Kill every kernel this process started that still runs; return how many."""
    killed = 0
    with _KERNELS_LOCK:
        for process in list(_KERNELS):
            if process.poll() is None:
                try:  # a kernel leads its own session: take its children with it
                    os.killpg(process.pid, signal.SIGKILL)
                except OSError:
                    process.kill()
                killed += 1
            _KERNELS.discard(process)
    return killed


#: Seconds a notebook run may take by default (``ringgeo figures --timeout``).
DEFAULT_TIMEOUT = 600.0


def _check_timeout(timeout):
    """``timeout`` as a float of seconds > 0 (None: no limit); else a ParameterError."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not math.isfinite(timeout) or timeout <= 0:
        raise ParameterError(
            f"`timeout` was {timeout!r} but is expected to be a number of seconds > 0: how long "
            f"each notebook run may take (default {DEFAULT_TIMEOUT:g}; None for no limit).")
    return float(timeout)


class _Clock:
    """A run's time limit, as nbclient enforces it: each cell may take what is left of it.

    nbclient stops a cell that runs longer than ``timeout_func(cell)`` seconds
    (``CellTimeoutError``) and then shuts the kernel down, terminating it when it
    does not end (``shutdown_wait_time``).
    """

    def __init__(self, seconds: float | None):
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.cell = None  # the cell running last

    def cell_timeout(self, cell) -> int:
        self.cell = cell
        return max(1, math.ceil(self.deadline - time.monotonic()))  # nbclient's are whole


def _notebook_error(message: str, run: Run, executed: Path, cell_index, exec_count,
                    ename: str, evalue: str, kind: type = NotebookError) -> NotebookError:
    """Return a NotebookError (or ``kind``) carrying what a caller needs to point at the failure."""
    error = kind(message)
    error.notebook, error.executed = run.notebook, executed
    error.cell_index, error.exec_count = cell_index, exec_count
    error.ename, error.evalue = ename, evalue
    return error


def _kernel_words(kernel: _Kernel, *, died: bool) -> str:
    """Return what to add to a failed run's message about its kernel: exit status, log."""
    words = ""
    if died:
        status = kernel.status()
        if status is not None:
            how = f"was killed by signal {-status}" if status < 0 else \
                f"exited with status {status}"
            words = f"; the kernel {how}"
            try:
                with open(kernel.log, "a", encoding="utf-8") as log:
                    log.write(f"[ringgeo] the kernel (pid {kernel.process.pid}) {how}\n")
            except OSError:
                pass
    try:
        if kernel.log.stat().st_size:
            words += f"; what the kernel printed is in {kernel.log}"
    except OSError:
        pass
    return words


def _execute(run: Run, source: str, output_dir: Path, build_dir: Path, kernel_name,
             timeout: float | None = DEFAULT_TIMEOUT, server=None) -> RunResult:
    import papermill
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillException, PapermillExecutionError

    parameters = dict(run.parameters)
    if "output_dir" in run.declared:
        parameters["output_dir"] = str(output_dir)
    if "output_name" in run.declared and "output_name" not in parameters:
        parameters["output_name"] = run.name
    executed = build_dir / f"{run.name}.ipynb"
    where = f"notebook {run.notebook.name} ({_where(source, run.index, run.name)})"
    kernel = _Kernel(log=build_dir / f"{run.name}.log", server=server)
    kernel.log.write_bytes(b"")  # this run's, not the last one's
    engine = {"kernel_manager_class": _kernel_manager_class(this_python=not kernel_name,
                                                            kernel=kernel)}
    clock = _Clock(timeout)
    if timeout is not None:
        engine["timeout_func"] = clock.cell_timeout  # nbclient's, per cell
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(run.notebook), str(executed), parameters=parameters, kernel_name=kernel_name,
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            # the kernel starts in the notebook's folder; papermill's own `cwd=` would
            # os.chdir the whole process, which races between parallel runs
            resources={"metadata": {"path": str(run.notebook.parent)}}, **engine,
        )
    except PapermillExecutionError as err:
        code = next((ln.strip() for ln in err.source.splitlines()
                     if ln.strip() and not ln.lstrip().startswith("#")), "")
        raise _notebook_error(
            f"{where} failed in cell [{err.exec_count}] (`{_first_line(code, 80)}`): "
            f"{err.ename}: {_first_line(err.evalue)}; see the executed notebook {executed}"
            f"{_kernel_words(kernel, died=False)}",
            run, executed, err.cell_index, err.exec_count, err.ename, err.evalue) from err
    except CellTimeoutError as err:
        cell = clock.cell or {}
        code = next((ln.strip() for ln in str(cell.get("source", "")).splitlines()
                     if ln.strip() and not ln.lstrip().startswith("#")), "")
        count = cell.get("execution_count")
        error = _notebook_error(
            f"{where} did not finish within its time limit of {timeout:g} s and was stopped "
            f"in cell [{count}] (`{_first_line(code, 80)}`). If it needs longer, raise the "
            "limit: ringgeo figures --timeout SECONDS (run_batch(..., timeout=SECONDS))"
            f"{_kernel_words(kernel, died=False)}",
            run, executed, None, count, "TimeoutError",
            f"the run took longer than {timeout:g} s", NotebookTimeoutError)
        error.timeout = timeout
        raise error from err
    # the kernel died or did not start (RuntimeError), a cell timed out or a file could
    # not be read or written (OSError), no such kernel (KeyError), an unreadable notebook
    except (PapermillException, RuntimeError, OSError, KeyError, ValueError) as err:
        raise _notebook_error(
            f"{where} could not run: {type(err).__name__}: {_first_line(err)}"
            f"{_kernel_words(kernel, died=kernel.process is not None)}",
            run, executed, None, None, type(err).__name__, str(err)) from err
    finally:
        with contextlib.suppress(OSError):  # nothing printed: no file
            if not kernel.log.stat().st_size:
                kernel.log.unlink()
    return RunResult(run.name, run.notebook, executed, parameters, time.perf_counter() - start)


def run_batch(batch=None, *, output_dir="output", build_dir="build", jobs: int = 1,
              progress: bool = True, kernel_name: str | None = None, only=None,
              warm_cache: bool = False, timeout: float | None = DEFAULT_TIMEOUT
              ) -> list[RunResult]:
    """Execute a batch of parameterized notebooks with papermill.

    Parameters
    ----------
    batch : str, Path or dict, optional
        The batch (see :func:`load_batch`; default ``notebooks/runs.yaml``);
        checked whole before any run starts.
    output_dir : str or Path, default ``"output"``
        Where the notebooks write figures and tables; passed to each notebook
        that declares an ``output_dir`` parameter, as an absolute path.
    build_dir : str or Path, default ``"build"``
        Where the executed notebooks go, one ``<name>.ipynb`` per run.
    jobs : int, default 1
        Notebooks run at the same time (each in its own kernel process).
    progress : bool, default True
        Show a tqdm progress bar over the runs (on stderr).
    kernel_name : str, optional
        A Jupyter kernel name. By default the notebooks run in a kernel of the
        Python interpreter running ringgeo (whatever ``python3`` kernelspec the
        Jupyter path holds), so they import this installation of ringgeo.
    only : str or list of str, optional
        Run only the runs with these names.
    warm_cache : bool, default False
        Build the parsed-data cache (:func:`ringgeo._warm.warm`) before the
        first kernel, when the notebooks import ringgeo, so the kernels read the
        tables instead of each building them (``ringgeo figures`` does). Forked
        kernels get them from their server, which always does.
    timeout : float or None, default :data:`DEFAULT_TIMEOUT` (600)
        Seconds each run may take, counted from its start (its kernel's start
        has its own limit, papermill's 60 s). A run still executing then is
        stopped: its cell is abandoned, its kernel shut down (terminated if it
        does not end), and the batch fails with a :class:`NotebookTimeoutError`.
        None: no limit.

    Returns
    -------
    list of RunResult
        In batch order.

    Raises
    ------
    InputError
        A bad batch (nothing is run).
    NotebookError
        The first notebook that failed: its name, the cell and the error, and the
        path of the executed notebook to inspect; when its kernel printed anything
        outside the notebook (or died: its exit status is given), the path of
        ``build_dir/<name>.log``, which holds it. Runs not yet started are not run.
    NotebookTimeoutError
        A :class:`NotebookError` for a run that took longer than ``timeout``: its
        message names the run, the cell it was stopped in and the limit.
    ParameterError
        ``jobs`` is not a whole number >= 1, ``timeout`` not a number > 0, or
        ``output_dir`` / ``build_dir`` cannot be created or written to.
    KeyboardInterrupt
        On Ctrl-C: the running kernels are killed (their connection files go with
        them), the files the interrupted runs wrote are removed, and the exception's
        message is the one line to show (``ringgeo figures`` prints it, exit code 130).

    Notes
    -----
    On Linux, when each job runs more than two notebooks, the kernels are forks
    of one process that has imported ringgeo and loaded its tables once
    (:mod:`ringgeo._forkserver`, ``docs/design.md#forked-kernels``). With several
    jobs, the runs that took longest in the last batch in ``build_dir`` start first.

    The standard set, as ``ringgeo figures --jobs 2`` runs it::

        results = run_batch("notebooks/runs.yaml", output_dir="output", jobs=2)

    Examples
    --------
    The whole batch is checked before anything runs:

    >>> run_batch({"runs": [{"notebook": "notebooks/02_coverage_map.ipynb",  # doctest: +ELLIPSIS
    ...                      "parameters": {"metrc": "partners"}}]})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ringgeo.exceptions.InputError: batch, run 1: notebooks/02_coverage_map.ipynb has no ...
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ParameterError(f"`jobs` was {jobs!r} but is expected to be a whole number >= 1.")
    timeout = _check_timeout(timeout)
    data.absolute_env()  # kernels (and their server) start in notebooks/ and inherit these
    content, source, root = _read_batch(_default_batch() if batch is None else batch)
    server = _start_server(content, root, only, jobs, kernel_name)
    try:
        runs = _select(_check_batch(content, source, root), only, source)
        output_dir = _make_folder(output_dir, "output", "--output-dir")
        build_dir = _make_folder(build_dir, "build", "--build-dir")
    except BaseException:
        if server is not None:
            server.close()
        raise

    results, failures, started = {}, {}, {}
    queue = iter(_longest_first(runs, build_dir, jobs))
    try:
        _run_all(queue, len(runs), jobs, progress, results, failures, started,
                 (source, output_dir, build_dir, kernel_name, timeout),
                 kernels=lambda bar: _kernel_source(runs, bar, server, warm_cache=warm_cache))
    except KeyboardInterrupt:
        raise KeyboardInterrupt(_interrupted(runs, results, started, output_dir,
                                             build_dir)) from None
    finally:
        if server is not None:  # ended by its context; here too if that never began
            server.close()
        with _KERNELS_LOCK:  # forget the kernels that have ended
            _KERNELS.difference_update([p for p in _KERNELS if p.poll() is not None])
        for name in ("papermill", "nbclient", "traitlets"):
            logging.getLogger(name).disabled = False
    if failures:
        first = failures[min(failures)]
        skipped = sum(1 for _ in queue)
        if skipped:
            first.args = (f"{first.args[0]} ({skipped} later run(s) not executed)",)
        raise first
    return [results[i] for i in sorted(results)]


def _last_duration(run: Run, build_dir: Path) -> float | None:
    """Seconds the run took last time, from its executed notebook (papermill's metadata)."""
    try:
        nb = json.loads((build_dir / f"{run.name}.ipynb").read_text(encoding="utf-8"))
        return float(nb["metadata"]["papermill"]["duration"])
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or not one of ours
        return None


def _longest_first(runs: list[Run], build_dir: Path, jobs: int) -> list[Run]:
    """Return the order to start the runs in: with several jobs, the longest first.

    A batch ends when its last notebook does; a long run started last (the
    national web map, the lookup) keeps one job busy while the others wait.
    How long each run takes is read from its executed notebook of the last
    batch in ``build_dir``; runs without one keep their place, ahead of the
    others. One job runs the batch in its order. Results come back in batch
    order either way.
    """
    if jobs < 2:
        return runs
    last = {run.index: _last_duration(run, build_dir) for run in runs}
    return sorted(runs, key=lambda run: (last[run.index] is not None, -(last[run.index] or 0)))


def _make_folder(folder, what: str, option: str) -> Path:
    """Return ``folder`` absolute, created; a folder that cannot be is a ParameterError."""
    folder = Path(os.path.expanduser(str(folder))).resolve()
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"{what} folder {str(folder)!r} ({option}) exists and is not a "
                             "folder: give a folder path.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ParameterError(f"cannot create the {what} folder {str(folder)!r} ({option}): "
                             f"{err.strerror or err}. Give a folder you can write to.") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ParameterError(f"{what} folder {str(folder)!r} ({option}) is not writable: "
                             "give a folder you can write to.")
    return folder


def _run_all(queue, total, jobs, progress, results, failures, started, context,
             kernels=None) -> None:
    """Run the queued runs, ``jobs`` at a time, until done or the first failure.

    ``kernels(bar)``, when given, is a context manager around the runs that
    prepares their kernels (saying so on the bar) and yields the fork server
    they come from, or None.
    """
    from tqdm.std import tqdm  # not tqdm.auto: no widget bar (nor its warning) in Jupyter

    with tqdm(total=total, unit="notebook",
              desc="ringgeo figures", disable=not progress) as bar, \
            (kernels(bar) if kernels else contextlib.nullcontext()) as server, \
            ThreadPoolExecutor(max_workers=jobs) as pool:

        def execute(run):
            started[run.index] = (run, time.time())
            return _execute(run, *context, server=server)

        in_flight: dict = {}

        def submit(count):
            for run in islice(queue, count):
                in_flight[pool.submit(execute, run)] = run

        submit(jobs)
        try:
            while in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    run = in_flight.pop(future)
                    try:
                        results[run.index] = future.result()
                    except NotebookError as err:
                        failures[run.index] = err
                    # the bar names the run that just finished
                    bar.set_postfix_str(run.name, refresh=False)
                    if not bar.update(1):  # within tqdm's mininterval: show it anyway
                        bar.refresh()
                if not failures:
                    submit(len(done))
        except KeyboardInterrupt:
            for future in in_flight:
                future.cancel()
            # the threads' notebooks end at once (dead kernel), without logging about it
            for name in ("papermill", "nbclient", "traitlets"):
                logging.getLogger(name).disabled = True
            _kill_kernels()
            bar.leave = False  # the bar's line is cleared for the one-line message
            raise


def _interrupted(runs, results, started, output_dir: Path, build_dir: Path) -> str:
    """Remove what the interrupted runs wrote; return the one-line message."""
    stopped = [(run, since) for index, (run, since) in started.items() if index not in results]
    removed = 0
    for run, since in stopped:
        candidates = [build_dir / f"{run.name}.ipynb", build_dir / f"{run.name}.log"]
        candidates += [p for p in output_dir.glob(f"{run.name}*")
                       if p.stem == run.name or p.stem.startswith(run.name + "_")]
        for path in candidates:
            try:
                if path.is_file() and path.stat().st_mtime >= since - 1:
                    path.unlink()
                    removed += 1
            except OSError:
                pass
    names = ", ".join(run.name for run, _ in stopped) or "none"
    return (f"interrupted: stopped {len(stopped)} running notebook(s) ({names}) and removed "
            f"their {removed} partial file(s); {len(results)} of {len(runs)} run(s) had "
            f"finished (their files are in {output_dir}).")


#: First-line marker of the cells whose outputs nbval compares (and that keep them).
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
_VOLATILE_METADATA = ("papermill", "execution", "collapsed", "scrolled", "ExecuteTime")


def strip_notebook(nb):
    r"""Strip a notebook for committing; return it (changed in place).

    Outputs are removed except in cells whose source starts with
    :data:`CHECK_MARK`; papermill and timing metadata are removed; execution
    counts are removed too, except on the checked cells (nbval refuses stored
    outputs without one), which get their position among the code cells, so
    that re-running a notebook gives a readable diff. Cell tags stay.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("print(1)", execution_count=7, outputs=[
    ...         nbformat.v4.new_output("stream", text="1\n")]),
    ...     nbformat.v4.new_code_cell(f"{CHECK_MARK}\nprint(2)", execution_count=9, outputs=[
    ...         nbformat.v4.new_output("stream", text="2\n")])])
    >>> [(c.execution_count, len(c.outputs)) for c in strip_notebook(nb).cells]
    [(None, 0), (2, 1)]
    """
    nb.metadata.pop("papermill", None)
    position = 0
    for cell in nb.cells:
        for key in _VOLATILE_METADATA:
            cell.metadata.pop(key, None)
        if not cell.metadata.get("tags", True):  # papermill adds empty tag lists
            del cell.metadata["tags"]
        if cell.cell_type != "code":
            continue
        position += 1
        if cell.source.lstrip().startswith(CHECK_MARK):
            cell.execution_count = position
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = position
        else:
            cell.execution_count = None
            cell.outputs = []
    return nb


def refresh_notebook(path, *, kernel_name: str | None = None,
                     timeout: float | None = DEFAULT_TIMEOUT) -> Path:
    """Execute a notebook with its defaults and store it stripped (:func:`strip_notebook`).

    Use it after a deliberate change of a number that a ``# NBVAL_CHECK_OUTPUT``
    cell prints: the notebook keeps the new printed outputs and nothing else.

    Parameters
    ----------
    path : str or Path
        The notebook, rewritten in place.
    kernel_name : str, optional
        As for :func:`run_batch`.
    timeout : float or None, default :data:`DEFAULT_TIMEOUT`
        Seconds the run may take, as for :func:`run_batch`.

    Returns
    -------
    Path
        ``path``, absolute.

    Raises
    ------
    NotebookError
        As :func:`run_batch`, when the notebook fails (the file is left unchanged).
    """
    import tempfile

    import nbformat

    timeout = _check_timeout(timeout)
    path = Path(path).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        # outputs go to a scratch folder; the injected cell is removed below
        declared = tuple(p for p in _declared_parameters(path, str(path)) if p == "output_dir")
        run = Run(1, path.stem, path, {}, declared)
        result = _execute(run, str(path), Path(tmp), Path(tmp), kernel_name, timeout)
        nb = nbformat.read(result.executed, as_version=4)
    dropped = {"papermill-error-cell-tag", "injected-parameters"}
    nb.cells = [c for c in nb.cells if not dropped & set(c.metadata.get("tags", []))]
    nb = strip_notebook(nb)
    nbformat.write(nb, path)
    return path


def _default_batch() -> Path:
    here = DEFAULT_BATCH
    if here.is_file():
        return here
    checkout = Path(__file__).resolve().parent.parent / DEFAULT_BATCH
    return checkout if checkout.is_file() else here


def _without_iri_grammar() -> None:
    """Spare this command's process a 2.7 s import that it never uses.

    nbformat imports jsonschema, which imports ``rfc3987_syntax`` when it is
    installed (JupyterLab's jupyter-events brings it) to check the "iri" string
    format; that module builds a parser for its grammar on import. Notebook
    schemas use no such format. Only for the ``ringgeo figures`` process, before
    anything imports jsonschema: a Python session calling :func:`run_batch` is left as it is.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # "import" then raises ImportError


def _figures_command(args) -> int:
    _without_iri_grammar()

    # Fetch (or find in the mirror) and verify every source once, before any kernel
    # starts: a missing file is then one clear error rather than a failure inside the
    # first notebook, and parallel kernels never download the same file at once.
    data.fetch_all(progressbar=not args.no_progress)
    start = time.time()
    # the parsed-data cache is built once too, before the first kernel (warm_cache)
    results = run_batch(args.batch, output_dir=args.output_dir, build_dir=args.build_dir,
                        jobs=args.jobs, progress=not args.no_progress, warm_cache=True,
                        kernel_name=args.kernel, only=args.only, timeout=args.timeout)
    for res in results:
        print(f"ran {res.notebook.name:<26} -> {res.executed}  ({res.seconds:.1f} s)")
    folder = Path(args.output_dir).resolve()
    written = [p for p in folder.iterdir() if p.is_file() and p.stat().st_mtime >= start - 1]
    print(f"{len(results)} notebook(s) run; {len(written)} file(s) written to {folder}")
    return 0


def add_cli(subparsers) -> None:
    """Register ``ringgeo figures`` on the ``ringgeo`` command's sub-parsers."""
    parser = subparsers.add_parser(
        "figures", help="regenerate every standard figure and table (runs notebooks/runs.yaml)",
        description="Run a batch of parameterized notebooks with papermill: executed notebooks "
                    "go to the build folder, figures and tables to the output folder.")
    parser.add_argument("--batch", metavar="FILE",
                        help=f"batch file of runs (default: {DEFAULT_BATCH})")
    parser.add_argument("--output-dir", metavar="DIR", default="output",
                        help="folder for figures and tables (default: output)")
    parser.add_argument("--build-dir", metavar="DIR", default="build",
                        help="folder for the executed notebooks (default: build)")
    parser.add_argument("--jobs", "-j", metavar="N", type=int, default=1,
                        help="notebooks to run at the same time (default: 1)")
    parser.add_argument("--only", metavar="NAME", action="append",
                        help="run only this run (repeatable)")
    parser.add_argument("--kernel", metavar="NAME", default=None,
                        help="Jupyter kernel name (default: a kernel of the Python running "
                             "ringgeo)")
    parser.add_argument("--timeout", metavar="SECONDS", type=_timeout_argument,
                        default=DEFAULT_TIMEOUT,
                        help="stop a notebook run that takes longer, and fail (default: "
                             f"{DEFAULT_TIMEOUT:g})")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=_figures_command)


def _timeout_argument(text: str) -> float:
    """``--timeout``'s value: a number of seconds > 0 (argparse says what is wrong)."""
    import argparse

    try:
        return _check_timeout(float(text))
    except (ValueError, ParameterError):
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds > 0 (how long each notebook run may take), "
            f"got {text!r}") from None
