"""Time ringgeo.plot on the real data: national county map, national state map, one state.

Run with the data mirror, e.g.::

    RINGGEO_DATA_DIR=/path/to/mirror python benchmarks/bench_plot.py

Prints seconds for the first call (reading and projecting boundaries) and for
a repeated call (geometry cached), each split into drawing and saving; the
standard set's county maps (fig4: national counties, fig5: Illinois), best of
three; and, in the same run, the areas of the national county map drawn by
``GeoDataFrame.plot`` (one matplotlib patch per county) and by ringgeo.plot._draw
(what choropleth uses: the same files, one compound path per county).
"""

from __future__ import annotations

import tempfile
import time
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import ringgeo  # noqa: E402
from ringgeo import coverage, plot
from ringgeo.plot import _draw  # noqa: E402


def timed(label, frame, column, suffix=".png", **kwargs):
    start = time.perf_counter()
    fig, _ = plot.choropleth(frame, column, title=label, **kwargs)
    drawn = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = plot.save(fig, f"{folder}/map{suffix}")
        size = path.stat().st_size
    saved = time.perf_counter()
    plt.close(fig)
    print(f"{label:<34} draw {drawn - start:6.2f} s   save {suffix} {saved - drawn:6.2f} s"
          f"   {size / 1e3:8.0f} kB")


def main():
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        partners = ringgeo.load_partners()
        states, counties = coverage.by_state(partners), coverage.by_county(partners)
    print(f"{'load partners + coverage tables':<34} {time.perf_counter() - start:6.2f} s")
    timed("national counties (first call)", counties, "partners", level="county",
          scheme="user_defined", bins=[0, 1, 2, 5, 10, 100])
    timed("national counties (cached)", counties, "partners", level="county",
          scheme="user_defined", bins=[0, 1, 2, 5, 10, 100])
    timed("national counties, SVG", counties, "partners", suffix=".svg", level="county",
          scheme="user_defined", bins=[0, 1, 2, 5, 10, 100])
    timed("national states", states, "partners_per_100k", scheme="fisher_jenks")
    timed("Pennsylvania counties (first)", counties, "partners_per_100k", state="PA")
    timed("Pennsylvania counties (cached)", counties, "partners_per_100k", state="PA")
    timed("Alaska counties", counties, "partners", state="AK")
    for label, kwargs in (
            ("fig4 national counties per 100k", {"level": "county", "scheme": "user_defined",
                                                 "bins": [0.5, 1, 2, 5, 15]}),
            ("fig5 Illinois counties per 100k", {"state": "IL", "scheme": "fisher_jenks"}),
            ("fig1 national states per 100k", {"scheme": "quantiles"})):
        frame = counties if "counties" in label else states
        draw = best_of(3, drawn_and_closed, frame, "partners_per_100k", **kwargs)
        print(f"{label:<34} choropleth {draw:6.2f} s (best of 3)")
    compare_drawing()


def best_of(n, call, *args, **kwargs):
    """The shortest of ``n`` timings of ``call(*args, **kwargs)``, in seconds."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times)


def drawn_and_closed(frame, column, **kwargs):
    plt.close(plot.choropleth(frame, column, **kwargs)[0])


def compare_drawing():
    """The 3,220 counties in five classes and the state outlines, both ways, best of three."""
    counties = plot._choropleth._geometry("county")
    classes = [counties[counties["GEOID"].astype(int) % 5 == k] for k in range(5)]
    outlines = plot._choropleth._geometry("state").boundary

    def by(polygons, lines):
        def draw():
            fig, ax = plt.subplots()
            ax.figure.canvas.draw_idle = lambda *a, **k: None  # as choropleth did: no redraws
            for rows in classes:
                polygons(ax, rows)
            lines(ax, outlines)
            plt.close(fig)
        return draw

    geopandas = by(lambda ax, rows: rows.plot(ax=ax, facecolor="#fd8d3c", edgecolor="white",
                                              linewidth=0.12),
                   lambda ax, lines: lines.plot(ax=ax, color="#595959", linewidth=0.35))
    helper = by(lambda ax, rows: _draw.draw_polygons(ax, rows, facecolor="#fd8d3c",
                                                     edgecolor="white", linewidth=0.12),
                lambda ax, lines: _draw.draw_lines(ax, lines, color="#595959", linewidth=0.35))
    slow, fast = best_of(3, geopandas), best_of(3, helper)
    print(f"{'county areas: GeoDataFrame.plot':<34} {slow:6.2f} s\n"
          f"{'county areas: ringgeo.plot._draw':<34} {fast:6.2f} s   "
          f"({slow / fast:.1f} times faster)")


if __name__ == "__main__":
    main()
