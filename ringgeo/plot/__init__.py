"""Figures for readers: choropleth maps, a growth timeline, deterministic files.

:func:`choropleth` is the one front door for maps: a national map of states or
counties in the US composite layout (lower 48 in equal-area Albers, Alaska,
Hawaii and Puerto Rico moved beside them), or one state with its counties.
Class breaks come from mapclassify through a scheme name; missing values are
hatched grey with a "No data" legend entry, zero gets a class of its own, and
every figure carries a source line. :func:`timeline` draws the cumulative
partner count. :func:`save` writes PNG, SVG or PDF files whose bytes are the
same every time. The conventions (projection, composite, class breaks, legend
labels) are described in ``docs/figures.md``.
"""

from __future__ import annotations

from ..classes import SCHEMES, class_labels
from ._bars import composition_chart
from ._choropleth import CMAP, choropleth, describe_map, map_data, outline_areas
from ._figure import DPI, FIGSIZE, METRICS, MIN_DELTA_E, alt_text, palette_check, source_line
from ._multiples import small_multiples
from ._save import save, show
from ._timeline import published_counts, timeline

__all__ = ["SCHEMES", "METRICS", "FIGSIZE", "DPI", "CMAP", "choropleth", "map_data",
           "class_labels", "source_line", "timeline", "save", "explore", "alt_text",
           "published_counts", "show", "stable_ids", "map_info", "describe_map", "palette_check",
           "MIN_DELTA_E", "composition_chart", "outline_areas", "small_multiples",
           "contrast_ratio", "marker_styles"]

# the web map (folium, branca, requests: 0.2 s to import) is imported on first use
_WEB_MAP = ("contrast_ratio", "explore", "map_info", "marker_styles", "stable_ids")


def __getattr__(name):
    if name in _WEB_MAP:
        from . import _explore

        return getattr(_explore, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
