"""Tests of ringgeo.runner: the papermill batch behind ``ringgeo figures``.

Tiny notebooks are written into tmp_path; they run in the ``python3`` kernel
(the venv's, installed by ``python -m ipykernel install --sys-prefix``).
"""

import json
import os
import pathlib
import re

import nbformat
import pytest
import yaml

from ringgeo import cli, runner
from ringgeo.exceptions import InputError, NotebookError, ParameterError

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
KERNEL = "python3"


def make_notebook(path, parameters, *cells):
    """Write a notebook: a tagged parameters cell, then the given code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# tiny"), params]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, path)
    return path


WRITER = (
    "import json, os, pathlib, time\n"
    "start = time.time()\n"
    "time.sleep(pause)\n"
    "out = pathlib.Path(output_dir) / f'{output_name}.json'\n"
    "out.write_text(json.dumps({'value': value, 'output_dir': output_dir, 'cwd': os.getcwd(),\n"
    "                           'start': start, 'end': time.time()}))"
)
WRITER_PARAMS = ("value: int = 1  # a number to write\n"
                 "pause: float = 0.0  # seconds to sleep\n"
                 "output_dir: str = 'output'  # folder\n"
                 "output_name: str = 'tiny'  # file stem")


@pytest.fixture
def tiny(tmp_path):
    """A folder with a writer notebook and a failing notebook."""
    folder = tmp_path / "nb"
    folder.mkdir()
    make_notebook(folder / "writer.ipynb", WRITER_PARAMS, WRITER)
    make_notebook(folder / "failing.ipynb", "divisor: int = 0  # zero fails",
                  "x = 1", "ratio = 10 / divisor", "print('unreachable')")
    return folder


def write_batch(folder, runs, name="runs.yaml"):
    path = folder / name
    path.write_text(yaml.safe_dump({"runs": runs}, sort_keys=False))
    return path


def run(batch, tmp_path, **kwargs):
    kwargs.setdefault("progress", False)
    kwargs.setdefault("kernel_name", KERNEL)
    return runner.run_batch(batch, output_dir=tmp_path / "out", build_dir=tmp_path / "build",
                            **kwargs)


@pytest.mark.slow  # starts a Jupyter kernel
def test_batch_writes_outputs_and_executed_notebooks(tiny, tmp_path):
    batch = write_batch(tiny, [
        {"notebook": "writer.ipynb", "name": "first", "parameters": {"value": 7}},
        {"notebook": "writer.ipynb", "parameters": {"value": 8}},
    ])
    results = run(batch, tmp_path)
    assert [r.name for r in results] == ["first", "writer_8"]
    first = json.loads((tmp_path / "out" / "first.json").read_text())
    assert first["value"] == 7
    # the runner hands the notebook an absolute output folder
    assert first["output_dir"] == str((tmp_path / "out").resolve())
    assert json.loads((tmp_path / "out" / "writer_8.json").read_text())["value"] == 8
    for res in results:
        assert res.executed == (tmp_path / "build" / f"{res.name}.ipynb").resolve()
        executed = nbformat.read(res.executed, as_version=4)
        injected = [c for c in executed.cells
                    if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1 and "output_name" in injected[0].source
        assert res.seconds > 0


@pytest.mark.slow  # starts a Jupyter kernel
def test_failure_names_notebook_cell_and_error_and_stops(tiny, tmp_path):
    batch = write_batch(tiny, [
        {"notebook": "writer.ipynb", "name": "before"},
        {"notebook": "failing.ipynb", "name": "broken"},
        {"notebook": "writer.ipynb", "name": "after"},
    ])
    with pytest.raises(NotebookError) as info:
        run(batch, tmp_path)
    err = info.value
    message = str(err)
    assert "notebook failing.ipynb" in message
    assert f"{batch}, run 2 ('broken')" in message
    # parameters [1], x = 1 [2], the division [3] (nothing to inject: no parameters given)
    assert "failed in cell [3] (`ratio = 10 / divisor`)" in message
    assert "ZeroDivisionError: division by zero" in message
    assert "(1 later run(s) not executed)" in message
    assert str(tmp_path / "build" / "broken.ipynb") in message
    assert err.ename == "ZeroDivisionError" and err.exec_count == 3
    assert err.executed.is_file()  # the executed notebook, traceback included, to inspect
    assert (tmp_path / "out" / "before.json").is_file()
    assert not (tmp_path / "out" / "after.json").exists()
    assert not (tmp_path / "build" / "after.ipynb").exists()


@pytest.mark.slow  # starts a Jupyter kernel
def test_two_jobs_run_notebooks_at_the_same_time(tiny, tmp_path):
    here = os.getcwd()
    batch = write_batch(tiny, [
        {"notebook": "writer.ipynb", "name": "a", "parameters": {"value": 1, "pause": 3.0}},
        {"notebook": "writer.ipynb", "name": "b", "parameters": {"value": 2, "pause": 3.0}},
    ])
    results = run(batch, tmp_path, jobs=2)
    assert [r.name for r in results] == ["a", "b"]
    a, b = (json.loads((tmp_path / "out" / f"{n}.json").read_text()) for n in "ab")
    assert (a["value"], b["value"]) == (1, 2)
    assert a["start"] < b["end"] and b["start"] < a["end"]  # the runs overlapped
    # each kernel starts in its notebook's folder; the caller's folder is untouched
    assert a["cwd"] == b["cwd"] == str(tiny.resolve())
    assert os.getcwd() == here


@pytest.mark.slow  # starts Jupyter kernels
def test_two_jobs_start_the_runs_that_took_longest_last_time_first(tiny, tmp_path):
    batch = write_batch(tiny, [
        {"notebook": "writer.ipynb", "name": n, "parameters": {"value": i, "pause": p}}
        for i, (n, p) in enumerate([("short1", 0.0), ("short2", 0.0), ("long", 2.0)])])
    results = run(batch, tmp_path, jobs=2)  # no executed notebooks yet: batch order
    first = {n: json.loads((tmp_path / "out" / f"{n}.json").read_text())["start"]
             for n in ("short1", "short2", "long")}
    assert first["long"] > min(first["short1"], first["short2"])
    assert [r.name for r in results] == ["short1", "short2", "long"]
    results = run(batch, tmp_path, jobs=2)  # the same build folder: "long" starts first
    again = {n: json.loads((tmp_path / "out" / f"{n}.json").read_text())["start"]
             for n in ("short1", "short2", "long")}
    assert again["long"] < max(again["short1"], again["short2"])
    assert [r.name for r in results] == ["short1", "short2", "long"]  # still batch order


def test_longest_first_reads_last_durations_and_keeps_unknown_runs_ahead(tiny, tmp_path):
    runs = runner.load_batch(write_batch(tiny, [
        {"notebook": "writer.ipynb", "name": n} for n in ("new", "quick", "slow", "broken")]))
    build = tmp_path / "build"
    build.mkdir()
    for name, seconds in (("quick", 1.5), ("slow", 9.0)):
        nb = nbformat.v4.new_notebook()
        nb.metadata["papermill"] = {"duration": seconds}
        nbformat.write(nb, build / f"{name}.ipynb")
    (build / "broken.ipynb").write_text("{not json")
    order = [r.name for r in runner._longest_first(runs, build, jobs=2)]
    assert order == ["new", "broken", "slow", "quick"]
    assert [r.name for r in runner._longest_first(runs, build, jobs=1)] == \
        ["new", "quick", "slow", "broken"]


@pytest.mark.slow  # starts a Jupyter kernel
def test_two_jobs_failure_stops_pending_runs(tiny, tmp_path):
    runs = [{"notebook": "failing.ipynb", "name": "broken"},
            {"notebook": "writer.ipynb", "name": "slow", "parameters": {"pause": 5.0}}]
    runs += [{"notebook": "writer.ipynb", "name": f"later{i}"} for i in range(3)]
    with pytest.raises(NotebookError, match=r"failing\.ipynb.*ZeroDivisionError.*"
                                            r"\((\d) later run\(s\) not executed\)") as info:
        run(write_batch(tiny, runs), tmp_path, jobs=2)
    assert (tmp_path / "out" / "slow.json").is_file()   # already running: allowed to finish
    # Runs queued when the failure arrives never start. "slow" normally outlasts the failing
    # notebook, so none of the later runs starts; on a loaded machine the failing kernel may
    # start late enough for one to be picked up, and the message counts exactly the rest.
    started = len(list((tmp_path / "out").glob("later*")))
    skipped = int(re.search(r"\((\d) later run", str(info.value)).group(1))
    assert skipped >= 2 and started + skipped == 3


@pytest.mark.slow  # starts a Jupyter kernel
def test_names_are_sanitized_and_stay_in_their_folders(tiny, tmp_path):
    batch = write_batch(tiny, [
        {"notebook": "writer.ipynb", "name": "../../Escape/Me"},
        {"notebook": "writer.ipynb", "parameters": {"value": 3, "output_name": "../../../x"}},
    ])
    runs = runner.load_batch(batch)
    assert runs[0].name == "escape_me"
    assert runs[1].name == "writer_3_x"
    run(batch, tmp_path, only="escape_me")
    assert (tmp_path / "build" / "escape_me.ipynb").is_file()
    assert (tmp_path / "out" / "escape_me.json").is_file()
    assert sorted(p.name for p in tmp_path.rglob("*.json")) == ["escape_me.json"]


@pytest.mark.slow  # starts a Jupyter kernel
def test_only_selects_runs_and_rejects_unknown_names(tiny, tmp_path):
    batch = write_batch(tiny, [{"notebook": "writer.ipynb", "name": "a"},
                               {"notebook": "writer.ipynb", "name": "b"}])
    assert [r.name for r in run(batch, tmp_path, only=["b"])] == ["b"]
    assert not (tmp_path / "out" / "a.json").exists()
    with pytest.raises(InputError, match=r"no run named 'c'; runs: a, b"):
        run(batch, tmp_path, only="c")


@pytest.mark.parametrize("content, pattern", [
    ("runs: [", r"not valid YAML"),
    ("{}", r"non-empty list under 'runs:'"),
    ("runs: []", r"non-empty list under 'runs:'"),
    ("runs:\n  - writer.ipynb", r"run 1: expected a mapping"),
    ("runs:\n  - notebook: writer.ipynb\nfigures: 2", r"unknown top-level key\(s\) 'figures'"),
    ("runs:\n  - notebook: writer.ipynb\n    paramters: {value: 2}",
     r"run 1: unknown key\(s\) 'paramters'; allowed keys: name, notebook, parameters"),
    ("runs:\n  - notebook: writer.ipynb\n  - name: x", r"run 2 \('x'\): 'notebook' must name"),
    ("runs:\n  - notebook: missing.ipynb",
     r"run 1: notebook 'missing.ipynb' not found .*available: failing.ipynb, writer.ipynb"),
    ("runs:\n  - notebook: writer.ipynb\n    parameters: [1]", r"'parameters' must be a mapping"),
    ("runs:\n  - notebook: writer.ipynb\n    parameters: {valu: 2}",
     r"writer.ipynb has no parameter 'valu'; its parameters cell declares: value, pause, "
     r"output_dir, output_name"),
    ("runs:\n  - notebook: writer.ipynb\n    parameters: {output_dir: /tmp}",
     r"output_dir is set by the runner"),
    ("runs:\n  - {notebook: writer.ipynb, name: a}\n  - {notebook: writer.ipynb, name: A}",
     r"run 2 \('A'\): name 'a' is already used by run 1"),
    ("runs:\n  - {notebook: writer.ipynb, name: '../..'}", r"cannot build a file name"),
])
def test_bad_batch_files(tiny, tmp_path, content, pattern):
    batch = tiny / "bad.yaml"
    batch.write_text(content)
    with pytest.raises(InputError, match=rf"{batch}.*{pattern}"):
        run(batch, tmp_path)
    assert not (tmp_path / "build").exists()  # nothing ran


def test_missing_batch_file(tmp_path):
    with pytest.raises(InputError, match=r"batch file .*nope.yaml' not found.*--batch FILE"):
        run(tmp_path / "nope.yaml", tmp_path)


def test_bad_jobs(tiny, tmp_path):
    batch = write_batch(tiny, [{"notebook": "writer.ipynb"}])
    with pytest.raises(ParameterError, match=r"`jobs` was 0"):
        run(batch, tmp_path, jobs=0)


@pytest.mark.parametrize("timeout", [0, -5, "600", True, float("nan"), float("inf")])
def test_bad_timeout(tiny, tmp_path, timeout):
    batch = write_batch(tiny, [{"notebook": "writer.ipynb"}])
    with pytest.raises(ParameterError, match=r"`timeout` was .* a number of seconds > 0"):
        run(batch, tmp_path, timeout=timeout)
    assert not (tmp_path / "build").exists()  # nothing ran


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_cli_bad_timeout_fails_before_anything_runs(value, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["figures", "--timeout", value, "--batch", "nowhere.yaml"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --timeout: expected a number of seconds > 0" in err and repr(value) in err


@pytest.mark.slow  # starts a Jupyter kernel
def test_cli_timeout_stops_a_long_run(tiny, tmp_path, capsys):
    batch = write_batch(tiny, [{"notebook": "writer.ipynb", "name": "slow",
                                "parameters": {"pause": 60.0}}])
    code = cli.main(["figures", "--batch", str(batch), "--timeout", "3", "--output-dir",
                     str(tmp_path / "out"), "--build-dir", str(tmp_path / "build"),
                     "--no-progress", "--kernel", KERNEL])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("ringgeo: error: notebook writer.ipynb")
    assert "run 1 ('slow')" in err and "time limit of 3 s" in err and "--timeout" in err
    assert not (tmp_path / "out" / "slow.json").exists()


@pytest.mark.slow  # starts a Jupyter kernel
def test_cli_success_and_failure(tiny, tmp_path, capsys):
    good = write_batch(tiny, [{"notebook": "writer.ipynb", "name": "ok"}], "good.yaml")
    args = ["--output-dir", str(tmp_path / "out"), "--build-dir", str(tmp_path / "build"),
            "--no-progress", "--kernel", KERNEL]
    assert cli.main(["figures", "--batch", str(good), *args]) == 0
    out = capsys.readouterr().out
    assert "writer.ipynb" in out and str(tmp_path / "build" / "ok.ipynb") in out
    assert f"1 notebook(s) run; 1 file(s) written to {tmp_path / 'out'}" in out
    bad = write_batch(tiny, [{"notebook": "failing.ipynb"}], "bad.yaml")
    assert cli.main(["figures", "--batch", str(bad), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ringgeo: error: notebook failing.ipynb")
    assert "ZeroDivisionError" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow  # starts a Jupyter kernel
def test_default_kernel_is_this_python(tiny, tmp_path, monkeypatch):
    # a python3 kernelspec first on the Jupyter path that points at another Python
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": ["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Another Python", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    batch = write_batch(tiny, [{"notebook": "writer.ipynb", "name": "here"}])
    run(batch, tmp_path, kernel_name=None)
    assert (tmp_path / "out" / "here.json").is_file()
    with pytest.raises(NotebookError, match=r"writer.ipynb .* could not run: .*nonexistent"):
        run(batch, tmp_path, kernel_name="python3")


def test_standard_batch_is_valid():
    runs = runner.load_batch(NOTEBOOKS / "runs.yaml")
    by_notebook = {}
    for r in runs:
        by_notebook.setdefault(r.notebook.name, []).append(r)
    maps = by_notebook["02_coverage_map.ipynb"]
    national_state = {r.parameters["metric"] for r in maps
                      if r.parameters.get("level") == "state"}
    assert {"partners_per_100k", "share_covered_min", "share_covered_max"} <= national_state
    assert any(r.parameters.get("level") == "county" and not r.parameters.get("state")
               for r in maps)
    assert len({r.parameters["state"] for r in maps if r.parameters.get("state")}) >= 2
    assert "04_growth_timeline.ipynb" in by_notebook
    assert "03_per_capita_tables.ipynb" in by_notebook
    assert {r.parameters["technology"] for r in by_notebook["09_technologies.ipynb"]} >= {
        "face_recognition", "alpr"}
    assert all(r.name.startswith(("fig", "table")) for r in runs)


@pytest.mark.slow  # starts a Jupyter kernel
def test_notebook_with_bad_parameter_fails_in_validation_cell(tmp_path):
    batch = {"runs": [{"notebook": str(NOTEBOOKS / "02_coverage_map.ipynb"),
                       "parameters": {"metric": "bogus"}}]}
    with pytest.raises(NotebookError) as info:
        run(batch, tmp_path)
    err = info.value
    assert err.ename == "ParameterError"
    assert "`metric` was 'bogus'" in err.evalue and "'partners_per_100k'" in err.evalue
    # parameters [1], injected parameters [2], imports and validation [3]: nothing loaded yet
    assert err.exec_count == 3
    assert "02_coverage_map.ipynb" in str(err)


# ----------------------------------------------------------- committed notebooks
COMMITTED = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_notebooks_are_committed():
    assert [p.name for p in COMMITTED] == [
        "01_partners_overview.ipynb", "02_coverage_map.ipynb", "03_per_capita_tables.ipynb",
        "04_growth_timeline.ipynb", "05_classroom_lab.ipynb", "06_lookup.ipynb",
        "07_explore_map.ipynb", "08_who_is_covered.ipynb", "09_technologies.ipynb"]


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
def test_committed_notebook_layout(path):
    nb = nbformat.read(path, as_version=4)
    # opens by saying what it reads and writes
    assert nb.cells[0].cell_type == "markdown"
    assert "**Reads**" in nb.cells[0].source and "**Writes**" in nb.cells[0].source
    # one tagged parameters cell, the first code cell, every parameter typed and commented
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0]
    found = __import__("papermill").inspect_notebook(str(path))
    assert found and all(p["inferred_type_name"] != "None" and p["help"] for p in found.values())
    # then the validation cell, through ringgeo.params
    assert "params.validate_" in code[1].source
    # the installed package, never a path hack
    assert not any("sys.path" in c.source for c in code)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
def test_committed_notebook_is_stripped(path):
    nb = nbformat.read(path, as_version=4)
    assert "papermill" not in nb.metadata
    checked = [c for c in nb.cells if c.cell_type == "code"
               and c.source.startswith(runner.CHECK_MARK)]
    assert checked and all(c.outputs for c in checked)  # key numbers are stored
    again = runner.strip_notebook(nbformat.read(path, as_version=4))
    assert again == nb  # nothing left to strip: no stray outputs, counts or timings
    text = path.read_text()
    for volatile in ("/tmp/", "/work/", "ipykernel_", "0x7f", '"duration"'):
        assert volatile not in text


@pytest.mark.slow  # starts a Jupyter kernel
def test_refresh_notebook_keeps_only_checked_outputs(tmp_path):
    path = make_notebook(tmp_path / "nb.ipynb", "n: int = 3  # a number\n"
                         "output_dir: str = 'nowhere'  # folder",
                         "print('not kept')",
                         f"{runner.CHECK_MARK}\nprint(n * 2)",
                         "import pathlib\npathlib.Path(output_dir, 'x.txt').write_text('x')")
    runner.refresh_notebook(path, kernel_name=KERNEL)
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 4  # no injected-parameters cell left behind
    assert [c.execution_count for c in code] == [None, None, 3, None]
    assert [len(c.outputs) for c in code] == [0, 0, 1, 0]
    assert code[2].outputs[0]["text"] == "6\n"
    assert not (tmp_path / "nowhere").exists()  # outputs went to a scratch folder


@pytest.mark.slow  # starts a Jupyter kernel
def test_refresh_notebook_failure_leaves_file_unchanged(tmp_path):
    path = make_notebook(tmp_path / "bad.ipynb", "n: int = 0  # a number", "1 / n")
    before = path.read_bytes()
    with pytest.raises(NotebookError, match=r"bad.ipynb.*ZeroDivisionError"):
        runner.refresh_notebook(path, kernel_name=KERNEL)
    assert path.read_bytes() == before


def test_batch_top_level_key_that_is_not_a_string(tiny):
    batch = tiny / "numbers.yaml"
    batch.write_text("runs:\n  - notebook: writer.ipynb\n1: x\n")
    with pytest.raises(InputError, match=r"unknown top-level key\(s\) '1'; allowed: runs"):
        runner.load_batch(batch)


def test_each_notebook_is_inspected_once_per_batch(tiny, monkeypatch):
    seen = []
    inspect = runner._declared_parameters
    monkeypatch.setattr(runner, "_declared_parameters",
                        lambda nb, where: seen.append(nb) or inspect(nb, where))
    batch = tiny / "twice.yaml"
    batch.write_text("runs:\n  - {notebook: writer.ipynb, name: a}\n"
                     "  - {notebook: writer.ipynb, name: b}\n")
    assert [r.name for r in runner.load_batch(batch)] == ["a", "b"]
    assert len(seen) == 1


def test_cli_stops_before_any_notebook_when_data_is_missing(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RINGGEO_DATA_DIR", str(tmp_path / "empty-mirror"))
    (tmp_path / "empty-mirror").mkdir()
    good = write_batch(tiny, [{"notebook": "writer.ipynb", "name": "ok"}], "good.yaml")
    code = cli.main(["figures", "--batch", str(good), "--output-dir", str(tmp_path / "out"),
                     "--build-dir", str(tmp_path / "build"), "--no-progress", "--kernel", KERNEL])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("ringgeo: error: Data file") and "RINGGEO_DATA_DIR" in err
    assert not (tmp_path / "build" / "ok.ipynb").exists()  # no notebook was started


@pytest.mark.slow  # runs four standard notebooks on the mirror
def test_notebooks_show_the_saved_files_pixels(tmp_path):
    """Each figure is drawn once: the notebook's image is the PNG file's bytes, with alt text,
    and no other image (the inline backend draws no figure left open)."""
    import base64
    import html

    from PIL import Image

    standard = yaml.safe_load((NOTEBOOKS / "runs.yaml").read_text())["runs"]
    # the four kinds of figure, and the heaviest executed notebooks (a national county map;
    # the national web map, linked with a static preview in a batch run)
    chosen = {"fig5_il_county_partners_per_100k", "fig7_growth", "fig10_lookup_08054",
              "table2_who_is_covered_nj", "table2_who_is_covered", "fig9_explore_national"}
    runs = [dict(r, notebook=str(NOTEBOOKS / r["notebook"])) for r in standard
            if r["name"] in chosen]
    batch = tmp_path / "runs.yaml"
    batch.write_text(yaml.safe_dump({"runs": runs}))
    run(batch, tmp_path, jobs=2, kernel_name=None)
    files = {p.read_bytes(): p for p in (tmp_path / "out").glob("*.png")}
    assert len(files) == 9
    for name in chosen:  # issue 23: every executed notebook of the standard set under 2 MB
        assert (tmp_path / "build" / f"{name}.ipynb").stat().st_size < 2_000_000, name
    shown, previews = [], []
    for name in sorted(chosen):
        nb = nbformat.read(tmp_path / "build" / f"{name}.ipynb", as_version=4)
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                # no inline image/png: each figure is shown once, as the saved file's bytes
                assert "image/png" not in out.get("data", {}), f"{name}: an inline figure"
                img = re.fullmatch(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" '
                                   r'alt="([^"]*)" width="(\d+)" style="max-width:100%">',
                                   out.get("data", {}).get("text/html", ""))
                if img and name == "fig9_explore_national":  # the web map's static preview
                    previews.append(base64.b64decode(img.group(1)))
                elif img:
                    png = base64.b64decode(img.group(1))
                    assert png in files, f"{name}: an image that is no saved file"
                    description = Image.open(files[png]).text["Description"]
                    assert html.unescape(img.group(2)) == description
                    assert out["data"]["text/plain"] == description
                    shown.append(files[png].name)
    assert sorted(shown) == sorted(p.name for p in files.values())  # each file shown once
    assert len(previews) == 1 and previews[0].startswith(b"\x89PNG")
