"""ringgeo.plot._labels: labels that cover no marker, line, legend or other label.

Crafted points only (no data needed): a tight cluster, a point at the edge of the axes,
a line through the cluster and a legend. After drawing, every label's rendered box
(``get_bbox_patch``, in display pixels) is compared with every marker's box, the line's
samples, the legend and the other labels; the test fails on any shared pixel.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ringgeo.plot._labels import line_boxes, marker_boxes, overlap, place_labels  # noqa: E402


def _rendered_boxes(fig, placed):
    renderer = fig.canvas.get_renderer()
    boxes = []
    for p in placed:
        ext = p.annotation.get_bbox_patch().get_window_extent(renderer)
        boxes.append(np.array([ext.x0, ext.y0, ext.x1, ext.y1]))
    return boxes


def _check(fig, ax, placed, obstacles, legend=None):
    fig.canvas.draw()
    boxes = _rendered_boxes(fig, placed)
    fixed = np.vstack([marker_boxes(o) if hasattr(o, "get_offsets") else line_boxes(o)
                       for o in obstacles])
    frame = ax.get_window_extent()
    for i, box in enumerate(boxes):
        text = placed[i].annotation.get_text()
        assert overlap(box, fixed) == 0, f"{text!r} covers a marker or the line"
        others = [b for j, b in enumerate(boxes) if j != i]
        assert overlap(box, others) == 0, f"{text!r} covers another label"
        if legend is not None:
            ext = legend.get_window_extent()
            assert overlap(box, [[ext.x0, ext.y0, ext.x1, ext.y1]]) == 0, f"{text!r} on legend"
        assert frame.x0 <= box[0] and box[2] <= frame.x1 and frame.y0 <= box[1] \
            and box[3] <= frame.y1, f"{text!r} leaves the axes"
        assert placed[i].overlaps == 0


@pytest.mark.parametrize("dpi", [100, 200])
def test_cluster_of_points_gets_labels_that_cover_nothing(dpi):
    rng = np.random.default_rng(3)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=dpi)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    # a cluster of twelve points within one label's width, a few around, one at the edge
    xs = np.r_[4 + rng.uniform(0, 1.2, 12), [1, 8, 9.9]]
    ys = np.r_[5 + rng.uniform(0, 1.2, 12), [1, 8, 5]]
    others = ax.scatter(xs, ys, s=18, c="grey")
    partner = ax.scatter([4.6], [5.6], s=60, marker="^", c="red")
    line, = ax.plot([0, 10], [4.9, 6.9], lw=2)
    legend = ax.legend([partner], ["partner"], loc="upper left")
    points = [(4.6, 5.6, "The partner, labelled first")]
    points += [(x, y, f"Agency number {i}") for i, (x, y) in enumerate(zip(xs[:6], ys[:6]))]
    points += [(9.9, 5, "At the right edge"), (1, 1, "Alone")]
    placed = place_labels(ax, points, obstacles=[others, partner, line, legend])
    _check(fig, ax, placed, [others, partner, line], legend)
    # a point with room around it is labelled beside its marker, without a leader line
    assert not placed[-1].leader
    assert any(p.leader for p in placed)  # the crowded ones were moved away and linked
    for p in placed:
        if p.leader:
            assert p.annotation.arrow_patch is not None
    # the label at the right edge went left of its point
    assert placed[-2].annotation.get_horizontalalignment() == "right"
    plt.close(fig)


def test_label_layout_is_the_same_at_the_saved_dpi(tmp_path):
    """Placed at the screen dpi, checked again at 200 dpi (what plot.save writes)."""
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    dots = ax.scatter([0.5, 0.52, 0.54, 0.5], [0.5, 0.5, 0.52, 0.47], s=40)
    placed = place_labels(ax, [(0.5, 0.5, "one"), (0.52, 0.5, "two labels"),
                               (0.54, 0.52, "three"), (0.5, 0.47, "four")], obstacles=[dots])
    fig.savefig(tmp_path / "x.png", dpi=200)  # saving at 200 dpi renders at 200 dpi
    fig.set_dpi(200)
    _check(fig, ax, placed, [dots])
    plt.close(fig)


def test_no_free_position_is_reported_not_hidden():
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    grid = np.linspace(0.02, 0.98, 25)
    xx, yy = np.meshgrid(grid, grid)
    dots = ax.scatter(xx.ravel(), yy.ravel(), s=30)
    placed = place_labels(ax, [(0.5, 0.5, "nowhere to go")], obstacles=[dots])
    assert placed[0].overlaps > 0
    plt.close(fig)
