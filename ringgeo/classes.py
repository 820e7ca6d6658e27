"""Class breaks and legend labels for ringgeo.plot (private helpers).

Schemes are mapclassify classifiers chosen by name; classes are closed on the
right, as in mapclassify, and :func:`class_labels` writes legend labels that
say so. See ``docs/figures.md``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from .exceptions import ParameterError, warn

__all__ = ["SCHEMES", "class_labels", "classify"]


def _mc(name: str, **fixed):
    # mapclassify (scipy.stats, scikit-learn: about 2 s) is imported on first use, so a
    # kernel that draws no choropleth with a computed scheme does not pay for it
    def run(values, k, bins):
        import mapclassify

        return getattr(mapclassify, name)(values, k=k, **fixed).bins
    return run


def _mc_no_k(name: str):
    def run(values, k, bins):
        import mapclassify

        return getattr(mapclassify, name)(values).bins
    return run


def _natural_breaks(values, k, bins):
    # mapclassify's NaturalBreaks draws random seeds from numpy's global
    # generator: fix it for this call only and restore the caller's state.
    import mapclassify

    state = np.random.get_state()
    try:
        np.random.seed(20201007)
        return mapclassify.NaturalBreaks(values, k=k, initial=10).bins
    finally:
        np.random.set_state(state)


#: Scheme names accepted by :func:`choropleth` and the mapclassify classifier behind each.
SCHEMES = {
    "quantiles": _mc("Quantiles"),
    "equal_interval": _mc("EqualInterval"),
    "fisher_jenks": _mc("FisherJenks"),
    "natural_breaks": _natural_breaks,
    "pretty_breaks": _mc("PrettyBreaks"),
    "maximum_breaks": _mc("MaximumBreaks"),
    "headtail_breaks": _mc_no_k("HeadTailBreaks"),
    "percentiles": _mc_no_k("Percentiles"),
    "user_defined": None,  # handled in _breaks: the user's bins
}


# --------------------------------------------------------------------------- classes
def _computed(scheme: str, values: np.ndarray, k: int, bins) -> np.ndarray:
    """Return the breaks of a mapclassify scheme (its notes on duplicate quantiles silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mapclassify's own notes on duplicate quantiles
        return np.asarray(SCHEMES[scheme](values, k, bins), dtype=float)


def _breaks(values: np.ndarray, scheme: str, k: int, bins, computed=None) -> np.ndarray:
    """Upper bounds of right-closed classes covering ``values`` (all finite).

    ``computed(scheme, values, k, bins, compute)``, when given, returns the breaks of a
    computed scheme, calling ``compute()`` (:func:`_computed`) when it does not know
    them (:mod:`ringgeo.plot` keeps them in the parsed-data cache).
    """
    if scheme == "user_defined":
        if bins is None:
            raise ParameterError('scheme="user_defined" needs bins=[...], the upper bound of '
                                 'each class, e.g. bins=[0, 1, 5, 10].')
        try:
            edges = np.asarray(bins, dtype=float)
        except (TypeError, ValueError) as err:
            raise ParameterError(f"bins must be numbers, got {bins!r}.") from err
        if edges.ndim != 1 or edges.size == 0 or not np.all(np.isfinite(edges)):
            raise ParameterError(f"bins must be a non-empty list of finite numbers, got {bins!r}.")
        if np.any(np.diff(edges) <= 0):
            raise ParameterError(f"bins must increase strictly, got {bins!r}.")
        if values.size and values.max() > edges[-1]:
            warn(f"{int((values > edges[-1]).sum())} value(s) exceed the last bin "
                  f"({edges[-1]:g}); a class up to the maximum ({values.max():g}) was added. "
                  "Raise the last bin to keep legends shared between maps identical.")
            edges = np.append(edges, values.max())
        return edges
    distinct = np.unique(values)
    if distinct.size <= k and scheme not in ("headtail_breaks", "percentiles"):
        return distinct.astype(float)  # one class per distinct value
    if computed is None:
        edges = _computed(scheme, values, k, bins)
    else:
        edges = computed(scheme, values, k, bins, lambda: _computed(scheme, values, k, bins))
    edges = np.unique(edges)
    if edges[-1] < values.max():
        edges = np.append(edges, values.max())
    return edges


def classify(values: pd.Series, scheme: str, k: int, bins, zero_class: bool, *,
             computed=None):
    """Return (class index per row, -1 for missing; upper bounds; index of the zero class).

    ``computed``: how the breaks of a computed scheme are found (see :func:`_breaks`).
    """
    finite = values.dropna().to_numpy(dtype=float)
    split_zero = (zero_class and finite.size and finite.min() >= 0 and (finite == 0).any())
    if split_zero:
        positive = finite[finite > 0]
        if scheme == "user_defined":
            edges = _breaks(finite, scheme, k, bins, computed)
            if edges[0] > 0:
                edges = np.concatenate([[0.0], edges])
        elif positive.size:
            edges = np.concatenate([[0.0], _breaks(positive, scheme, max(k - 1, 1), None,
                                                   computed)])
        else:
            edges = np.array([0.0])
    else:
        edges = _breaks(finite, scheme, k, bins, computed)
    if scheme != "user_defined" and finite.size and np.all(np.mod(finite, 1) == 0):
        # Counts: a break of 2.5 holds the same whole numbers as 2, and reads "1-2".
        edges = np.unique(np.floor(edges))
    codes = np.full(len(values), -1, dtype=int)
    present = values.notna().to_numpy()
    codes[present] = np.searchsorted(edges, values.to_numpy(dtype=float)[present], side="left")
    return codes, edges, bool(split_zero or (edges[0] == 0 and finite.size and finite.min() == 0))


def _number_format(legend_fmt, edges: np.ndarray, integral: bool, exact_only: bool = False):
    if callable(legend_fmt):
        return legend_fmt
    if legend_fmt is not None and legend_fmt != "percent":
        if isinstance(legend_fmt, str) and "{" in legend_fmt:
            try:
                legend_fmt.format(1.5)  # a broken format fails here, not mid-drawing
                return legend_fmt.format
            except (ValueError, IndexError, KeyError):
                pass
        raise ParameterError(f'legend_fmt must be "percent", a format string like '
                             f'"{{:,.1f}}" or a function, got {legend_fmt!r}.')
    percent = legend_fmt == "percent"
    if integral and not percent:
        return lambda v: f"{v:,.0f}"
    # fewest decimals (by magnitude) that keep every break distinct
    scale = 100.0 if percent else 1.0
    nonzero = np.abs(edges[edges != 0]) * scale
    # two significant digits for the smallest break, none past the decimal point
    # at 100 and above
    smallest = nonzero.min() if nonzero.size else 1.0
    decimals = 0 if smallest >= 100 else min(3, max(0, 1 - math.floor(math.log10(smallest))))
    # ... and no more than the breaks need: 0.5, 1.0, 2.5 rather than 0.50, 1.00, 2.50
    exact = next((d for d in range(decimals + 1)
                  if np.allclose(np.round(edges * scale, d), edges * scale, rtol=0, atol=1e-9)),
                 decimals)
    decimals = min(decimals, exact)
    if exact_only:  # breaks the user chose are shown as given
        decimals = next((d for d in range(5) if np.allclose(
            np.round(edges * scale, d), edges * scale, rtol=0, atol=1e-9)), 4)
    fewest = decimals
    for decimals in range(fewest, 6):  # the last value tried is the result
        shown = {f"{e * scale:.{decimals}f}" for e in edges}
        if len(shown) == len(set(edges)):
            break
    suffix = "%" if percent else ""

    def fmt(v):
        text = f"{v * scale:,.{decimals}f}"
        return "0" + suffix if float(v) == 0 else text + suffix
    return fmt


def class_labels(edges, *, lowest=None, integral=False, zero_class=False, legend_fmt=None):
    """Legend labels for right-closed classes.

    Class ``i`` holds the values ``v`` with ``edges[i-1] < v <= edges[i]`` (the
    first class: ``lowest <= v <= edges[0]``), as mapclassify counts them. The
    labels say exactly that:

    * whole numbers (counts): ``"1–3"``, ``"4–10"`` (a single value: ``"4"``);
    * other numbers: ``"0.4 to 1.2"`` for the first class, then
      ``"over 1.2 to 2.5"``;
    * the first class reads ``"up to 1.2"`` when ``lowest`` is None (user-defined
      bins shared between maps), and ``"0"`` when it is the zero class.

    Breaks computed from the data are shown with two significant digits (none
    past the decimal point from 100 up), more only when two breaks would look
    the same; user-defined breaks (``lowest`` None) are shown as given.

    Parameters
    ----------
    edges : sequence of float
        Upper bound of each class, increasing.
    lowest : float, optional
        The smallest value of the first class (the data minimum).
    integral : bool, default False
        The values are whole numbers.
    zero_class : bool, default False
        The first class holds only zeros.
    legend_fmt : {None, "percent"}, str or callable, optional
        Number format: None picks thousands separators and the fewest decimals
        that keep the breaks distinct; ``"percent"`` shows shares as percents;
        a format string (``"{:,.1f}"``) or a function is used as given.

    Returns
    -------
    list of str

    Examples
    --------
    >>> class_labels([0, 3, 10, 1500], integral=True, zero_class=True)
    ['0', '1–3', '4–10', '11–1,500']
    >>> class_labels([1.2, 2.5, 9.8], lowest=0.4)
    ['0.4 to 1.2', 'over 1.2 to 2.5', 'over 2.5 to 9.8']
    >>> class_labels([0.2845, 0.4612, 1.29], lowest=0.1)
    ['0.10 to 0.28', 'over 0.28 to 0.46', 'over 0.46 to 1.29']
    >>> class_labels([1.25, 2.5, 10])
    ['up to 1.25', 'over 1.25 to 2.50', 'over 2.50 to 10.00']
    >>> class_labels([0.1, 0.25, 1.0], legend_fmt="percent")
    ['up to 10%', 'over 10% to 25%', 'over 25% to 100%']
    """
    edges = np.asarray(edges, dtype=float)
    shown = edges if lowest is None else np.append(edges, lowest)
    fmt = _number_format(legend_fmt, shown, integral, exact_only=lowest is None)
    labels = []
    for i, hi in enumerate(edges):
        if i == 0:
            if zero_class:
                labels.append(fmt(0))
            elif lowest is None:
                labels.append(f"up to {fmt(hi)}")
            elif lowest == hi:
                labels.append(fmt(hi))
            else:
                sep = "–" if integral else " to "
                labels.append(f"{fmt(lowest)}{sep}{fmt(hi)}")
            continue
        lo = edges[i - 1]
        if integral:
            first = math.floor(lo) + 1
            labels.append(fmt(hi) if first == hi else f"{fmt(first)}–{fmt(hi)}")
        else:
            labels.append(f"over {fmt(lo)} to {fmt(hi)}")
    return labels
