import hashlib
import json
import shutil

import pooch
import pytest
import requests

from ringgeo import data
from ringgeo.cli import main
from ringgeo.exceptions import ChecksumError, DataNotFoundError, UnknownSourceError


def test_registry_names_the_sources():
    assert set(data.registry()) >= {
        "atlas-of-surveillance-20201007.csv",
        "cb_2019_us_county_20m.zip",
        "cb_2019_us_state_20m.zip",
        "co-est2019-alldata.csv",
        "sub-est2021_all.zip",
        "fbi-agencies-2018.csv",
    }


@pytest.mark.parametrize("name", sorted(data.registry()))
def test_metadata_is_complete(name):
    meta = data.source_info(name)
    for key in ("sha256", "url", "origin", "licence", "credit", "description"):
        assert meta[key], f"{name} lacks {key}"
    assert len(meta["sha256"]) == 64
    assert meta["url"].startswith("https://")


@pytest.mark.parametrize("name", sorted(data.registry()))
def test_registry_matches_mirror(mirror_dir, name):
    sums = dict(
        reversed(line.split()) for line in (mirror_dir / "SHA256SUMS").read_text().splitlines()
    )
    assert data.registry()[name] == sums[name]
    digest = hashlib.sha256((mirror_dir / name).read_bytes()).hexdigest()
    assert digest == data.registry()[name]


def test_fetch_from_mirror_returns_mirror_path(mirror_dir):
    path = data.fetch("co-est2019-alldata.csv")
    assert path == mirror_dir / "co-est2019-alldata.csv"


def test_atlas_shape_matches_metadata(mirror_dir):
    import pandas as pd

    frame = pd.read_csv(data.fetch("atlas-of-surveillance-20201007.csv"), dtype=str)
    meta = data.source_info("atlas-of-surveillance-20201007.csv")
    assert frame.shape == (meta["nrows"], meta["ncols"])


def test_corrupted_mirror_copy_raises_checksum_error(mirror_dir, tmp_path, monkeypatch):
    name = "cb_2019_us_state_20m.zip"
    raw = bytearray((mirror_dir / name).read_bytes())
    raw[1000] ^= 0xFF  # flip one byte
    (tmp_path / name).write_bytes(bytes(raw))
    monkeypatch.setenv("RINGGEO_DATA_DIR", str(tmp_path))
    with pytest.raises(ChecksumError, match=r"expected sha256 7eec66f1.* but got .*replace it"):
        data.fetch(name)


def test_missing_file_in_mirror_names_env_and_url(tmp_path, monkeypatch):
    monkeypatch.setenv("RINGGEO_DATA_DIR", str(tmp_path))
    with pytest.raises(DataNotFoundError, match=r"RINGGEO_DATA_DIR.*https://raw\.githubusercontent"):
        data.fetch("co-est2019-alldata.csv")


@pytest.fixture
def cache_only(tmp_path, monkeypatch):
    """No mirror: fetch reads the cache folder ``tmp_path`` or downloads."""
    monkeypatch.delenv("RINGGEO_DATA_DIR", raising=False)
    monkeypatch.setenv("RINGGEO_CACHE_DIR", str(tmp_path))
    return tmp_path


def _retrieve_raises(monkeypatch, error):
    def retrieve(*args, **kwargs):
        raise error

    monkeypatch.setattr(pooch, "retrieve", retrieve)


@pytest.mark.parametrize("error", [
    ConnectionError("Name or service not known"),
    requests.exceptions.ConnectionError("Max retries exceeded: Name or service not known"),
    requests.exceptions.HTTPError("404 Client Error: Not Found for url"),
    requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"),
    requests.exceptions.InvalidURL("Invalid URL: no host supplied"),  # also a ValueError
])
def test_download_errors_say_could_not_download_and_how_to_work_offline(
        cache_only, monkeypatch, error):
    _retrieve_raises(monkeypatch, error)
    with pytest.raises(DataNotFoundError, match=rf"Could not download .*{type(error).__name__}"
                                                r".*set RINGGEO_DATA_DIR"):
        data.fetch("co-est2019-alldata.csv")


def test_a_bug_during_download_is_not_reported_as_offline(cache_only, monkeypatch):
    _retrieve_raises(monkeypatch, TypeError("retrieve() got an unexpected keyword argument"))
    with pytest.raises(TypeError, match="unexpected keyword"):
        data.fetch("co-est2019-alldata.csv")


def test_cached_file_is_used_without_download(mirror_dir, tmp_path, monkeypatch):
    name = "cb_2019_us_state_20m.zip"
    shutil.copy(mirror_dir / name, tmp_path / name)
    monkeypatch.delenv("RINGGEO_DATA_DIR", raising=False)
    monkeypatch.setenv("RINGGEO_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(pooch, "retrieve", lambda *a, **k: pytest.fail("downloaded"))
    assert data.fetch(name) == tmp_path / name


def test_corrupted_cache_is_downloaded_again(mirror_dir, tmp_path, monkeypatch):
    name = "cb_2019_us_state_20m.zip"
    (tmp_path / name).write_bytes(b"truncated")
    monkeypatch.delenv("RINGGEO_DATA_DIR", raising=False)
    monkeypatch.setenv("RINGGEO_CACHE_DIR", str(tmp_path))
    calls = []

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        calls.append(url)
        shutil.copy(mirror_dir / name, tmp_path / fname)
        return str(tmp_path / fname)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    assert data.fetch(name) == tmp_path / name
    assert calls == [data.source_info(name)["url"]]


def test_download_with_wrong_hash_raises_checksum_error(cache_only, monkeypatch):
    _retrieve_raises(monkeypatch, ValueError(
        "SHA256 hash of downloaded file does not match the known hash"))
    with pytest.raises(ChecksumError, match="upstream file changed"):
        data.fetch("sub-est2021_all.zip")


def test_unknown_name_lists_known_names():
    with pytest.raises(UnknownSourceError, match=r"Unknown data source 'atlas.csv'.*co-est2019"):
        data.fetch("atlas.csv")


def test_credit_is_deduplicated():
    line = data.credit("cb_2019_us_state_20m.zip", "cb_2019_us_county_20m.zip",
                       "atlas-of-surveillance-20201007.csv")
    assert line.count("Census") == 1
    assert "CC BY 4.0" in line


def test_cli_verify_reports_all_files(mirror_dir, capsys):
    assert main(["data", "verify"]) == 0
    out = capsys.readouterr().out
    n = len(data.registry())
    assert out.count("verified ") == n
    assert f"{n} of {n} files verified" in out


def test_cli_verify_fails_on_corrupt_mirror(mirror_dir, tmp_path, monkeypatch, capsys):
    for name in data.registry():
        shutil.copy(mirror_dir / name, tmp_path / name)
    (tmp_path / "co-est2019-alldata.csv").write_bytes(b"x")
    monkeypatch.setenv("RINGGEO_DATA_DIR", str(tmp_path))
    assert main(["data", "verify"]) == 1
    n = len(data.registry())
    assert f"{n - 1} of {n} files verified" in capsys.readouterr().out


def test_cli_info_prints_credit_and_licence(capsys):
    assert main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert "Electronic Frontier Foundation, Atlas of Surveillance (CC BY 4.0)" in out
    assert out.count("licence:") == len(data.registry())


def test_cli_error_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RINGGEO_DATA_DIR", str(tmp_path))
    assert main(["data", "fetch"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ringgeo: error: Data file")


def test_sources_json_is_valid_json():
    from importlib import resources

    json.loads(resources.files("ringgeo").joinpath("sources.json").read_text())
