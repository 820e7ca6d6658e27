"""Labels that cover no marker, line or other label: greedy placement in display coordinates.

:func:`place_labels` names points of an axes one after the other, in the order
given (the caller puts what matters first: a map's partners before other
agencies). For each label it tries positions around its point, nearest first
(eight directions on rings of growing distance), measures each position's box
in display coordinates (the rendered text with its padding) and takes the first
that overlaps nothing drawn: no marker (every point of the scatter collections
named, the labelled point's own included), no line (sampled every few pixels),
no box to avoid (the legend, other text) and no label placed before it, and
that stays inside the axes. A label set away from its point gets a thin leader
line to it. When no position is free, the one with the least overlap is taken
and :func:`place_labels` says so (``overlaps`` of the returned labels).

Offsets and sizes are in points, so the layout computed at the figure's dpi is
the same at the dpi it is saved at. ``docs/figures.md`` describes the method.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from matplotlib.collections import Collection
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox

__all__ = ["Placed", "place_labels", "marker_boxes", "line_boxes", "overlap"]

#: Directions tried around a point, in order: right of it first (text reads to the right),
#: then left, above, below.
_DIRECTIONS = [(1, 0), (1, 1), (1, -1), (-1, 0), (-1, 1), (-1, -1), (0, 1), (0, -1),
               (1, 0.4), (1, -0.4), (-1, 0.4), (-1, -0.4)]
#: Distances (points, from the marker's edge) tried, nearest first.
RINGS = (3.0, 9.0, 16.0, 26.0, 38.0, 52.0, 70.0, 90.0, 115.0, 145.0, 180.0)
#: A label further than this from its marker's edge gets a leader line (points).
LEADER_FROM = 8.0
_BOX = {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85}


@dataclasses.dataclass
class Placed:
    """One label as placed: its annotation, its box in display pixels and what it covers."""

    annotation: object
    box: tuple[float, float, float, float]
    overlaps: float
    leader: bool


def marker_boxes(collection, renderer=None, margin_pt: float = 1.0) -> np.ndarray:
    """Boxes (x0, y0, x1, y1, display pixels) of the markers of a scatter collection."""
    offsets = np.asarray(collection.get_offsets(), dtype=float)
    if not len(offsets):
        return np.empty((0, 4))
    xy = collection.get_offset_transform().transform(offsets)
    sizes = np.asarray(collection.get_sizes(), dtype=float)
    sizes = np.resize(sizes if len(sizes) else [36.0], len(xy))
    dpi = collection.figure.dpi
    half = (np.sqrt(sizes) / 2 + margin_pt) * dpi / 72  # s is the marker's area in pt²
    ok = np.isfinite(xy).all(axis=1)
    xy, half = xy[ok], half[ok]
    return np.column_stack([xy[:, 0] - half, xy[:, 1] - half, xy[:, 0] + half,
                            xy[:, 1] + half])


def line_boxes(line, step_px: float = 3.0) -> np.ndarray:
    """Small boxes along a drawn line, every ``step_px`` pixels, as wide as the line."""
    xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
    xy = xy[np.isfinite(xy).all(axis=1)]
    if not len(xy):
        return np.empty((0, 4))
    points = [xy[:1]]
    for a, b in zip(xy[:-1], xy[1:]):
        n = max(1, int(np.hypot(*(b - a)) // step_px))
        t = np.linspace(0, 1, n + 1)[1:, None]
        points.append(a + t * (b - a))
    pts = np.vstack(points)
    half = max(line.get_linewidth(), 1.0) / 2 * line.figure.dpi / 72 + step_px / 2
    return np.column_stack([pts - half, pts + half])


def _obstacle_boxes(obstacles, renderer) -> np.ndarray:
    boxes = [np.empty((0, 4))]
    for item in obstacles:
        if isinstance(item, Collection):
            boxes.append(marker_boxes(item, renderer))
        elif isinstance(item, Line2D):
            boxes.append(line_boxes(item))
        elif isinstance(item, Bbox):
            boxes.append(np.array([[item.x0, item.y0, item.x1, item.y1]]))
        elif item is not None:  # an artist: the legend, a text
            ext = item.get_window_extent(renderer)
            boxes.append(np.array([[ext.x0, ext.y0, ext.x1, ext.y1]]))
    return np.vstack(boxes)


def overlap(box, boxes) -> float:
    """Area (pixels²) that ``box`` shares with each of ``boxes``, summed."""
    if not len(boxes):
        return 0.0
    boxes = np.asarray(boxes, dtype=float)
    w = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    h = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    return float((np.clip(w, 0, None) * np.clip(h, 0, None)).sum())


def place_labels(ax, points, *, obstacles=(), fontsize: float = 8, color="#1a1a1a",
                 rings=RINGS, box: dict | None = None, inside=None, zorder: float = 6,
                 **text_kw) -> list[Placed]:
    """Label points so that no label covers a marker, a line or another label.

    Call it when the axes' limits, aspect and legend are final (the placement
    reads their display coordinates).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    points : sequence of (x, y, text)
        In data coordinates, in the order to place them: the first placed gets
        the nearest free position, so put what matters first.
    obstacles : sequence
        What the labels must not cover: scatter collections (each marker, at its
        size), ``Line2D`` (the line along its length), ``Bbox`` in display
        pixels, or any artist with a window extent (the legend, a text). Labels
        never cover each other.
    fontsize : float, default 8
    color : colour of the text
    rings : sequence of float
        Distances (points) from the marker's edge to try, nearest first.
    box : dict, optional
        The text's ``bbox`` (default a white, slightly transparent rounded box);
        ``False`` for none.
    inside : Bbox, optional
        Display area the labels must stay in; default the axes.
    zorder : float, default 6
    **text_kw
        More keywords for :meth:`~matplotlib.axes.Axes.annotate`.

    Returns
    -------
    list of Placed
        One per point, in the order given; ``overlaps`` is 0 for a label that
        covers nothing (the area in pixels² otherwise).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(4, 3))
    >>> dots = ax.scatter([0, 0.05, 1], [0, 0, 1], s=30)
    >>> placed = place_labels(ax, [(0, 0, "first"), (0.05, 0, "second")], obstacles=[dots])
    >>> [p.overlaps for p in placed]
    [0.0, 0.0]
    >>> plt.close(fig)
    """
    fig = ax.figure
    ax.apply_aspect()  # an equal-aspect map moves its axes when drawn: place after that
    renderer = fig.canvas.get_renderer()
    fixed = _obstacle_boxes(obstacles, renderer)
    frame = inside if inside is not None else ax.get_window_extent(renderer)
    box = dict(_BOX) if box is None else box
    pad = (_pad(box) * fontsize if box else 0.0) * fig.dpi / 72
    px = fig.dpi / 72
    # the marker under each point: the radius of the largest marker drawn there
    markers = [o for o in obstacles if isinstance(o, Collection)]
    placed_boxes: list[np.ndarray] = []
    out = []
    for x, y, text in points:
        anchor = ax.transData.transform((float(ax.convert_xunits(x)),
                                         float(ax.convert_yunits(y))))
        radius = _marker_radius(markers, anchor) / px  # points
        ann = ax.annotate(text, (x, y), xytext=(0, 0), textcoords="offset points",
                          fontsize=fontsize, color=color, zorder=zorder,
                          annotation_clip=False, **({"bbox": box} if box else {}), **text_kw)
        ext = ann.get_window_extent(renderer)
        w, h = ext.width + 2 * pad, ext.height + 2 * pad
        best = None
        for ring in rings:
            dist = (radius + ring) * px
            for dx, dy in _DIRECTIONS:
                norm = np.hypot(dx, dy)
                cx = anchor[0] + dist * dx / norm
                cy = anchor[1] + dist * dy / norm
                x0 = cx if dx > 0 else (cx - w if dx < 0 else cx - w / 2)
                y0 = cy if dy > 0 else (cy - h if dy < 0 else cy - h / 2)
                cand = np.array([x0, y0, x0 + w, y0 + h])
                cost = overlap(cand, fixed) + overlap(cand, np.array(placed_boxes).reshape(-1, 4))
                inside_frame = (frame.x0 <= cand[0] and cand[2] <= frame.x1
                                and frame.y0 <= cand[1] and cand[3] <= frame.y1)
                if not inside_frame:
                    cost += 10 * max(w * h - overlap(
                        cand, [[frame.x0, frame.y0, frame.x1, frame.y1]]), 1.0)
                if cost < 1e-6:  # rounding, not a pixel
                    cost = 0.0
                if best is None or cost < best[0] - 1e-9:
                    best = (cost, cand, ring, dx, dy)
                if cost == 0:
                    break
            if best[0] == 0:
                break
        cost, cand, ring, dx, dy = best
        ha = "left" if dx > 0 else ("right" if dx < 0 else "center")
        va = "bottom" if dy > 0 else ("top" if dy < 0 else "center")
        # the text's anchor is inside the padding of its box
        ox = (cand[0] + pad if dx > 0 else cand[2] - pad if dx < 0 else (cand[0] + cand[2]) / 2)
        oy = (cand[1] + pad if dy > 0 else cand[3] - pad if dy < 0 else (cand[1] + cand[3]) / 2)
        leader = ring > LEADER_FROM
        ann.remove()  # measured; now drawn where it goes, with its leader line if it has one
        kw = dict(text_kw)
        if leader:
            kw["arrowprops"] = {"arrowstyle": "-", "color": "#595959", "linewidth": 0.6,
                                "shrinkA": 0, "shrinkB": radius + 0.5,
                                "relpos": ((1 - dx) / 2, (1 - dy) / 2)}
        ann = ax.annotate(text, (x, y), xytext=((ox - anchor[0]) / px, (oy - anchor[1]) / px),
                          textcoords="offset points", ha=ha, va=va, fontsize=fontsize,
                          color=color, zorder=zorder, annotation_clip=False,
                          **({"bbox": box} if box else {}), **kw)
        placed_boxes.append(cand)
        out.append(Placed(ann, tuple(float(v) for v in cand), float(cost), leader))
    ax._ringgeo_labels = out
    return out


def _pad(box: dict) -> float:
    style = str(box.get("boxstyle", "square,pad=0.3"))
    for part in style.split(",")[1:]:
        key, _, value = part.partition("=")
        if key.strip() == "pad":
            return float(value)
    return 0.3


def _marker_radius(collections, anchor) -> float:
    """Radius (pixels) of the largest marker drawn at ``anchor``; 0 when none is."""
    radius = 0.0
    for coll in collections:
        boxes = marker_boxes(coll, margin_pt=0)
        if not len(boxes):
            continue
        hit = ((np.abs((boxes[:, 0] + boxes[:, 2]) / 2 - anchor[0]) < 0.5)
               & (np.abs((boxes[:, 1] + boxes[:, 3]) / 2 - anchor[1]) < 0.5))
        if hit.any():
            radius = max(radius, float(((boxes[hit, 2] - boxes[hit, 0]) / 2).max()))
    return radius
