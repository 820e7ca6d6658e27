"""Tests of the ``ringgeo`` command line: every sub-command, its errors and exit codes.

Each command's deeper behaviour is tested beside its module (test_data, test_partners, test_lookup,
test_export, test_runner, test_lab); here every command is run once the way a user types it.
"""

import os
import pathlib
import subprocess
import sys

import nbformat
import pytest

from ringgeo import cli, data

#: Every sub-command with the arguments of a run that must succeed; a new
#: command fails test_every_command_is_tested until it is added here.
COMMANDS = {
    "data": ["data", "info"],
    "partners": ["partners", "--no-link"],
    "lookup": ["lookup", "19082"],
    "export": None,  # writes files: test_export_writes_the_folder
    "figures": None,  # a real batch: test_figures_runs_a_batch (slow)
    "lab": None,  # writes a file: test_lab_writes_the_student_copy
}


def subcommands():
    parser = cli.build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return set(action.choices)


def test_every_command_is_tested():
    assert subcommands() == set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    assert f"usage: ringgeo {command}" in capsys.readouterr().out


def test_version_and_usage_errors(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("ringgeo ")
    with pytest.raises(SystemExit) as done:
        cli.main([])
    assert done.value.code == 2 and "required: command" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        cli.main(["data", "download"])
    assert done.value.code == 2 and "invalid choice: 'download'" in capsys.readouterr().err


def test_data_fetch_finds_every_file_in_the_mirror(mirror_dir, capsys):
    assert cli.main(["data", "fetch"]) == 0
    out = capsys.readouterr().out
    assert out.count("fetched ") == len(data.registry())
    assert str(mirror_dir) in out


def test_data_info(capsys):
    assert cli.main(COMMANDS["data"]) == 0
    assert capsys.readouterr().out.count("sha256:") == len(data.registry())


def test_partners_prints_totals(mirror_dir, capsys):
    assert cli.main(COMMANDS["partners"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1,501 Ring partnerships (atlas-2020-10-07)")
    assert "quality report:" in out and "by link method" not in out


def test_partners_bad_date_is_one_line_error(capsys):
    assert cli.main(["partners", "--no-link", "--as-of", "yesterday"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("ringgeo: error: ") and captured.err.count("\n") == 1


def test_lookup_answers_a_zip_code(mirror_dir, capsys):
    assert cli.main(COMMANDS["lookup"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ZIP code 19082: post office Upper Darby, PA")
    assert "Upper Darby Township Police Department" in out


def test_lookup_bad_state_is_one_line_error(capsys):
    assert cli.main(["lookup", "Nowhere, ZZ"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ringgeo: error: 'Nowhere, ZZ': 'ZZ' is not a state")
    assert err.count("\n") == 1


def test_lab_writes_the_student_copy(tmp_path, capsys):
    dest = tmp_path / "class" / "lab.ipynb"
    assert cli.main(["lab", "--student", str(dest)]) == 0
    assert f"wrote the student copy of the lab to {dest}" in capsys.readouterr().out
    nb = nbformat.read(dest, as_version=4)
    assert any(c.source == "answer_1 = None  # your code here" for c in nb.cells)
    # a second run refuses to replace a student's work, --force replaces it
    assert cli.main(["lab", "--student", str(dest)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["lab", "--student", str(dest), "--force"]) == 0


def test_export_writes_the_folder(tmp_path, capsys):
    dest = tmp_path / "for-datawrapper"
    assert cli.main(["export", str(dest), "--formats", "csv"]) == 0
    assert str(dest / "counties.csv") in capsys.readouterr().out
    assert (dest / "README.md").is_file() and not (dest / "ringgeo.gpkg").exists()
    assert cli.main(["export", str(dest), "--formats", "csv,shapefile"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ringgeo: error: unknown export format") and "choose among" in err


def test_lab_needs_student(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["lab"])
    assert done.value.code == 2 and "--student" in capsys.readouterr().err


@pytest.mark.slow
def test_figures_runs_a_batch(tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell("output_dir: str = 'out'  # folder\n"
                                       "output_name: str = 'x'  # file stem")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "import pathlib\n(pathlib.Path(output_dir) / f'{output_name}.txt').write_text('ok')")]
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    (tmp_path / "runs.yaml").write_text("runs:\n  - name: one\n    notebook: tiny.ipynb\n")
    out_dir, build_dir = tmp_path / "out", tmp_path / "build"
    code = cli.main(["figures", "--batch", str(tmp_path / "runs.yaml"), "--output-dir",
                     str(out_dir), "--build-dir", str(build_dir), "--no-progress"])
    assert code == 0
    assert (out_dir / "one.txt").read_text() == "ok"
    assert (build_dir / "one.ipynb").is_file()
    assert "1 notebook(s) run; 1 file(s) written" in capsys.readouterr().out


def test_figures_unknown_batch_is_an_error(tmp_path, capsys):
    assert cli.main(["figures", "--batch", str(tmp_path / "missing.yaml"),
                     "--output-dir", str(tmp_path / "o"), "--no-progress"]) == 1
    assert "missing.yaml" in capsys.readouterr().err


def test_console_script_is_installed():
    script = pathlib.Path(sys.executable).with_name("ringgeo")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and done.stdout.startswith("ringgeo ")


def test_lookup_into_a_closed_pipe_exits_quietly(mirror_dir, tmp_path):
    # `ringgeo lookup 19082 | head -1`, with head gone before the answer is printed
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "ringgeo.cli", *COMMANDS["lookup"]],
                              stdout=write_end, stderr=subprocess.PIPE, check=False,
                              cwd=tmp_path, timeout=300)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr.decode()) == (cli.BROKEN_PIPE, "")
