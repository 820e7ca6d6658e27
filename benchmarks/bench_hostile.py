"""Time the partner readers on hostile files: the work must grow linearly and stay bounded.

Run ``python benchmarks/bench_hostile.py``. For each adversarial KML shape it reads
files of n, 2n and 4n characters and prints the seconds and the ratio to the n case
(linear: about 2 and 4; the quadratic patterns before issue 14 gave about 4 and 16,
43 s for 50,000 blanks in an address). Then it times the refusal of a KMZ whose
doc.kml expands past the cap (a zip bomb), and the peak memory of that refusal.

Issue 26 added: a name of n/10 nested elements (whose text is all kept), a CSV of n
characters mixing UTF-8 and cp1252 lines (decoded line by line), and the inputs that
used to hang or read without end, each refused before reading: a named pipe with no
writer, ``/dev/zero`` and a sparse 1 GiB file (each read in a thread that must end
within 10 s).
"""

from __future__ import annotations

import os
import pathlib
import sys
import tempfile
import threading
import tracemalloc
import zipfile

from _timing import median

from ringgeo import _readers
from ringgeo.exceptions import InputError

HEAD = '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
TAIL = "</Document></kml>"
SHAPES = {
    "description '&lt;' * n": lambda n: f"<Placemark><name>a</name><description>{'&lt;' * n}"
                                         "</description></Placemark>",
    "address with n blanks": lambda n: f"<Placemark><name>a</name><address>a, b{' ' * n}x"
                                       "</address></Placemark>",
    "n/10 placemarks": lambda n: "<Placemark><name>a</name><address>Town, IL</address>"
                                 "</Placemark>" * (n // 10),
    "n/10 nested folders": lambda n: "<Folder>" * (n // 10) + "<Placemark><name>a</name>"
                                     "</Placemark>" + "</Folder>" * (n // 10),
    "name of n/10 nested <b>": lambda n: "<Placemark><name>" + "<b>x" * (n // 10)
                                         + "</b>" * (n // 10) + "</name></Placemark>",
}
PLAIN = "agency,city,state,activated\n".encode()


def mixed_csv(n: int) -> bytes:
    """About n bytes of rows, alternately UTF-8 and cp1252 (a file edited on two systems)."""
    rows = [f"Peña Police {i},Española,NM,3/22/2019\n".encode("utf-8" if i % 2 else "cp1252")
            for i in range(n // 36)]
    return PLAIN + b"".join(rows)


def refused_within(path, seconds: float = 10.0) -> float:
    """Seconds ringgeo takes to refuse reading ``path``; exit if it hangs or reads it."""
    outcome = {}

    def target():
        try:
            _readers.read_records(pathlib.Path(path))
        except InputError:
            outcome["refused"] = True

    def once():
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(seconds)
        if thread.is_alive() or not outcome.get("refused"):
            sys.exit(f"reading {path} was not refused within {seconds} s")

    return median(once, 3)


def main(n: int = 200_000) -> None:
    path = pathlib.Path("hostile.kml")
    print(f"{'shape':<28}{'n':>10}{'2n':>10}{'4n':>10}   ratios")
    for label, shape in SHAPES.items():
        times = [median(lambda m=m, shape=shape: _readers._read_kml(
            (HEAD + shape(m) + TAIL).encode(), path), 3) for m in (n, 2 * n, 4 * n)]
        print(f"{label:<28}" + "".join(f"{t:>9.3f}s" for t in times)
              + f"   {times[1] / times[0]:.1f}, {times[2] / times[0]:.1f}")
    csv_path = pathlib.Path("mixed.csv")

    def read_mixed(content: bytes) -> None:
        text, encoding, legacy = _readers._decode(content, csv_path)
        _readers._read_csv(text, encoding, csv_path, legacy)

    files = [mixed_csv(m) for m in (10 * n, 20 * n, 40 * n)]
    times = [median(lambda c=content: read_mixed(c), 3) for content in files]
    print(f"{'CSV mixing UTF-8 and cp1252':<28}" + "".join(f"{t:>9.3f}s" for t in times)
          + f"   {times[1] / times[0]:.1f}, {times[2] / times[0]:.1f}  (10n, 20n, 40n)")

    with tempfile.TemporaryDirectory() as tmp:
        bomb = pathlib.Path(tmp) / "bomb.kmz"
        with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with archive.open("doc.kml", "w", force_zip64=True) as out:
                out.write(HEAD.encode())
                for _ in range(1024):  # 1 GiB of blanks
                    out.write(b" " * 2**20)
                out.write(TAIL.encode())
        tracemalloc.start()

        def refuse():
            try:
                _readers.read_records(bomb)
            except InputError:
                return
            sys.exit("the KMZ bomb was not refused")

        seconds = median(refuse, 3)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"KMZ of {bomb.stat().st_size / 2**20:.1f} MiB expanding to 1 GiB: refused in "
              f"{seconds:.3f} s, peak Python memory {peak / 2**20:.1f} MiB")

        sparse = pathlib.Path(tmp) / "huge.csv"
        with open(sparse, "wb") as out:
            out.truncate(2**30)  # 1 GiB that takes no room on disk
        targets = {"sparse 1 GiB file": sparse}
        if hasattr(os, "mkfifo"):
            fifo = pathlib.Path(tmp) / "pipe.csv"
            os.mkfifo(fifo)
            targets["named pipe, no writer"] = fifo
        if os.path.exists("/dev/zero"):
            targets["/dev/zero"] = "/dev/zero"
        for label, target in targets.items():
            print(f"{label}: refused in {refused_within(target):.4f} s")


if __name__ == "__main__":
    main()
