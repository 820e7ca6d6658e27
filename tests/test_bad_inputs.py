"""The bad-input corpus (issue 14): hostile files, odd parameters, broken set-ups.

Every case is crafted here, in ``tmp_path`` (no committed files), and asserts the
exact outcome: the error type and the words that name the problem, or the flag
on the row. Grouped as the issue lists them:

1. the README's offline path (a relative ``RINGGEO_DATA_DIR``, a missing one);
2. hostile partner files (zip bomb, XML entities, quadratic inputs);
3. silent wrong results (odd dates, blank agency, ``as_of``, YAML dates);
4. errors that say what happened (encodings, long fields, cache, folders, Ctrl-C);
5. one set of validators for the notebooks and the plot API;
6. noise (progress bars, kernel chatter, temp folders, file names);
7. issue 26: formula cells in written CSV files, repeated partner ids, a clone
   folder named ``ringgeo`` beside the working folder.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile

import nbformat
import numpy as np
import pandas as pd
import pooch
import pytest
import test_coverage  # the crafted coverage fixtures (tests/ is on sys.path under pytest)
import yaml

from ringgeo import _cleaning, _readers, cli, data, params, partners, plot, runner
from ringgeo.exceptions import DataNotFoundError, InputError, ParameterError

KML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
KML_OPEN = '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n'
KML_CLOSE = "</Document></kml>\n"


def kml(*placemarks: str, doctype: str = "") -> bytes:
    return (KML_HEAD + doctype + KML_OPEN + "".join(placemarks) + KML_CLOSE).encode("utf-8")


def placemark(name="Aurora Police Department", address="Aurora, IL",
              description="Active Date: 3/22/2019") -> str:
    return (f"<Placemark><name>{name}</name><address>{address}</address>"
            f"<description>{description}</description></Placemark>\n")


def write(path: pathlib.Path, content) -> pathlib.Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def quiet_read(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return partners.read_partners(path)


def flags_of(frame) -> dict:
    return {(f["row"], f["field"]): f["reason"] for f in partners.quality_report(frame)["flagged"]}


def make_notebook(path, parameters, *cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params_cell = nbformat.v4.new_code_cell(parameters)
    params_cell.metadata["tags"] = ["parameters"]
    nb.cells = [params_cell, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return path


# ============================================================ 1. the offline path
def test_relative_data_dir_is_resolved_against_the_current_folder(mirror_dir, tmp_path,
                                                                   monkeypatch):
    (tmp_path / "shared").symlink_to(mirror_dir.parent)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RINGGEO_DATA_DIR", "shared/data")
    path = data.fetch("co-est2019-alldata.csv")
    assert path == tmp_path / "shared" / "data" / "co-est2019-alldata.csv"
    assert path.is_absolute()


def test_absolute_env_rewrites_the_four_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PWD", raising=False)
    for name, value in (("RINGGEO_DATA_DIR", "../shared/data"), ("RINGGEO_CACHE_DIR", "c"),
                        ("RINGGEO_TABLE_CACHE_DIR", "t"), ("RINGGEO_OUTPUT_DIR", "~/out")):
        monkeypatch.setenv(name, value)
    resolved = data.absolute_env()
    assert resolved == {"RINGGEO_DATA_DIR": str(tmp_path.parent / "shared" / "data"),
                        "RINGGEO_CACHE_DIR": str(tmp_path / "c"),
                        "RINGGEO_TABLE_CACHE_DIR": str(tmp_path / "t"),
                        "RINGGEO_OUTPUT_DIR": str(pathlib.Path.home() / "out")}
    assert all(os.environ[k] == v for k, v in resolved.items())


def test_jupyterlab_kernel_in_notebooks_finds_the_folder_set_at_the_root(
        mirror_dir, tmp_path, monkeypatch):
    # `export RINGGEO_DATA_DIR=../shared/data; jupyter lab` at the root: kernels start in
    # notebooks/ with the shell's PWD (the root) in their environment
    root = tmp_path / "clone"
    (root / "notebooks").mkdir(parents=True)
    (tmp_path / "shared").symlink_to(mirror_dir.parent)
    monkeypatch.chdir(root / "notebooks")
    monkeypatch.setenv("PWD", str(root))
    monkeypatch.setenv("RINGGEO_DATA_DIR", "../shared/data")
    assert data.fetch("co-est2019-alldata.csv") == (
        tmp_path / "shared" / "data" / "co-est2019-alldata.csv")


def test_kernels_get_the_absolute_data_dir(mirror_dir, tmp_path, monkeypatch):
    # the README: `export RINGGEO_DATA_DIR=../shared/data` at the root, notebooks in notebooks/
    root = tmp_path / "clone"
    (root / "notebooks").mkdir(parents=True)
    (tmp_path / "shared").symlink_to(mirror_dir.parent)
    make_notebook(root / "notebooks" / "probe.ipynb", "output_dir = 'x'",
                  "import os, pathlib, ringgeo\n"
                  "found = ringgeo.data.fetch('co-est2019-alldata.csv')\n"
                  "pathlib.Path(output_dir, 'probe.txt').write_text("
                  "os.environ['RINGGEO_DATA_DIR'] + '\\n' + str(found))")
    monkeypatch.chdir(root)
    monkeypatch.setenv("RINGGEO_DATA_DIR", "../shared/data")
    runner.run_batch({"runs": [{"notebook": "notebooks/probe.ipynb", "name": "probe"}]},
                     output_dir="out", build_dir="build", progress=False)
    seen, found = (root / "out" / "probe.txt").read_text().splitlines()
    assert seen == str(tmp_path / "shared" / "data")
    assert found == str(tmp_path / "shared" / "data" / "co-est2019-alldata.csv")


@pytest.mark.parametrize("kind, words", [("missing", "which does not exist"),
                                         ("file", "which is a file, not a folder")])
def test_unusable_data_dir_is_one_clear_error(tmp_path, monkeypatch, capsys, kind, words):
    target = tmp_path / "nowhere"
    if kind == "file":
        target.write_text("not a folder")
    monkeypatch.setenv("RINGGEO_DATA_DIR", str(target))
    with pytest.raises(DataNotFoundError, match=f"RINGGEO_DATA_DIR is set to .*{words}"):
        data.fetch("co-est2019-alldata.csv")
    for command in (["data", "verify"], ["data", "fetch"]):
        assert cli.main(command) == 1
        captured = capsys.readouterr()
        lines = [ln for ln in (captured.out + captured.err).splitlines() if ln.strip()]
        assert len(lines) == 1 and words in lines[0], lines  # not five "not in the mirror"


def test_relative_missing_data_dir_names_the_folder_it_was_read_from(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RINGGEO_DATA_DIR", "../nope/data")
    with pytest.raises(DataNotFoundError) as err:
        data.fetch_all()
    assert f"'../nope/data' (i.e. {tmp_path.parent / 'nope' / 'data'})" in str(err.value)
    assert f"read from the current folder, {tmp_path}" in str(err.value)


# ============================================================ 2. hostile partner files
def kmz(path: pathlib.Path, member: str, size: int, chunk: bytes = b" " * 2**20) -> pathlib.Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(member, "w", force_zip64=True) as out:
            out.write(kml(placemark())[:-len(KML_CLOSE)])
            written = 0
            while written < size:
                out.write(chunk)
                written += len(chunk)
            out.write(KML_CLOSE.encode())
    return path


def test_kmz_bomb_is_refused_before_it_is_unpacked(tmp_path):
    path = kmz(tmp_path / "bomb.kmz", "doc.kml", _readers.KMZ_MAX_BYTES + 2**20)
    assert path.stat().st_size < 2**20  # a small file ...
    start = time.process_time()
    with pytest.raises(InputError, match=r"doc\.kml inside the KMZ expands to more than 64 "
                                         r"MiB.*refuses it \(a 'zip bomb'"):
        partners.read_partners(path)
    assert time.process_time() - start < 5  # ... refused without unpacking it


def test_kmz_whose_header_understates_its_size_is_refused(tmp_path):
    path = tmp_path / "liar.kmz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", kml(*[placemark()] * 200))
    raw = bytearray(path.read_bytes())
    real = len(kml(*[placemark()] * 200))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(signature) + offset
        assert int.from_bytes(raw[at:at + 4], "little") == real
        raw[at:at + 4] = (100).to_bytes(4, "little")  # claims 100 bytes
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match=r"doc\.kml inside the KMZ cannot be unpacked"):
        partners.read_partners(path)


def test_kmz_within_the_cap_is_read(tmp_path):
    path = tmp_path / "ok.kmz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", kml(placemark(), placemark("Elgin Police", "Elgin, IL")))
    frame = quiet_read(path)
    assert frame["agency"].tolist() == ["Aurora Police Department", "Elgin Police"]


def test_internal_entity_is_not_expanded_into_an_agency_name(tmp_path):
    path = write(tmp_path / "entity.kml", kml(
        placemark(name="&agency;"),
        doctype='<!DOCTYPE kml [<!ENTITY agency "Evil Police Department">]>\n'))
    with pytest.raises(InputError, match=r"declares the XML entity 'agency' at line 2 in its "
                                         r"DOCTYPE.*re-export the map"):
        partners.read_partners(path)


def test_external_entity_is_refused_not_dropped(tmp_path):
    secret = write(tmp_path / "secret.txt", "Secret Police Department")
    path = write(tmp_path / "external.kml", kml(
        placemark(name="&leak;"),
        doctype=f'<!DOCTYPE kml [<!ENTITY leak SYSTEM "{secret.as_uri()}">]>\n'))
    with pytest.raises(InputError, match=r"declares the external entity 'leak' \(SYSTEM "
                                         r"'file://.*secret\.txt'\).*would read another file"):
        partners.read_partners(path)


def test_parameter_entity_is_refused(tmp_path):
    path = write(tmp_path / "param.kml", kml(
        placemark(), doctype='<!DOCTYPE kml [<!ENTITY % p SYSTEM "http://example.invalid/x">'
                             '%p;]>\n'))
    with pytest.raises(InputError, match=r"external entity 'p'"):
        partners.read_partners(path)


def test_billion_laughs_is_refused_by_ringgeo(tmp_path):
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    path = write(tmp_path / "laughs.kml", kml(
        placemark(name="&lol9;"), doctype=f"<!DOCTYPE kml [{''.join(entities)}]>\n"))
    with pytest.raises(InputError, match=r"is an XML bomb: its DOCTYPE declares the entity "
                                         r"'lol1'.*billion laughs"):
        partners.read_partners(path)


@pytest.mark.parametrize("field, text", [
    ("description", "&lt;" * 200_000),              # "<<<<...": was quadratic (tag pattern)
    ("address", "Aurora, IL" + " " * 200_000 + "x"),  # long blank run: was quadratic (ZIP)
])
def test_kml_parsing_is_linear_on_adversarial_text(tmp_path, field, text):
    # each case took minutes with the old patterns; linear, it takes milliseconds
    mark = placemark(**{field: text})
    frame = quiet_read(write(tmp_path / "adversarial.kml", kml(mark, placemark())))
    assert len(frame) == 2


def test_kml_zip_codes_still_leave_the_state(tmp_path):
    frame = quiet_read(write(tmp_path / "zip.kml", kml(
        placemark(address="1 Main St, Aurora, IL 60505, USA"),
        placemark(name="B", address="Elgin, Illinois 60120-1234"),
        placemark(name="C", address="Joliet, IL60431"))))
    assert frame["state"].tolist()[:2] == ["IL", "IL"] and pd.isna(frame.loc[2, "state"])
    assert frame["city"].tolist()[:2] == ["Aurora", "Elgin"]


# ============================================================ 3. silent wrong results
PLAIN_HEADER = "agency,city,state,activated\n"


@pytest.mark.parametrize("date, reason", [
    ("2031-01-01", r"implausible date: '2031-01-01' \(2031-01-01\) is after .*, today"),
    ("1/1/2099", r"implausible date: '1/1/2099' \(2099-01-01\) is after"),
    ("45000", r"excel serial: '45000' read as Excel's day number for 2023-03-15"),
    ("2017-05-01", r"implausible date: '2017-05-01' is before 2018"),
])
def test_odd_dates_are_flagged(tmp_path, date, reason):
    path = write(tmp_path / "dates.csv", PLAIN_HEADER + f"Aurora Police,Aurora,IL,{date}\n")
    with pytest.warns(UserWarning, match="could not be read as written"):
        frame = partners.read_partners(path)
    assert frame.loc[0, "activated"] is not pd.NaT  # kept, as written, and flagged
    assert re.match(reason, flags_of(frame)[(2, "activated")])


def test_dates_after_the_export_date_are_implausible():
    meta = {"encoding": "utf-8", "latest_date": dt.date(2020, 10, 7)}
    for text, day in (("45000", "2023-03-15"), ("2020-10-08", "2020-10-08")):
        rec = {"row": 2, "problems": [], "agency": "A", "city": "B", "state": "IL",
               "activated": text}
        out, flags = _cleaning.clean_record(rec, meta, 1, "ROW")
        assert out["activated"] == pd.Timestamp(day)
        assert any(r.startswith(f"implausible date: '{text}' ({day}) is after 2020-10-07, "
                                "the dataset's export date") for f, r in flags)
    rec["activated"] = "2020-10-07"  # the export date itself is plausible
    assert not _cleaning.clean_record(rec, meta, 1, "ROW")[1]


def test_blank_agency_is_flagged(tmp_path):
    path = write(tmp_path / "blank.csv", PLAIN_HEADER + " ,Aurora,IL,3/22/2019\n")
    with pytest.warns(UserWarning, match="blank agency"):
        frame = partners.read_partners(path)
    assert len(frame) == 1 and pd.isna(frame.loc[0, "agency"])
    assert flags_of(frame)[(2, "agency")].startswith("blank agency: the row names no agency")


@pytest.mark.parametrize("as_of, words", [
    (2019, r"`as_of` was 2019 \(int\), which is not a date"),
    (20190828, r"\(int\), which is not a date"),
    (2019.5, r"\(float\), which is not a date"),
    (True, r"\(bool\), which is not a date"),
    ("2019", r"'2019', a year without a day.*'2019-12-31'"),
    ("2019-08", r"'2019-08', a year and month without a day"),
    ("08/28/2019", r"not a date written YYYY-MM-DD"),
    ("2017-06-01", r"before 2018-01-01: Ring's police partnerships began in 2018"),
    (dt.date(2016, 1, 1), r"before 2018-01-01"),
])
def test_load_partners_as_of_is_validated(as_of, words):
    with pytest.raises(ParameterError, match=words):
        partners.load_partners(as_of=as_of, link=False)


@pytest.mark.parametrize("as_of, words", [
    ("2019", "a year without a day"), ("2017-01-01", "before 2018-01-01"),
    ("1567000000", "not a date written YYYY-MM-DD"),
])
def test_cli_as_of_is_validated(capsys, as_of, words):
    assert cli.main(["partners", "--no-link", "--as-of", as_of]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ringgeo: error: `as_of` was") and words in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("as_of", [2019, "2019", "2017-06-01", "08/28/2019"])
def test_notebooks_and_load_partners_refuse_the_same_as_of(as_of):
    with pytest.raises(ParameterError):
        params.validate_as_of(as_of)
    with pytest.raises(ParameterError):
        partners.load_partners(as_of=as_of, link=False)


@pytest.mark.parametrize("source", ["", "   "])
def test_empty_source_is_refused(source):
    with pytest.raises(ParameterError, match=r"source .* is empty: give a partner dataset "
                                             r"name \('atlas-2020-10-07'\) or the path"):
        partners.load_partners(source, link=False)


def test_unquoted_yaml_date_in_a_batch_is_the_date(tmp_path):
    make_notebook(tmp_path / "nb.ipynb", "as_of = None\nwhen = None\noutput_dir = 'x'")
    batch = write(tmp_path / "runs.yaml", "runs:\n  - notebook: nb.ipynb\n    name: one\n"
                  "    parameters: {as_of: 2019-08-28, when: [2019-08-28, 2020-01-01]}\n")
    assert isinstance(yaml.safe_load(batch.read_text())["runs"][0]["parameters"]["as_of"],
                      dt.date)
    [run] = runner.load_batch(batch)
    assert run.parameters == {"as_of": "2019-08-28", "when": ["2019-08-28", "2020-01-01"]}


def test_batch_value_json_cannot_carry_is_refused_naming_the_parameter(tmp_path):
    make_notebook(tmp_path / "nb.ipynb", "blob = None\noutput_dir = 'x'")
    batch = write(tmp_path / "runs.yaml", "runs:\n  - notebook: nb.ipynb\n    name: one\n"
                  "    parameters: {blob: !!binary aGVsbG8=}\n")
    with pytest.raises(InputError, match=r"runs\.yaml, run 1 \('one'\): parameter 'blob' is "
                                         r"b'hello' \(bytes\), which cannot be passed"):
        runner.load_batch(batch)


# ============================================================ 4. errors that say what happened
@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read(tmp_path, codec):
    text = PLAIN_HEADER + "Peña Police,Española,NM,3/22/2019\n"
    frame = quiet_read(write(tmp_path / "u16.csv", text.encode(codec)))
    assert frame.loc[0, "agency"] == "Peña Police" and frame.loc[0, "city"] == "Española"
    assert partners.quality_report(frame)["encoding"] == codec


def test_real_binary_file_is_still_binary(tmp_path):
    path = write(tmp_path / "blob.csv", bytes(range(256)) * 8)
    with pytest.raises(InputError, match="is a binary file"):
        partners.read_partners(path)


def test_200_kb_field_is_named_as_such(tmp_path):
    path = write(tmp_path / "long.csv", PLAIN_HEADER + "A,B,IL,3/22/2019\n"
                 + "Aurora Police," + "x" * 200_000 + ",IL,3/22/2019\n")
    with pytest.raises(InputError, match=r"the record starting at line 3 has a field longer "
                                         r"than 131,072 characters") as err:
        partners.read_partners(path)
    assert "quote is probably not closed" not in str(err.value)


def test_damaged_cached_file_offline_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("RINGGEO_DATA_DIR", raising=False)
    monkeypatch.setenv("RINGGEO_CACHE_DIR", str(tmp_path))
    write(tmp_path / "co-est2019-alldata.csv", b"truncated")

    def offline(*args, **kwargs):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(DataNotFoundError, match=r"The cached copy .*co-est2019-alldata\.csv is "
                                                r"damaged \(sha256 .*\), so ringgeo tried to "
                                                r"download it again\. Could not download"):
        data.fetch("co-est2019-alldata.csv")


def test_read_only_empty_cache_offline_says_so(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.delenv("RINGGEO_DATA_DIR", raising=False)
    monkeypatch.setenv("RINGGEO_CACHE_DIR", str(cache))
    # tests run as root in CI, which writes anywhere: stand in for a read-only mount
    monkeypatch.setattr(data.os, "access", lambda path, mode: pathlib.Path(path) != cache)
    monkeypatch.setattr(pooch, "retrieve", lambda *a, **k: pytest.fail("tried to download"))
    with pytest.raises(DataNotFoundError, match=r"is not in the cache folder .* and cannot be "
                                                r"downloaded into it: .*cache is not writable"):
        data.fetch("co-est2019-alldata.csv")


def test_cache_under_a_file_says_so(tmp_path, monkeypatch):
    blocker = write(tmp_path / "file", "x")
    monkeypatch.delenv("RINGGEO_DATA_DIR", raising=False)
    monkeypatch.setenv("RINGGEO_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(DataNotFoundError, match=r"file is not a folder\. Set RINGGEO_CACHE_DIR"):
        data.fetch("co-est2019-alldata.csv")


@pytest.mark.parametrize("option", ["--output-dir", "--build-dir"])
def test_folder_that_cannot_be_created_is_one_line(tmp_path, capsys, option):
    make_notebook(tmp_path / "nb.ipynb", "output_dir = 'x'")
    batch = write(tmp_path / "runs.yaml", "runs:\n  - {notebook: nb.ipynb, name: one}\n")
    blocker = write(tmp_path / "blocker", "a file")
    assert cli.main(["figures", "--batch", str(batch), "--no-progress",
                     option, str(blocker / "sub")]) == 1
    err = capsys.readouterr().err
    what = "output" if option == "--output-dir" else "build"
    assert err.startswith(f"ringgeo: error: cannot create the {what} folder")
    assert f"({option}): Not a directory. Give a folder you can write to." in err
    assert len(err.strip().splitlines()) == 1


SLOW = ("import os, pathlib, time\n"
        "pathlib.Path(output_dir, output_name + '.csv').write_text(str(os.getpid()))\n"
        "time.sleep(300)")


@pytest.mark.parametrize("fork", ["0", "1"], ids=["new-kernels", "forked-kernels"])
def test_ctrl_c_stops_with_one_line_and_leaves_nothing(tmp_path, fork):
    make_notebook(tmp_path / "slow.ipynb", "output_dir = 'x'\noutput_name = 'y'", SLOW)
    write(tmp_path / "runs.yaml", "runs:\n  - {notebook: slow.ipynb, name: slow_a}\n"
          "  - {notebook: slow.ipynb, name: slow_b}\n  - {notebook: slow.ipynb, name: later}\n")
    scratch = tmp_path / "tmp"  # kernels' connection files go to TMPDIR
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "RINGGEO_FORK_KERNELS": fork}
    process = subprocess.Popen(
        [sys.executable, "-m", "ringgeo.cli", "figures", "--batch", "runs.yaml", "--jobs", "2",
         "--output-dir", "out", "--build-dir", "build"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # as from a terminal, even when the tests themselves run in a background job
        # (which ignores Ctrl-C, and passes that on)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    out = tmp_path / "out"
    try:
        deadline = time.monotonic() + 120
        while len(list(out.glob("*.csv"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        kernels = [int(p.read_text()) for p in out.glob("*.csv")]
        assert len(kernels) == 2 and any(scratch.iterdir())  # both running, files in place
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # the test failed: leave no process behind
            process.kill()
            process.communicate()
            for pid_file in out.glob("*.csv"):
                try:
                    os.kill(int(pid_file.read_text()), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
    assert process.returncode == 130
    lines = [ln.strip() for ln in stderr.replace("\r", "\n").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("ringgeo figures:")]  # the bar
    assert len(lines) == 1 and re.fullmatch(
        r"ringgeo: interrupted: stopped 2 running notebook\(s\) \(slow_a, slow_b\) and removed "
        rf"their \d partial file\(s\); 0 of 3 run\(s\) had finished \(their files are in "
        rf"{re.escape(str(out))}\)\.", lines[0]), lines
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert list(out.iterdir()) == [] and list((tmp_path / "build").iterdir()) == []
    assert list(scratch.iterdir()) == []  # the kernels' connection files are gone
    for pid in kernels:
        status = pathlib.Path(f"/proc/{pid}/status")
        assert not status.exists() or "zombie" in status.read_text()


# ============================================================ 5. one set of validators
@pytest.mark.parametrize("kwargs, words", [
    ({"scheme": "JENKS"}, "`scheme` was 'JENKS' but is expected to be one of"),
    ({"k": 12}, "`k` was 12 but is expected to be from 2 to 9"),
    ({"k": 1}, "`k` was 1 but is expected to be from 2 to 9"),
    ({"scheme": "user_defined", "bins": [0, float("nan"), 2]}, "must be a finite number"),
    ({"scheme": "user_defined", "bins": [0, 1, float("inf")]}, "must be a finite number"),
    ({"scheme": "user_defined", "bins": [0, 2, 1]}, "strictly increasing"),
])
def test_plot_api_refuses_what_the_notebooks_refuse(kwargs, words):
    scheme = kwargs.get("scheme", "quantiles")
    with pytest.raises(ParameterError, match=words.replace("(", r"\(").replace(")", r"\)")):
        checked = params.validate_scheme(scheme)
        params.validate_k(kwargs.get("k", 5))
        params.validate_bins(kwargs.get("bins"), checked)
    frame = pd.DataFrame({"partners": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]},
                         index=pd.Index(["IL", "CA", "TX", "NY", "FL", "NJ"], name="state"))
    with pytest.raises(ParameterError, match=words.replace("(", r"\(").replace(")", r"\)")):
        plot.map_data(frame, "partners", **kwargs)


def test_plot_api_accepts_scheme_case_like_the_notebooks():
    frame = pd.DataFrame({"partners": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]},
                         index=pd.Index(["IL", "CA", "TX", "NY", "FL", "NJ"], name="state"))
    upper = plot.map_data(frame, "partners", scheme="Quantiles", k=np.int64(3))
    lower = plot.map_data(frame, "partners", scheme="quantiles", k=3)
    pd.testing.assert_frame_equal(upper, lower)


@pytest.mark.parametrize("dpi", [5000, 0, 72.5, "200"])
def test_plot_save_checks_dpi(tmp_path, dpi):
    import matplotlib.pyplot as plt

    fig, _ = plt.subplots(figsize=(1, 1))
    try:
        with pytest.raises(ParameterError, match=r"`dpi` was .* but is expected to be"):
            plot.save(fig, tmp_path / "a.png", dpi=dpi)
    finally:
        plt.close(fig)
    assert not (tmp_path / "a.png").exists()


# ============================================================ 6. noise
def test_download_bar_is_a_text_bar_not_a_notebook_widget(tmp_path, monkeypatch, mirror_dir):
    import shutil

    monkeypatch.delenv("RINGGEO_DATA_DIR", raising=False)
    monkeypatch.setenv("RINGGEO_CACHE_DIR", str(tmp_path))
    name = "cb_2019_us_state_20m.zip"
    seen = []

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        seen.append(type(progressbar).__module__)
        shutil.copy(mirror_dir / name, tmp_path / fname)
        return str(tmp_path / fname)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a TqdmWarning would fail here
        data.fetch(name, progressbar=True)
    assert seen == ["tqdm.std"]


def test_progress_bar_names_the_run_that_finished(tmp_path, capsys):
    make_notebook(tmp_path / "nb.ipynb", "output_dir = 'x'")
    batch = write(tmp_path / "runs.yaml", "runs:\n  - {notebook: nb.ipynb, name: first_run}\n"
                  "  - {notebook: nb.ipynb, name: second_run}\n")
    runner.run_batch(batch, output_dir=tmp_path / "out", build_dir=tmp_path / "build",
                     progress=True)
    frames = [f.strip() for f in capsys.readouterr().err.replace("\r", "\n").splitlines()]
    one = [f for f in frames if "| 1/2 [" in f]
    two = [f for f in frames if "| 2/2 [" in f]
    assert one and one[-1].endswith("first_run]")  # not the name of the run before
    assert two and two[-1].endswith("second_run]")


def test_two_jobs_print_no_kernel_interrupt_lines(tmp_path, capfd):
    make_notebook(tmp_path / "nb.ipynb", "output_dir = 'x'\nvalue = 0",
                  "import sys; print('to stderr', file=sys.stderr)")
    batch = write(tmp_path / "runs.yaml", "runs:\n" + "".join(
        f"  - {{notebook: nb.ipynb, name: r{i}, parameters: {{value: {i}}}}}\n"
        for i in range(3)))
    runner.run_batch(batch, output_dir=tmp_path / "out", build_dir=tmp_path / "build",
                     jobs=2, progress=False)
    captured = capfd.readouterr()
    assert "KeyboardInterrupt" not in captured.err + captured.out
    assert captured.err == ""


@pytest.mark.parametrize("fork", ["0", "1"])
def test_kernels_start_without_the_unencrypted_tcp_warning(tmp_path, capfd, monkeypatch, fork):
    # ipykernel 7.4 logs "Kernel is running over TCP without encryption" at every start
    # unless the manager hands it CurveZMQ keys; the runner does, for new and forked kernels
    monkeypatch.setenv("RINGGEO_FORK_KERNELS", fork)
    make_notebook(tmp_path / "nb.ipynb", "output_dir = 'x'", "print('ran')")
    batch = write(tmp_path / "runs.yaml", "runs:\n  - {notebook: nb.ipynb, name: quiet}\n")
    runner.run_batch(batch, output_dir=tmp_path / "out", build_dir=tmp_path / "build",
                     progress=False)
    captured = capfd.readouterr()
    log = tmp_path / "build" / "quiet.log"
    printed = captured.err + captured.out + (log.read_text() if log.exists() else "")
    assert "without encryption" not in printed and captured.err == ""


def test_tests_write_temporary_files_in_the_session_folder():
    # the root conftest points tempfile (and the kernels' TMPDIR) at a folder it removes
    here = pathlib.Path(tempfile.gettempdir())
    assert here.name.startswith("ringgeo-pytest-") and os.environ["TMPDIR"] == str(here)
    assert pathlib.Path(os.environ["RINGGEO_OUTPUT_DIR"]).is_relative_to(here)


def test_tests_write_parsed_tables_in_the_session_folder():
    # not into the user's cache folder (platformdirs') when no cache folder is set
    from ringgeo import tablecache

    if os.environ.get("RINGGEO_CACHE_DIR"):
        pytest.skip("RINGGEO_CACHE_DIR is set: the parsed-data cache goes where it says")
    here = pathlib.Path(tempfile.gettempdir())
    assert tablecache.folder() == here / "tables"


@pytest.mark.parametrize("name, stem", [
    ("São Paulo", "sao_paulo"), ("Peña Blanca / Española", "pena_blanca_espanola"),
    ("Straße", "strasse"), ("東京 map", "東京_map"), ("Ålesund", "alesund"),
])
def test_non_ascii_output_name_keeps_its_letters(name, stem):
    assert params.output_name(name) == stem


def test_non_ascii_run_name_keeps_its_letters(tmp_path):
    make_notebook(tmp_path / "nb.ipynb", "output_dir = 'x'")
    batch = write(tmp_path / "runs.yaml", "runs:\n  - {notebook: nb.ipynb, name: Mapa_Bogotá}\n"
                  "  - {notebook: nb.ipynb, name: Mapa_Medellín}\n")
    assert [run.name for run in runner.load_batch(batch)] == ["mapa_bogota", "mapa_medellin"]


# ============================================================ 7. hostile cells, repeated ids
FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\tTab", "\rCR",
            "=1", "-cmd|' /C calc'!A0"]


def test_formula_cells_get_an_apostrophe_and_numbers_stay():
    from ringgeo import tables

    frame = pd.DataFrame({
        "agency": FORMULAS,
        "city": pd.array(["Aurora", None, "a=b", "-3.5", "+12", "1e-3", "-.5", "-"],
                         dtype="string"),
        "x": [-3.5, -1.0, 0.0, 2.0, -0.25, 1e-9, -7.0, 3.0],
        "n": pd.array([-3, None, 0, 1, 2, 3, 4, 5], dtype="Int64"),
        "kind": pd.Categorical(["=a", "b", "=a", "b", "b", "b", "b", "@c"]),
    })
    before = frame.copy()
    safe = tables.safe_csv(frame)
    assert safe["agency"].tolist() == ["'" + f for f in FORMULAS]
    # text that is a plain number, text with "=" inside, and a blank stay as they are
    city = safe["city"].tolist()
    assert pd.isna(city[1]) and city[:1] + city[2:7] == ["Aurora", "a=b", "-3.5", "+12", "1e-3",
                                                         "-.5"]
    assert safe["city"].iloc[7] == "'-"
    assert safe["kind"].tolist() == ["'=a", "b", "'=a", "b", "b", "b", "b", "'@c"]
    pd.testing.assert_series_equal(safe["x"], frame["x"])
    pd.testing.assert_series_equal(safe["n"], frame["n"])
    pd.testing.assert_frame_equal(frame, before)  # the caller's table is left alone


def test_formula_index_labels_and_headers_are_guarded(tmp_path):
    import csv

    from ringgeo import tables

    frame = pd.DataFrame({"=col": [1.5, -2.0]}, index=pd.Index(["@home", "IL"], name="state"))
    path = tmp_path / "t.csv"
    tables.write_csv(frame, path)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows == [["state", "'=col"], ["'@home", "1.5"], ["IL", "-2.0"]]
    two = frame.set_index(pd.MultiIndex.from_tuples([("+a", 1), ("b", -2)], names=["k", "i"]))
    assert tables.safe_csv(two).index.tolist() == [("'+a", 1), ("b", -2)]


def test_raw_csv_switch_writes_values_as_they_are(tmp_path, monkeypatch):
    from ringgeo import tables

    frame = pd.DataFrame({"agency": ["=1+2"], "x": [-3.5]})
    monkeypatch.setenv("RINGGEO_RAW_CSV", "1")
    tables.write_csv(frame, tmp_path / "raw.csv", index=False)
    assert (tmp_path / "raw.csv").read_text().splitlines() == ["agency,x", "=1+2,-3.5"]
    # the parameter wins over the variable
    tables.write_csv(frame, tmp_path / "safe.csv", index=False, raw=False)
    assert (tmp_path / "safe.csv").read_text().splitlines()[1] == "'=1+2,-3.5"
    monkeypatch.delenv("RINGGEO_RAW_CSV")
    tables.write_csv(frame, tmp_path / "default.csv", index=False)
    assert (tmp_path / "default.csv").read_text().splitlines()[1] == "'=1+2,-3.5"


def test_lookup_csv_output_guards_formula_cells(capsys, monkeypatch):
    import importlib
    import types

    lookup_module = importlib.import_module("ringgeo.lookup")
    frame = pd.DataFrame({"section": ["serves"], "agency": ["=HYPERLINK(\"http://x\")"],
                          "state": ["@PA"], "activated": [pd.Timestamp("2019-06-28")],
                          "distance_km": [-0.5]})
    answer = types.SimpleNamespace(to_frame=lambda: frame.copy(), credit="GeoNames")
    monkeypatch.setattr(lookup_module, "lookup", lambda *args, **kwargs: answer)
    assert cli.main(["lookup", "19082", "--csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "serves,\"'=HYPERLINK(\"\"http://x\"\")\",'@PA,2019-06-28,-0.5"
    monkeypatch.setenv("RINGGEO_RAW_CSV", "1")
    assert cli.main(["lookup", "19082", "--csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("serves,\"=HYPERLINK(")


def test_every_csv_the_package_writes_goes_through_the_guard():
    root = pathlib.Path(__file__).resolve().parent.parent
    files = [p for p in (root / "ringgeo").rglob("*.py") if p.name != "tables.py"]
    files += sorted((root / "notebooks").glob("*.ipynb"))
    writers = [f"{p.relative_to(root)}" for p in files
               if re.search(r"\.to_csv\(", p.read_text(encoding="utf-8"))]
    assert writers == []  # ringgeo.tables.write_csv, never DataFrame.to_csv


# the crafted Census cells and agencies of test_coverage.py, as fixtures here too
geo = test_coverage.geo
agencies = test_coverage.agencies


def _coverage_case():
    sheriff = ("S1", "sheriff", "county", "TX", ["48001"], None, "2019-03-02")
    return test_coverage.make, test_coverage.BIGCITY, sheriff


def test_repeated_partner_rows_count_once_with_a_warning(geo, agencies):
    from ringgeo import coverage

    make, bigcity, sheriff = _coverage_case()
    once = coverage.by_state(make([bigcity, sheriff]), geography=geo, agencies=agencies)
    with pytest.warns(UserWarning, match=r"^2 partner_id\(s\) appear on more than one identical "
                                         r"row, each counted once: P1, S1\.$"):
        twice = coverage.by_state(make([bigcity, sheriff, bigcity, sheriff, sheriff]),
                                  geography=geo, agencies=agencies)
    pd.testing.assert_frame_equal(twice, once)
    assert twice.loc["TX", "partners"] == 2
    with pytest.warns(UserWarning, match="P1"):
        national = coverage.national(make([bigcity, bigcity]), geography=geo, agencies=agencies)
    assert national.loc["US", "partners"] == 1
    with pytest.warns(UserWarning, match="P1"):
        line = coverage.timeline(make([bigcity, bigcity]), freq="Y", geography=geo,
                                 agencies=agencies)
    assert line["partners"].iloc[-1] == 1


def test_one_partner_id_on_different_records_is_an_error(geo, agencies):
    from ringgeo import coverage

    make, bigcity, sheriff = _coverage_case()
    moved = ("P1", "police", "municipal", "TX", ["48001"], "4800200", "2019-01-15")
    other = ("S1", "sheriff", "county", "TX", ["48003"], None, "2019-03-02")
    with pytest.raises(InputError, match=r"^2 partner_id\(s\) name different records: P1, S1\. "
                                         r"Each partnership needs its own partner_id"):
        coverage.by_county(make([bigcity, sheriff, moved, other]), geography=geo,
                           agencies=agencies)


def _installed_from_this_checkout() -> bool:
    import importlib.metadata
    import json
    import urllib.parse
    import urllib.request

    root = pathlib.Path(__file__).resolve().parent.parent
    for dist in importlib.metadata.distributions(name="ringgeo"):  # not the checkout's egg-info
        url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
        if url.startswith("file:"):
            path = urllib.request.url2pathname(urllib.parse.urlparse(url).path)
            return pathlib.Path(path).resolve() == root
    return False


def test_a_clone_folder_named_ringgeo_does_not_shadow_the_install(tmp_path):
    # `git clone` makes a folder `ringgeo/` holding `ringgeo/` (the package) and `data/`; a
    # python started beside it found that folder first, as a namespace package, when the
    # editable install was an import hook: "cannot import name 'OUTPUT_DIR_ENV' from
    # 'ringgeo.data' (unknown location)". The install now puts the checkout on sys.path
    # (pyproject.toml: package-dir), where the real package wins over a namespace folder.
    if not _installed_from_this_checkout():
        pytest.skip("ringgeo is not installed (pip install -e .) from this checkout")
    clone = tmp_path / "ringgeo"
    (clone / "ringgeo").mkdir(parents=True)
    (clone / "data").mkdir()
    write(clone / "ringgeo" / "data.py", "OUTPUT_DIR_ENV = 'not the installed one'\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # as a user runs it
    done = subprocess.run(
        [sys.executable, "-c", "import ringgeo.data, ringgeo; "
                               "print(ringgeo.__file__); print(ringgeo.data.OUTPUT_DIR_ENV)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    where, variable = done.stdout.split()
    root = pathlib.Path(__file__).resolve().parent.parent
    assert pathlib.Path(where) == root / "ringgeo" / "__init__.py"
    assert variable == "RINGGEO_OUTPUT_DIR"

