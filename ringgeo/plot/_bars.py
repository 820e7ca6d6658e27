"""Bar charts of who lives under a partnered police (:func:`composition_chart`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import technologies
from ..exceptions import ParameterError
from ..states import state_name
from ._figure import FONT, draw_source, new_figure, set_alt_text, source_line

__all__ = ["composition_chart", "COMPOSITION_MEASURES", "COMPOSITION_GROUPS"]

#: The shares :func:`composition_chart` compares, and their labels.
COMPOSITION_MEASURES = {"share_white": "White alone", "share_black": "Black alone",
                        "share_asian": "Asian alone", "share_hispanic": "Hispanic or Latino",
                        "share_poverty150": "Below 150 % of poverty",
                        "share_metro": "In a metro county"}
#: The groups compared, their labels and colours (dark red: the lower bound).
COMPOSITION_GROUPS = {"covered_min": ("covered (lower bound)", "#b2182b"),
                      "covered_max": ("covered (upper bound)", "#ef8a62"),
                      "not_covered": ("not covered", "#8c8c8c")}
#: What every composition rests on: partners, their first police, the Census pieces, the
#: demographics of each county.
_CREDIT = ("atlas-of-surveillance-20201007.csv", "fbi-agencies-2018.csv",
           "sub-est2021_all.zip", "census-2020-pl-p1-county.csv", "cdc-svi-2020-county.csv",
           "usda-rucc-2023.csv")


def composition_chart(table: pd.DataFrame, area: str = "US", *, as_of=None, base="2020"):
    """Draw the composition of covered and not-covered residents as grouped bars.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`ringgeo.coverage.composition` (index ``(state, group)``).
    area : str, default "US"
        The row of ``table`` to draw: ``"US"`` or a state's USPS code.
    as_of : date-like, optional
        The partnerships' cut-off date, for the source line.
    base : str, default "2020"
        The population base of ``table``, for the source line.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Raises
    ------
    ParameterError
        ``area`` is not a row of ``table``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> rows = pd.MultiIndex.from_product([["US"], ["all", "covered_min", "covered_max",
    ...                                              "not_covered"]], names=["state", "group"])
    >>> table = pd.DataFrame(0.5, index=rows, columns=list(COMPOSITION_MEASURES))
    >>> fig, ax = composition_chart(table)
    >>> [t.get_text() for t in ax.get_legend().get_texts()][0]
    'covered (lower bound)'
    >>> plt.close(fig)
    """
    areas = table.index.get_level_values(0).unique().tolist()
    if area not in areas:
        raise ParameterError(f"`area` was {area!r} but the table has the rows "
                             f"{', '.join(map(repr, areas))}.")
    block = table.loc[area]
    where = "the United States" if area == "US" else state_name(area)
    noun = technologies.noun(table)  # the table's technology (attrs), Ring by default
    title = f"Who lives under a {noun}-partnered police, {where}"
    fig, top = new_figure(title, f"Share of each group's residents, {base} population")
    ax = fig.add_axes([0.25, 0.2, 0.7, top - 0.28])
    y = np.arange(len(COMPOSITION_MEASURES))
    for i, (group, (label, colour)) in enumerate(COMPOSITION_GROUPS.items()):
        ax.barh(y + (i - 1) * 0.27, block.loc[group, list(COMPOSITION_MEASURES)],
                height=0.27, label=label, color=colour)
    ax.set_yticks(y, list(COMPOSITION_MEASURES.values()), fontsize=FONT["legend"] + 1)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlim(0, 1)
    ax.tick_params(axis="x", labelsize=FONT["legend"])
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1.01), ncol=3,
              fontsize=FONT["legend"])
    line = source_line(as_of=as_of, credit=list(_CREDIT), level=None, note=(
        f"Each group's share is the average of its counties' shares, weighted by the "
        f"residents the group counts in each ({base} population): a county-level, ecological "
        f"estimate. SVI shares are ACS 2016-2020 estimates"))
    draw_source(fig, ax, line, True)
    covered = block.loc["covered_min"]
    rest = block.loc["not_covered"]
    set_alt_text(fig, title, (
        f"Bar chart. Among residents whose first police is a {noun} partner (lower bound), "
        f"{covered['share_white']:.0%} are white alone, {covered['share_black']:.0%} Black "
        f"alone and {covered['share_hispanic']:.0%} Hispanic; among residents outside every "
        f"partner's jurisdiction, {rest['share_white']:.0%}, {rest['share_black']:.0%} and "
        f"{rest['share_hispanic']:.0%}."))
    return fig, ax
