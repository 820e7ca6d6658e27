"""Tests of ringgeo._forkserver: the batch's kernels forked from one warmed process.

A forked kernel must be indistinguishable from a fresh one in what a notebook
computes and shows; these tests run the same notebooks both ways and compare.
"""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import nbformat
import pytest
import yaml

from ringgeo import _forkserver, runner
from ringgeo.exceptions import InputError, NotebookError

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="kernels are forked on Linux only")


def make_notebook(path, *cells, parameters="output_dir = 'x'\noutput_name = 'y'"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, path)
    return path


def batch_of(folder, runs):
    path = folder / "runs.yaml"
    path.write_text(yaml.safe_dump({"runs": runs}, sort_keys=False))
    return path


def run(batch, tmp_path, tag, *, fork, monkeypatch, jobs=1):
    monkeypatch.setenv(_forkserver.ENV, "1" if fork else "0")
    return runner.run_batch(batch, output_dir=tmp_path / f"out_{tag}",
                            build_dir=tmp_path / f"build_{tag}", jobs=jobs, progress=False)


def outputs(executed: pathlib.Path) -> list[str]:
    """A notebook's outputs, without what differs between any two kernels."""
    nb = nbformat.read(executed, as_version=4)
    found = []
    for cell in nb.cells:
        merged = []  # a stream's text comes in as many pieces as the kernel flushed
        for out in cell.get("outputs", []):
            out = {k: v for k, v in out.items() if k not in ("execution_count", "metadata")}
            if out["output_type"] == "stream" and merged and merged[-1].get("name") == out["name"]:
                merged[-1] = dict(merged[-1], text=merged[-1]["text"] + out["text"])
            else:
                merged.append(out)
        for out in merged:
            text = json.dumps(out, sort_keys=True)
            text = re.sub(r"ipykernel_\d+/\d+", "ipykernel_X", text)  # cell file names
            text = re.sub(r" at 0x[0-9a-f]+", "", text)  # object addresses
            found.append(text)
    return found


PROBE = (
    "import os, sys, warnings\n"
    "import numpy as np, pandas as pd\n"
    "print('cwd', os.path.basename(os.getcwd()), 'path0', repr(sys.path[0]))\n"
    "print('env', os.environ.get('RINGGEO_PROBE'), 'parent', 'JPY_PARENT_PID' in os.environ)\n"
    "print('main', __name__, 'argv0', os.path.basename(sys.argv[0]))\n"
    "warnings.warn('a warning from the notebook')\n"
    "frame = pd.DataFrame({f'column{i}': ['a fairly long text'] * 2 for i in range(9)})\n"
    "print(repr(frame))"
)


@pytest.mark.slow  # starts Jupyter kernels
def test_forked_kernel_shows_what_a_fresh_kernel_shows(tmp_path, monkeypatch):
    folder = tmp_path / "nb"
    folder.mkdir()
    make_notebook(folder / "probe.ipynb", PROBE, "import matplotlib.pyplot as plt\n"
                  "fig, ax = plt.subplots(figsize=(2, 1)); ax.plot([0, 1]); plt.show()")
    batch = batch_of(folder, [{"notebook": "probe.ipynb", "name": "probe"}])
    monkeypatch.setenv("RINGGEO_PROBE", "seen")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernels' own: inline
    run(batch, tmp_path, "fork", fork=True, monkeypatch=monkeypatch)
    run(batch, tmp_path, "plain", fork=False, monkeypatch=monkeypatch)
    forked = outputs(tmp_path / "build_fork" / "probe.ipynb")
    fresh = outputs(tmp_path / "build_plain" / "probe.ipynb")
    assert forked == fresh
    shown = "".join(forked)
    assert "cwd nb path0" in shown and "env seen parent True" in shown
    assert "main __main__ argv0 ipykernel_launcher.py" in shown
    assert "a warning from the notebook" in shown
    # pandas' default in a kernel shows up to 20 columns (wrapped); in a terminal, as
    # many as fit its width, the middle ones left out ("...")
    assert all(f"column{i}" in shown for i in range(9)) and "..." not in shown
    assert '"image/png"' in shown  # the figure, shown by the inline backend


IDENTITY = (
    "import gc, json, os, pathlib, numpy as np\n"
    "pathlib.Path(output_dir, output_name + '.json').write_text(json.dumps(\n"
    "    {'pid': os.getpid(), 'ppid': os.getppid(), 'draw': np.random.random(),\n"
    "     'sid': os.getsid(0), 'frozen': gc.get_freeze_count(), 'gc': gc.isenabled()}))"
)


@pytest.mark.slow  # starts Jupyter kernels
def test_each_run_has_its_own_forked_kernel_and_random_numbers(tmp_path, monkeypatch):
    folder = tmp_path / "nb"
    folder.mkdir()
    make_notebook(folder / "who.ipynb", IDENTITY)
    batch = batch_of(folder, [{"notebook": "who.ipynb", "name": f"r{i}"} for i in range(3)])
    forked = []
    spawn = _forkserver.ForkServer.spawn
    monkeypatch.setattr(_forkserver.ForkServer, "spawn",
                        lambda self, *a, **kw: forked.append(spawn(self, *a, **kw)) or forked[-1])
    run(batch, tmp_path, "fork", fork=True, monkeypatch=monkeypatch, jobs=2)
    seen = [json.loads(p.read_text()) for p in sorted((tmp_path / "out_fork").glob("r*.json"))]
    assert len(seen) == 3
    # the server, which loaded numpy (and its BLAS threads), forked each from one thread
    assert sorted(k.pid for k in forked) == sorted(s["pid"] for s in seen)
    assert all(k.threads_at_fork == 1 for k in forked)
    assert all(k.poll() == 0 for k in forked)  # each ended as asked, and said so
    assert len({s["pid"] for s in seen}) == 3  # one kernel a run
    assert {s["ppid"] for s in seen} != {os.getpid()}  # children of the server, not of us
    assert len({s["ppid"] for s in seen}) == 1  # all of one server
    assert all(s["sid"] == s["pid"] for s in seen)  # each leads its own session
    assert len({s["draw"] for s in seen}) == 3  # numpy reseeded in each kernel
    # what the server loaded is out of the kernels' garbage collections, which still run
    assert all(s["frozen"] > 10_000 and s["gc"] for s in seen)
    # after the batch, neither the kernels nor the server are left
    deadline = time.monotonic() + 10
    pids = [s["pid"] for s in seen] + [seen[0]["ppid"]]
    while any(pathlib.Path(f"/proc/{pid}").exists() for pid in pids) \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(pathlib.Path(f"/proc/{pid}").exists() for pid in pids)


@pytest.mark.slow  # starts Jupyter kernels
def test_forked_kernels_end_when_asked(tmp_path, monkeypatch):
    """No kernel has to be terminated: ipykernel's socket teardown, which could hang on
    its control thread (about one kernel in four), is skipped by forked kernels."""
    from jupyter_client.manager import AsyncKernelManager

    terminated = []
    real = AsyncKernelManager._async_send_kernel_sigterm

    async def sigterm(self, *args, **kwargs):
        terminated.append(self.kernel_id)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(AsyncKernelManager, "_async_send_kernel_sigterm", sigterm)
    folder = tmp_path / "nb"
    folder.mkdir()
    make_notebook(folder / "empty.ipynb")  # where it showed: a notebook of parameters only
    batch = batch_of(folder, [{"notebook": "empty.ipynb", "name": f"r{i}"} for i in range(10)])
    results = run(batch, tmp_path, "fork", fork=True, monkeypatch=monkeypatch)
    assert len(results) == 10 and terminated == []


@pytest.mark.slow  # starts Jupyter kernels
@pytest.mark.parametrize("fork", [True, False], ids=["forked", "new-process"])
def test_a_kernel_that_dies_is_reported_with_its_status_and_log(tmp_path, monkeypatch, fork):
    folder = tmp_path / "nb"
    folder.mkdir()
    # what a kernel writes to its standard error outside the notebook (a C library's
    # message, say) goes to the run's log; ipykernel passes it on from its pipe
    make_notebook(folder / "dies.ipynb", "import os, time\nos.write(2, b'about to die\\n')\n"
                  "time.sleep(0.5)\nos._exit(3)", "print('unreachable')")
    batch = batch_of(folder, [{"notebook": "dies.ipynb", "name": "dies"}])
    log = tmp_path / "build_k" / "dies.log"
    with pytest.raises(NotebookError) as info:
        run(batch, tmp_path, "k", fork=fork, monkeypatch=monkeypatch)
    message = str(info.value)
    assert re.search(r"dies.ipynb .* could not run: DeadKernelError", message)
    assert "the kernel exited with status 3" in message  # its real status, forked or not
    assert f"what the kernel printed is in {log}" in message
    text = log.read_text()
    assert "about to die" in text and "exited with status 3" in text


@pytest.mark.slow  # starts Jupyter kernels
@pytest.mark.parametrize("fork", [True, False], ids=["forked", "new-process"])
def test_a_stuck_kernel_is_stopped_at_the_time_limit(tmp_path, monkeypatch, fork):
    folder = tmp_path / "nb"
    folder.mkdir()
    make_notebook(folder / "stuck.ipynb", "print('started')", "import time\ntime.sleep(1000)",
                  "print('unreachable')")
    batch = batch_of(folder, [{"notebook": "stuck.ipynb", "name": "stuck"}])
    monkeypatch.setenv(_forkserver.ENV, "1" if fork else "0")
    start = time.monotonic()
    with pytest.raises(runner.NotebookTimeoutError) as info:
        runner.run_batch(batch, output_dir=tmp_path / "out", build_dir=tmp_path / "build",
                         progress=False, timeout=5)
    took = time.monotonic() - start
    message = str(info.value)
    assert f"notebook stuck.ipynb ({batch}, run 1 ('stuck'))" in message
    assert "time limit of 5 s" in message and "cell [4] (`import time`)" in message
    assert "--timeout SECONDS" in message
    assert isinstance(info.value, NotebookError) and info.value.timeout == 5
    assert 5 <= took < 25


IN_THE_KERNEL = (
    "import atexit, pathlib, tempfile\n"
    "folder = tempfile.TemporaryDirectory()  # removed when the kernel ends\n"
    "out = pathlib.Path(output_dir)\n"
    "(out / 'tmp.txt').write_text(folder.name)\n"
    "atexit.register((out / 'atexit.txt').write_text, 'ran')"
)


@pytest.mark.slow  # starts Jupyter kernels
def test_a_forked_kernel_runs_its_own_exit_handlers(tmp_path, monkeypatch):
    folder = tmp_path / "nb"
    folder.mkdir()
    make_notebook(folder / "ends.ipynb", IN_THE_KERNEL)
    batch = batch_of(folder, [{"notebook": "ends.ipynb", "name": "ends"}])
    run(batch, tmp_path, "fork", fork=True, monkeypatch=monkeypatch)
    out = tmp_path / "out_fork"
    deadline = time.monotonic() + 5
    while not (out / "atexit.txt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (out / "atexit.txt").read_text() == "ran"
    assert not pathlib.Path((out / "tmp.txt").read_text()).exists()  # weakref.finalize ran


def test_the_server_reports_real_exit_status_and_forks_from_one_thread(tmp_path):
    """numpy's and scipy's OpenBLAS start thread pools when imported; the server forks
    from one thread all the same, and hands on each kernel's exit status."""
    server = _forkserver.ForkServer(["numpy", "scipy.linalg"], dict(os.environ))
    try:
        server.ready()
        log = tmp_path / "k.log"
        # a kernel that cannot even start (no such folder): status 1, the exception logged
        kernel = server.spawn(["-f", str(tmp_path / "k.json")], cwd=tmp_path / "nope",
                              env=dict(os.environ), launcher="ipykernel_launcher.py", log=log)
        assert kernel.threads_at_fork == 1
        assert kernel.wait(timeout=10) == 1 and kernel.poll() == 1
        text = log.read_text()
        assert "died of an exception" in text and "FileNotFoundError" in text
        # a kernel that runs until it is killed: minus the signal, as Popen says
        kernel = server.spawn(["-f", str(tmp_path / "k.json")], cwd=tmp_path,
                              env=dict(os.environ), launcher="ipykernel_launcher.py", log=log)
        assert kernel.threads_at_fork == 1
        with pytest.raises(subprocess.TimeoutExpired):
            kernel.wait(timeout=0.5)
        assert kernel.poll() is None
        kernel.kill()
        assert kernel.wait(timeout=10) == -signal.SIGKILL
    finally:
        server.close()


def test_the_server_imports_what_a_kernel_imports_not_the_current_folder(tmp_path, monkeypatch):
    """Run from a checkout of another ringgeo, the server still loads this one."""
    (tmp_path / "ringgeo").mkdir()
    (tmp_path / "ringgeo" / "__init__.py").write_text("raise ImportError('the wrong ringgeo')\n")
    monkeypatch.chdir(tmp_path)
    server = _forkserver.ForkServer([], dict(os.environ))
    try:
        server.ready()
        kernel = server.spawn(["-f", str(tmp_path / "k.json")], cwd=tmp_path / "nope",
                              env=dict(os.environ), launcher="ipykernel_launcher.py")
        assert kernel.wait(timeout=10) == 1
    finally:
        server.close()


def test_a_server_running_threads_does_not_fork(tmp_path):
    (tmp_path / "threaded.py").write_text(
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,), name='busy', daemon=True).start()\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]))
    server = _forkserver.ForkServer(["threaded"], env)
    with pytest.raises(RuntimeError, match=r"could not start: RuntimeError: the fork server "
                                           r"runs 2 OS threads .*busy.* may deadlock"):
        server.ready()
    assert server._process.poll() is not None


@pytest.mark.slow  # starts Jupyter kernels
@pytest.mark.parametrize("failure", ["load", "process"])
def test_a_server_that_cannot_start_leaves_fresh_kernels(tmp_path, monkeypatch, failure):
    def cannot_load(self):
        self.close()
        raise RuntimeError("the kernel fork server could not start: InputError: bad source")

    def no_process(self, preload, env):
        raise OSError("Resource temporarily unavailable")

    if failure == "load":
        monkeypatch.setattr(_forkserver.ForkServer, "ready", cannot_load)
    else:
        monkeypatch.setattr(_forkserver.ForkServer, "__init__", no_process)
    folder = tmp_path / "nb"
    folder.mkdir()
    make_notebook(folder / "who.ipynb", IDENTITY)
    batch = batch_of(folder, [{"notebook": "who.ipynb", "name": "r0"}])
    run(batch, tmp_path, "fork", fork=True, monkeypatch=monkeypatch)
    seen = json.loads((tmp_path / "out_fork" / "r0.json").read_text())
    assert seen["ppid"] == os.getpid()  # a kernel started by the runner itself


def test_switch_and_kernel_name_turn_forking_off(monkeypatch, tmp_path):
    for off in ("0", "false", "No", "off"):
        monkeypatch.setenv(_forkserver.ENV, off)
        assert not _forkserver.enabled() and not _forkserver.worth_it(13, 2)
    monkeypatch.delenv(_forkserver.ENV)  # by default: when each job runs more than 2 runs
    assert _forkserver.worth_it(13, 2) and _forkserver.worth_it(3, 1)
    assert not _forkserver.worth_it(4, 2) and not _forkserver.worth_it(1, 1)
    monkeypatch.setenv(_forkserver.ENV, "1")  # every batch
    assert _forkserver.enabled() and _forkserver.worth_it(1, 1)
    folder = tmp_path / "nb"
    folder.mkdir()
    make_notebook(folder / "who.ipynb", IDENTITY)
    content, _, root = runner._read_batch(batch_of(folder, [{"notebook": "who.ipynb",
                                                             "name": "r0"}]))
    assert runner._start_server(content, root, None, 1, "python3") is None  # a kernelspec
    monkeypatch.delenv(_forkserver.ENV)
    assert runner._start_server(content, root, None, 1, None) is None  # one run: a new
    # kernel process is quicker


def test_the_server_loads_while_the_batch_is_checked(tmp_path, monkeypatch):
    """Started before the checks, the server is stopped when the batch is bad."""
    monkeypatch.setenv(_forkserver.ENV, "1")
    folder = tmp_path / "nb"
    folder.mkdir()
    make_notebook(folder / "who.ipynb", IDENTITY)
    started = []
    real = _forkserver.ForkServer

    class Recorded(real):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(_forkserver, "ForkServer", Recorded)
    bad = batch_of(folder, [{"notebook": "who.ipynb", "name": "r0", "parameters": {"nope": 1}}])
    with pytest.raises(InputError, match="has no parameter"):
        runner.run_batch(bad, output_dir=tmp_path / "out", build_dir=tmp_path / "build",
                         progress=False)
    assert len(started) == 1 and started[0]._process.poll() is not None  # stopped
    good = batch_of(folder, [{"notebook": "who.ipynb", "name": "r0"}])
    results = runner.run_batch(good, output_dir=tmp_path / "out", build_dir=tmp_path / "build",
                               progress=False)
    assert len(started) == 2 and started[1]._process.poll() is not None  # ended with the batch
    assert len(results) == 1


def test_only_batches_that_import_ringgeo_preload_it(tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    make_notebook(folder / "plain.ipynb", "x = 1")
    make_notebook(folder / "uses.ipynb", "from ringgeo import params")
    (folder / "broken.ipynb").write_text("{not json", encoding="utf-8")
    assert not runner._notebooks_import_ringgeo([folder / "plain.ipynb"])
    assert not runner._notebooks_import_ringgeo([folder / "plain.ipynb", folder / "broken.ipynb"])
    assert runner._notebooks_import_ringgeo([folder / "plain.ipynb", folder / "uses.ipynb"])


@pytest.mark.slow  # runs standard notebooks twice on the mirror
def test_standard_runs_are_identical_in_forked_and_fresh_kernels(tmp_path, monkeypatch):
    standard = yaml.safe_load((NOTEBOOKS / "runs.yaml").read_text())["runs"]
    chosen = {"table0_partners_by_state_year", "fig5_il_county_partners_per_100k",
              "fig7_growth", "fig10_lookup_08054"}
    runs = [dict(r, notebook=str(NOTEBOOKS / r["notebook"])) for r in standard
            if r["name"] in chosen]
    assert len(runs) == len(chosen)
    batch = batch_of(tmp_path, runs)
    run(batch, tmp_path, "fork", fork=True, monkeypatch=monkeypatch, jobs=2)
    run(batch, tmp_path, "plain", fork=False, monkeypatch=monkeypatch, jobs=2)
    for name in sorted(chosen):
        forked = outputs(tmp_path / "build_fork" / f"{name}.ipynb")
        fresh = outputs(tmp_path / "build_plain" / f"{name}.ipynb")
        assert forked == fresh, name
    written = sorted(p.name for p in (tmp_path / "out_fork").iterdir())
    assert written == sorted(p.name for p in (tmp_path / "out_plain").iterdir())
    assert len(written) >= 7
    for name in written:  # figures and tables, byte for byte
        assert (tmp_path / "out_fork" / name).read_bytes() == \
            (tmp_path / "out_plain" / name).read_bytes(), name


@pytest.mark.slow  # starts Jupyter kernels
def test_the_server_imports_the_deferred_modules_while_idle(tmp_path, monkeypatch):
    """Once ready, the server imports the web map (folium) while no kernel is asked for:
    a kernel forked later has it; one forked before imports it itself, and works."""
    folder = tmp_path / "nb"
    folder.mkdir()
    probe = ("import sys, time\nimport ringgeo\n"
             "print('loaded', [m in sys.modules for m in ('folium', 'ringgeo.plot._explore')])\n"
             "import folium\ntime.sleep(0.5)  # the server is idle meanwhile")
    make_notebook(folder / "probe.ipynb", probe)
    batch = batch_of(folder, [{"name": f"probe{i}", "notebook": "probe.ipynb"}
                              for i in range(3)])
    results = run(batch, tmp_path, "deferred", fork=True, monkeypatch=monkeypatch)
    printed = [outputs(r.executed)[0] for r in results]
    assert all("loaded" in text for text in printed)
    assert "loaded [True, True]" in printed[-1]
    assert _forkserver._DEFERRED == ("ringgeo.plot._explore",)


def test_a_deferred_module_that_cannot_be_imported_is_left_to_the_kernels():
    _forkserver._load_deferred("ringgeo_no_such_module")  # no error: a kernel would say why
    assert "ringgeo_no_such_module" not in sys.modules


def test_mapclassify_is_imported_ahead_only_when_the_cache_was_cold(monkeypatch):
    """A warm cache serves every class break: mapclassify would only take a core from the
    first kernels. A cold one (the server built tables) has none: the kernels need it."""
    from ringgeo import tablecache

    monkeypatch.setattr(tablecache, "_BUILT", [])
    assert _forkserver._deferred(["ringgeo"]) == ["ringgeo.plot._explore"]
    monkeypatch.setattr(tablecache, "_BUILT", ["partners-0123"])
    assert _forkserver._deferred(["ringgeo"]) == ["ringgeo.plot._explore", "mapclassify"]
    assert _forkserver._deferred([]) == []
