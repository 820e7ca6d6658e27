"""Time the partner readers on hostile files: the work must grow linearly and stay bounded.

Run ``python benchmarks/bench_hostile.py``. For each adversarial KML shape it reads
files of n, 2n and 4n characters and prints the seconds and the ratio to the n case
(linear: about 2 and 4; the quadratic patterns before issue 14 gave about 4 and 16,
43 s for 50,000 blanks in an address). Then it times the refusal of a KMZ whose
doc.kml expands past the cap (a zip bomb), and the peak memory of that refusal.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
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
}


def main(n: int = 200_000) -> None:
    path = pathlib.Path("hostile.kml")
    print(f"{'shape':<28}{'n':>10}{'2n':>10}{'4n':>10}   ratios")
    for label, shape in SHAPES.items():
        times = [median(lambda m=m, shape=shape: _readers._read_kml(
            (HEAD + shape(m) + TAIL).encode(), path), 3) for m in (n, 2 * n, 4 * n)]
        print(f"{label:<28}" + "".join(f"{t:>9.3f}s" for t in times)
              + f"   {times[1] / times[0]:.1f}, {times[2] / times[0]:.1f}")

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


if __name__ == "__main__":
    main()
