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

import codecs
import datetime as dt
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import threading
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


# ============================================================ 7. what still got past (issue 26)
def batch_of(tmp_path, parameters: str, head: str = "", code: str = "query = None\n"
             "as_of = None\nk = 5\nbins = None\noutput_dir = 'x'") -> pathlib.Path:
    """A batch of one run of a crafted notebook, with ``parameters`` as written (YAML)."""
    make_notebook(tmp_path / "nb.ipynb", code)
    return write(tmp_path / "runs.yaml", head + "runs:\n  - notebook: nb.ipynb\n    name: one\n"
                 "    parameters:\n" + parameters)


@pytest.mark.parametrize("parameters, head, pattern", [
    # a key given twice: PyYAML would keep the last one, silently
    ("      query: '19082'\n    parameters:\n      query: '08054'\n", "",
     r"line 6: the key 'parameters' is given twice in one mapping \(lines 4 and 6\); YAML "
     r"would keep only the last: keep one of them\."),
    ("      query: '19082'\n      k: 3\n      query: '08054'\n", "",
     r"line 7: the key 'query' is given twice in one mapping \(lines 5 and 7\)"),
    ("      k: 3\n", "runs: []\n", r"line 2: the key 'runs' is given twice .*\(lines 1 and 2\)"),
    # aliases: refused before they are expanded
    ("      bins: *b\n", "b: &b [1, 2]\n", r"line 6: the alias \*b \(YAML anchors and aliases "
     r"are not allowed in a batch file\): write the value out in full where it is used\."),
    # values YAML reads unlike they are written
    ("      query: 02134\n", "", r"line 5: 02134 without quotes is the octal number 1116 for "
     r"YAML \(a leading zero\), not 02134: write it in quotes, '02134', to pass it as written"),
    ("      bins: [0, 010]\n", "", r"line 5: 010 without quotes is the octal number 8"),
    ("      query: 1:30\n", "", r"line 5: 1:30 without quotes is the base-60 number 90 for "
     r"YAML \(the colons\), not 1:30: write it in quotes, '1:30'"),
    ("      query: 1:30.5\n", "", r"line 5: 1:30.5 without quotes is the base-60 number 90.5"),
    ("      query: 0x1F\n", "", r"line 5: 0x1F without quotes is the hexadecimal number 31 "
     r"for YAML, not 0x1F: write it in quotes, '0x1F'"),
    ("      bins: [1, 0b11]\n", "", r"line 5: 0b11 without quotes is the binary number 3"),
    # the Norway problem: YAML 1.1 reads NO, yes, On, off as booleans
    ("      state: NO\n", "", r"line 5: NO without quotes is the boolean False for YAML \(it "
     r"reads yes/no/on/off as true/false\), not the text NO: write it in quotes, 'NO'"),
    ("      query: On\n", "", r"line 5: On without quotes is the boolean True"),
    ("      as_of: 2019-02-30\n", "", r"line 5: 2019-02-30 without quotes is a date for YAML, "
     r"and no day of the calendar \(day is out of range for month\): correct the date, or "
     r"write it in quotes, '2019-02-30', to pass it as text\."),
    ("      as_of: 2019-13-01\n", "", r"line 5: 2019-13-01 without quotes is a date for YAML, "
     r"and no day of the calendar \(month must be in 1\.\.12\)"),
    # whatever else the parser raises: the file, the line, one sentence
    ("      query: [\n", "",
     r"line 6: not valid YAML: while parsing a flow node, expected the node content"),
    ("\t  query: x\n", "", r"line 5: not valid YAML: .*found character '\\t'"),
    ("      query: a\x07b\n", "", r"line 5: the character U\+0007 is not allowed in a YAML "
     r"file \(a control character\): remove it\."),
    ("      query: !!python/object/apply:os.system [echo]\n", "",
     r"line 5: not valid YAML: could not determine a constructor for the tag "
     r"'tag:yaml\.org,2002:python/object/apply:os\.system'"),
    ("      query: " + "[" * 3000 + "]" * 3000 + "\n", "",
     r"nested too deeply to read"),
])
def test_batch_file_values_yaml_would_change_are_refused_with_the_line(tmp_path, parameters,
                                                                      head, pattern):
    batch = batch_of(tmp_path, parameters, head)
    with pytest.raises(InputError, match=rf"^{re.escape(str(batch))}(, |: ){pattern}") as err:
        runner.load_batch(batch)
    assert "\n" not in str(err.value)


def test_billion_laughs_batch_is_refused_at_the_first_alias(tmp_path):
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    batch = batch_of(tmp_path, "      query: '19082'\n", head="\n".join(lines) + "\n")
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"runs\.yaml, line 2: the alias \*a0 \(YAML anchors"):
        runner.load_batch(batch)
    assert time.perf_counter() - start < 1  # 10**9 strings were never built


def test_batch_values_that_survive_yaml_pass_as_written(tmp_path):
    # 08054 is no octal number (8): YAML keeps it as text; quoted values are text; a valid
    # unquoted date is the date, passed on as ISO text; an anchor no alias uses is harmless
    batch = batch_of(tmp_path, "      query: 08054\n      as_of: 2019-12-31\n"
                               "      bins: [0.5, '1:30', '02134', 1_000]\n      k: &k 3\n"
                               "      embed: false\n      state: 'NO'\n      other: True\n",
                     code="query = None\nas_of = None\nk = 5\nbins = None\nembed = True\n"
                          "state = None\nother = False\noutput_dir = 'x'")
    [run] = runner.load_batch(batch)
    assert run.parameters == {"query": "08054", "as_of": "2019-12-31",
                              "bins": [0.5, "1:30", "02134", 1000], "k": 3, "embed": False,
                              "state": "NO", "other": True}


@pytest.mark.parametrize("encoding, bom", [
    ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-32-le", codecs.BOM_UTF32_LE),
    ("utf-16-le", b""), ("utf-16-be", b""),
])
def test_batch_file_with_a_bom_or_in_utf16_is_read(tmp_path, encoding, bom):
    batch = batch_of(tmp_path, "      query: Peña Blanca, NM\n")
    batch.write_bytes(bom + batch.read_text(encoding="utf-8").encode(encoding))
    [run] = runner.load_batch(batch)
    assert run.name == "one" and run.parameters == {"query": "Peña Blanca, NM"}


def test_batch_file_in_latin1_is_refused_clearly(tmp_path):
    batch = batch_of(tmp_path, "      query: Peña Blanca, NM\n")
    batch.write_bytes(batch.read_text(encoding="utf-8").encode("latin-1"))
    with pytest.raises(InputError, match=r"runs\.yaml, line 5: not UTF-8 text: invalid "
                                         r"continuation byte at byte \d+; save the batch file "
                                         r"as UTF-8\."):
        runner.load_batch(batch)


def test_batch_yaml_error_is_one_line_on_the_command_line(tmp_path, capsys):
    batch = batch_of(tmp_path, "      query: 02134\n")
    assert cli.main(["figures", "--batch", str(batch), "--no-progress",
                     "--output-dir", str(tmp_path / "out"),
                     "--build-dir", str(tmp_path / "build")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ringgeo: error: {batch}, line 5: 02134 without quotes")
    assert err.count("\n") == 1 and not (tmp_path / "build").exists()


def lab_error(capsys, *args) -> str:
    assert cli.main(["lab", *map(str, args)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("ringgeo: error: ")
    return captured.err.removeprefix("ringgeo: error: ").strip()


def test_lab_student_copy_under_a_file_is_one_line(tmp_path, capsys):
    blocker = write(tmp_path / "blocker", "a file")
    for dest in (blocker / "lab.ipynb", blocker / "class" / "lab.ipynb"):
        assert lab_error(capsys, "--student", dest) == (
            f"cannot write the student copy to {dest}: {blocker} is a file, not a folder. "
            "Give a path in a folder you can write to.")


def test_lab_student_copy_to_an_unwritable_place_is_one_line(tmp_path, capsys, monkeypatch):
    # tests run as root, who writes anywhere: stand in for a read-only folder
    def refuse(nb, fp, **kwargs):
        raise PermissionError(13, "Permission denied", str(fp))

    monkeypatch.setattr(nbformat, "write", refuse)
    dest = tmp_path / "lab.ipynb"
    assert lab_error(capsys, "--student", dest) == (
        f"cannot write the student copy to {dest}: Permission denied. Give a path in a folder "
        "you can write to.")


def test_lab_student_copy_onto_a_folder_is_refused_even_with_force(tmp_path, capsys):
    folder = tmp_path / "class.ipynb"
    folder.mkdir()
    (folder / "work.txt").write_text("a student's work")
    for force in ([], ["--force"]):
        assert lab_error(capsys, "--student", folder, *force).startswith(
            f"{folder} is a folder, not a notebook file: give a file name")
    assert (folder / "work.txt").read_text() == "a student's work"


@pytest.mark.parametrize("content, pattern", [
    (b"not json\n", r"is not a Jupyter notebook \(NotJSONError: "),
    (b"[]", r"is not a Jupyter notebook \(AttributeError: "),
    (b"{}", r"is not a Jupyter notebook \(ValidationError: "),
    (b"\xff\xfe\x00binary", r"is not a Jupyter notebook \(UnicodeDecodeError: "),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}',
     r"the lab notebook has no `solutions` line in its parameters cell"),
])
def test_lab_notebook_that_is_not_a_lab_notebook_is_one_line(tmp_path, capsys, content,
                                                             pattern):
    teacher = write(tmp_path / "teacher.ipynb", content)
    message = lab_error(capsys, "--student", tmp_path / "out.ipynb", "--notebook", teacher)
    assert re.match(rf"{re.escape(str(teacher))}:? {pattern}", message)
    assert not (tmp_path / "out.ipynb").exists()


def test_lab_notebook_that_is_a_folder_is_one_line(tmp_path, capsys):
    assert lab_error(capsys, "--student", tmp_path / "out.ipynb", "--notebook", tmp_path) == (
        f"the lab notebook {tmp_path} is a folder: pass the teacher copy "
        "(notebooks/05_classroom_lab.ipynb).")


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    # `ringgeo data info | head -1`: the reader is gone before ringgeo writes
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "ringgeo.cli", "data", "info"],
                              stdout=write_end, stderr=subprocess.PIPE, check=False,
                              cwd=tmp_path, timeout=120)
    finally:
        os.close(write_end)
    assert done.stderr.decode() == ""  # no traceback, no "Exception ignored"
    assert done.returncode == cli.BROKEN_PIPE == 141


def test_broken_pipe_inside_a_command_is_quiet(monkeypatch, capsys):
    def closed(args):
        raise BrokenPipeError(32, "Broken pipe")

    parser = cli.build_parser()
    parser._subparsers._group_actions[0].choices["data"].set_defaults(func=closed)
    monkeypatch.setattr(cli, "build_parser", lambda command=None: parser)
    assert cli.main(["data", "info"]) == 141
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("query, pattern", [
    (19082, r"query 19082 is a number \(int\): ZIP codes are text, so pass lookup\('19082'\); "
            r"a number loses a ZIP code's leading zeros \(08054 becomes 8054\)"),
    (8054, r"query 8054 is a number \(int\): ZIP codes are text, so pass lookup\('08054'\)"),
    (19082.0, r"query 19082.0 is a number \(float\): ZIP codes are text, so pass "
              r"lookup\('19082'\)"),
    (np.int64(19082), r"query np\.int64\(19082\) is a number \(int64\): ZIP codes are "
                      r"text, so pass lookup\('19082'\)"),
    (np.float64(8054.0), r"query np\.float64\(8054\.0\) is a number \(float64\): ZIP codes "
                         r"are text, so pass lookup\('08054'\)"),
    (np.array(["19082"]), r"query is a numpy array of 1 value\(s\): lookup answers one query "
                          r"at a time: pass one text, lookup\('19082'\), or a \(lat, lon\) "
                          r"tuple; for several, loop"),
    (np.array([39.96, -75.27]), r"query is a numpy array of 2 value\(s\): .*\(a point: "
                                r"lookup\(tuple\(values\)\)\)"),
    (pd.Series(["19082", "08054"]), r"query is a Series of 2 value\(s\)"),
    (["19082"], r"query is a list of 1 value\(s\)"),
    (b"19082", r"query b'19082' is bytes: pass text, lookup\('19082'\)"),
    (None, r"query None is no query: expected a 5-digit ZIP code, 'City, ST', 'X County, "
           r"ST', an agency name or a \(lat, lon\) pair; a ZIP code as text: "
           r"lookup\('19082'\)\."),
    (True, r"query True is no query"),
    ({"zip": "19082"}, r"query \{'zip': '19082'\} is a dict: expected a 5-digit ZIP code"),
    ("  ", r"query '  ' is empty: expected a 5-digit ZIP code"),
    (1908234, r"query 1908234 is a number \(int\): expected a 5-digit ZIP code"),
])
def test_lookup_says_the_type_of_the_query_is_the_problem(query, pattern):
    import ringgeo
    from ringgeo.exceptions import QueryError
    from ringgeo.lookup import _resolve

    with pytest.raises(QueryError, match=f"^{pattern}"):
        ringgeo.lookup(query)
    if not isinstance(query, str):  # refused before any table is read
        with pytest.raises(QueryError, match=f"^{pattern}"):
            _resolve.check_query(query)


# ------------------------------------------------------------ 7b. partner files (issue 26)
def read_in_thread(path, seconds=10):
    """Read ``path`` in a daemon thread; return the exception raised (fail if it hangs)."""
    outcome = {}

    def target():
        try:
            partners.read_partners(path)
        except Exception as err:  # noqa: BLE001 (returned to the test)
            outcome["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"reading {path} hangs"
    return outcome.get("error")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "partners.csv"
    os.mkfifo(fifo)
    try:
        err = read_in_thread(fifo)
    finally:  # unblock a reader that did open it, so the thread ends
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert isinstance(err, InputError)
    assert re.search(r"partners\.csv is a named pipe \(FIFO\).*not a regular file.*Save the "
                     r"data to a file", str(err))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_endless_device_is_refused_without_reading():
    err = read_in_thread("/dev/zero")
    assert isinstance(err, InputError) and "/dev/zero is a character device" in str(err)


def test_huge_file_is_refused_before_reading_and_says_how_to_override(tmp_path, monkeypatch):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as out:
        out.truncate(300 * 2**20)  # sparse: 300 MiB that take no room on disk
    start = time.process_time()
    with pytest.raises(InputError, match=r"huge\.csv is 300\.0 MiB, more than the 256 MiB "
                                         r".*set RINGGEO_MAX_FILE_MB to a size in MiB"):
        partners.read_partners(path)
    assert time.process_time() - start < 1
    small = write(tmp_path / "small.csv", PLAIN_HEADER + "Aurora Police,Aurora,IL,3/22/2019\n"
                  * 40)
    monkeypatch.setenv("RINGGEO_MAX_FILE_MB", "0.001")  # 1 KiB
    with pytest.raises(InputError, match=r"small\.csv is 0\.0 MiB, more than the 0 MiB"):
        partners.read_partners(small)
    monkeypatch.setenv("RINGGEO_MAX_FILE_MB", "lots")
    with pytest.raises(ParameterError, match=r"RINGGEO_MAX_FILE_MB='lots' is not a size in MiB"):
        partners.read_partners(small)
    monkeypatch.setenv("RINGGEO_MAX_FILE_MB", "1")
    assert len(quiet_read(small)) == 40


@pytest.mark.parametrize("path, words", [
    (None, r"path was None \(NoneType\), but is expected to be the path of a partner file"),
    (42, r"path was 42 \(int\)"), ("", r"path '' is empty"), ("  ", r"path '  ' is empty"),
])
def test_read_partners_of_a_non_path_is_a_parameter_error(path, words):
    with pytest.raises(ParameterError, match=words):
        partners.read_partners(path)


def zipped(path: pathlib.Path, members: dict, encrypted: bool = False) -> pathlib.Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    if encrypted:  # set the "encrypted" bit where zipfile reads it: local and central headers
        raw = bytearray(path.read_bytes())
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            raw[raw.find(signature) + offset] |= 1
        path.write_bytes(bytes(raw))
    return path


def test_encrypted_kmz_is_refused(tmp_path):
    path = zipped(tmp_path / "locked.kmz", {"doc.kml": kml(placemark())}, encrypted=True)
    with pytest.raises(InputError, match=r"doc\.kml inside the KMZ is encrypted "
                                         r"\(password-protected\)"):
        partners.read_partners(path)


def test_empty_zip_is_called_an_empty_archive_not_padding_or_a_csv(tmp_path):
    path = zipped(tmp_path / "empty.kmz", {})  # 22 bytes: the end record, mostly zeros
    with pytest.raises(InputError, match=r"empty\.kmz is an empty zip archive \(no file "
                                         r"inside\)") as error:
        partners.read_partners(path)
    assert "NUL" not in str(error.value)


def test_two_digit_year_before_2018_says_how_it_was_read(tmp_path):
    path = write(tmp_path / "year.csv", PLAIN_HEADER + "Aurora Police,Aurora,IL,1/1/31\n")
    frame = quiet_read(path)
    reason = {f["field"]: f["reason"] for f in partners.quality_report(frame)["flagged"]}
    assert reason["activated"].startswith(
        "implausible date: '1/1/31' (read as 1931-01-01 by Excel's rule for two-digit years")


def test_kmz_of_several_kml_files_without_doc_kml_is_refused_naming_them(tmp_path):
    path = zipped(tmp_path / "two.kmz", {"north.kml": kml(placemark()),
                                         "south.kml": kml(placemark("Elgin Police"))})
    with pytest.raises(InputError, match=r"without doc\.kml .* holds 2 KML files: north\.kml, "
                                         r"south\.kml\. ringgeo does not guess"):
        partners.read_partners(path)
    one = quiet_read(zipped(tmp_path / "one.kmz", {"layer.kml": kml(placemark())}))
    assert one["agency"].tolist() == ["Aurora Police Department"]
    main = quiet_read(zipped(tmp_path / "main.kmz", {"doc.kml": kml(placemark()),
                                                     "extra.kml": kml(placemark("X"))}))
    assert main["agency"].tolist() == ["Aurora Police Department"]
    assert any("other KML file(s) (extra.kml), not read" in note
               for note in partners.quality_report(main)["notes"])


def test_kml_name_keeps_the_text_before_a_nested_element(tmp_path):
    frame = quiet_read(write(tmp_path / "nested.kml", kml(
        placemark(name="Aurora <b>Police</b> Department",
                  description="<div>Active Date: 3/22/2019<br/>City: <i>North</i> Aurora</div>"))))
    assert frame.loc[0, "agency"] == "Aurora Police Department"
    assert frame.loc[0, "city"] == "North Aurora"
    assert frame.loc[0, "activated"] == pd.Timestamp("2019-03-22")


def test_entity_declared_outside_the_file_is_refused_not_dropped(tmp_path):
    path = write(tmp_path / "dtd.kml", kml(placemark(name="Aurora &dept;"),
                                          doctype='<!DOCTYPE kml SYSTEM "kml.dtd">\n'))
    with pytest.raises(InputError, match=r"uses the entity '&dept;' at line 4, which is "
                                         r"declared outside the file"):
        partners.read_partners(path)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-8"])
def test_kml_in_utf16_or_after_blank_lines_is_read(tmp_path, codec):
    text = kml(placemark(name="Peña Police", address="Española, NM")).decode()
    if codec.startswith("utf-16"):
        text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    content = ("\r\n" * 300 + text).encode(codec)  # 600 bytes and more before the "<"
    frame = quiet_read(write(tmp_path / "map.kml", content))
    assert frame[["agency", "city", "state"]].values.tolist() == [
        ["Peña Police", "Española", "NM"]]
    assert frame.loc[0, "row"] == 303  # the <Placemark> line of the file, blank lines counted


def test_atlas_cut_inside_its_last_record_is_refused(tmp_path):
    header = ("AOSNUMBER,City,County,State,Agency,Type of LEA,Summary,Type of Juris,"
              "Technology,Link 1 Date\n")
    ring = "AOS1,Aurora,Kane,IL,Aurora Police Department,Police,,Municipal,{},3/22/2019\n"
    path = write(tmp_path / "cut.csv", header + ring.format("Ring/Neighbors Partnership")
                 + "AOS2,Elgin,Kane,IL,Elgin Police Department,Pol")
    with pytest.raises(InputError, match=r"record starting at line 3 has 6 field\(s\), ending "
                                         r"before the 'Technology' column.*the file ends "
                                         r"inside this record.*cut short"):
        partners.read_partners(path)
    quoted = write(tmp_path / "quoted.csv", header + ring.format("Ring/Neighbors Partnership")
                   + 'AOS2,Elgin,Kane,IL,Elgin Police Department,Police,"A summary')
    with pytest.raises(InputError, match=r"record starting at line 3: the file ends inside a "
                                         r"quoted field .* cut short"):
        partners.read_partners(quoted)


def test_plain_csv_cut_inside_its_last_record_is_flagged(tmp_path):
    path = write(tmp_path / "cut.csv", PLAIN_HEADER + "Aurora Police,Aurora,IL,3/22/2019\n"
                 "Elgin Police,Elg")
    with pytest.warns(UserWarning, match="could not be read as written"):
        frame = partners.read_partners(path)
    assert frame["agency"].tolist() == ["Aurora Police", "Elgin Police"]
    assert flags_of(frame)[(3, "row")].startswith("cut short: the file ends inside this record")


def test_mixed_utf8_and_cp1252_rows_are_each_decoded_and_flagged(tmp_path):
    content = (PLAIN_HEADER + "Peña Police,Aurora,IL,3/22/2019\n").encode("utf-8") + (
        "Cañon City Police,Cañon City,CO,3/22/2019\n").encode("cp1252")
    with pytest.warns(UserWarning, match="mixed encoding"):
        frame = partners.read_partners(write(tmp_path / "mixed.csv", content))
    assert frame["agency"].tolist() == ["Peña Police", "Cañon City Police"]
    q = partners.quality_report(frame)
    assert q["encoding"] == "utf-8 and cp1252"
    assert flags_of(frame)[(3, "agency")].startswith(
        "mixed encoding: line 3 is not UTF-8 like the rest of the file, so it was read as "
        "cp1252, giving 'Cañon City Police'")
    assert not any(row == 2 for row, _ in flags_of(frame))


@pytest.mark.parametrize("extra", ["notes a|b|c|d|e|f", "notes a;b;c;d;e;f",
                                   '"Agency|Name;Alias|Other|More|Most"'])
def test_header_holding_pipes_or_semicolons_is_still_comma_delimited(tmp_path, extra):
    path = write(tmp_path / "list.csv", f"agency,city,state,activated,{extra}\n"
                 "Aurora Police,Aurora,IL,3/22/2019,x\n")
    frame = quiet_read(path)
    assert frame[["agency", "city", "state"]].values.tolist() == [["Aurora Police", "Aurora",
                                                                   "IL"]]


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-le", "utf-32-be"])
def test_utf32_is_read(tmp_path, codec):
    text = PLAIN_HEADER + "Peña Police,Española,NM,3/22/2019\n"
    frame = quiet_read(write(tmp_path / "u32.csv", text.encode(codec)))
    assert frame.loc[0, "agency"] == "Peña Police" and frame.loc[0, "city"] == "Española"


def test_nul_in_a_name_and_nul_padding_name_their_cause(tmp_path):
    one = write(tmp_path / "nul.csv", PLAIN_HEADER + "Aur\0ora Police,Aurora,IL,3/22/2019\n")
    with pytest.raises(InputError, match=r"line 2 holds a NUL character \(byte 0\) in "
                                         r"'Aur\\x00ora Police") as err:
        partners.read_partners(one)
    assert "binary" not in str(err.value)
    padded = write(tmp_path / "padded.csv", (PLAIN_HEADER + "Aurora Police,Aurora,IL,"
                                             "3/22/2019\n").encode() + b"\0" * 4096)
    with pytest.raises(InputError, match=r"ends with 4,096 NUL bytes after its text \(from "
                                         r"line 3\): zero padding"):
        partners.read_partners(padded)


@pytest.mark.parametrize("page", [
    "<!DOCTYPE html>\n<html><head><title>Atlas of Surveillance</title></head></html>",
    '\n\n<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
    "<html>\n<body><table><tr><td>Agency</td></tr></table></body></html>",
])
def test_saved_web_page_is_named_as_such(tmp_path, page):
    with pytest.raises(InputError, match=r"atlas\.csv is an HTML page \(a web page saved "
                                         r"from the browser\).*CSV export") as err:
        partners.read_partners(write(tmp_path / "atlas.csv", page))
    assert "re-export the map as KML" not in str(err.value)


def test_formula_like_values_are_kept_and_listed(tmp_path):
    path = write(tmp_path / "formula.csv", "agency,city,state,activated,county\n"
                 '"=HYPERLINK(""http://x"",""Police"")",+Aurora,IL,3/22/2019,-2+3\n'
                 "@SUM(A1),Elgin,IL,=1+1,-\n"
                 "Joliet Police,Joliet,IL,3/22/2019,Will\n")
    frame = quiet_read(path)
    assert frame.loc[0, "agency"] == '=HYPERLINK("http://x","Police")'  # kept as read
    assert frame.loc[0, "city"] == "+Aurora" and frame.loc[1, "agency"] == "@SUM(A1)"
    found = {(f["partner_id"], f["field"], f["value"])
             for f in partners.quality_report(frame)["formula_like"]}
    assert found == {("CSV-0001", "agency", '=HYPERLINK("http://x","Police")'),
                     ("CSV-0001", "city", "+Aurora"), ("CSV-0001", "county_names", "-2+3"),
                     ("CSV-0002", "agency", "@SUM(A1)"), ("CSV-0002", "activated_raw", "=1+1")}
    assert flags_of(frame)[(2, "city")].startswith("formula-like: '+Aurora' starts with '+'")


def test_quality_report_of_a_subset_says_it_describes_the_file(tmp_path):
    path = write(tmp_path / "list.csv", PLAIN_HEADER + "Aurora Police,Aurora,IL,\n"
                 "Elgin Police,Elgin,IL,3/22/2019\nJoliet Police,Joliet,IL,\n")
    frame = quiet_read(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert partners.quality_report(frame) is frame.attrs["quality"]  # the whole table
    subset = frame[frame["partner_id"] == "CSV-0001"]
    with pytest.warns(UserWarning, match=r"this table has 1 rows but its quality report kept 3 "
                                         r"\(a filtered or changed table\).*describe the file"):
        q = partners.quality_report(subset)
    assert q["kept"] == 3 and q["subset"]["rows"] == 1 and q["subset"]["file_rows"] == 3
    assert {f["partner_id"] for f in q["flagged"]} == {"CSV-0001"}
    assert len(frame.attrs["quality"]["flagged"]) == 2  # the file's report is unchanged
    with pytest.warns(UserWarning):
        assert partners.quality_report(subset, kind="text").startswith("subset:")


def test_name_variants_of_one_fbi_agency_are_duplicates(tmp_path):
    path = write(tmp_path / "oviedo.csv", PLAIN_HEADER
                 + "Oviedo Police Department,Oviedo,FL,3/22/2019\n"
                 + "Oviedo City Police Department,Oviedo,FL,4/22/2019\n"
                 + "Aurora Police Department,Aurora,IL,3/22/2019\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = partners.load_partners(path)
    assert frame["ori"].tolist()[:2] == ["FL0590400", "FL0590400"]
    q = partners.quality_report(frame)
    assert q["duplicates"] == [{"agency": "Oviedo Police Department", "state": "FL",
                                "rows": [2, 3], "partner_ids": ["CSV-0001", "CSV-0002"],
                                "rule": "same FBI agency", "ori": "FL0590400"}]
    assert flags_of(frame)[(3, "ori")].startswith(
        "duplicate: same FBI agency (FL0590400) in FL as CSV-0001 (row 2: 'Oviedo Police "
        "Department')")
    assert len(frame) == 3  # flagged, kept


# ----------------------------------------------- 7c. written files, repeated ids (issue 26)
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

