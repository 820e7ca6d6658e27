"""What else an agency runs: technologies per agency, overlaps, vendors.

The tables take an Atlas table of several technologies
(:func:`ringgeo.atlas.load_atlas` with ``"all"`` or a list). An *agency* is
matched across technologies (``match="ori"``, the default) by its FBI agency
code when the row was linked to one; a row without an ``ori`` takes the ``ori``
of linked rows with the same normalised agency name in the same state (when
they agree on one), and is otherwise known by that name and state alone.
``match="name"`` uses the normalised name and state for every row (case,
punctuation, ``&``/``and`` and spacing ignored): the plain rule a recount from
the raw CSV can repeat. Method and counts: ``docs/technologies.md``.
"""

from __future__ import annotations

import pandas as pd

from . import technologies as tech
from ._cleaning import dup_key
from ._frames import without_attrs
from .exceptions import ParameterError

__all__ = ["agency_keys", "technologies_by_agency", "overlap", "overlap_table",
           "partners_by_technology", "vendors", "MATCHES"]

#: How agencies are matched across technologies.
MATCHES = ("ori", "name")


def _check(atlas, match: str) -> None:
    if not isinstance(atlas, pd.DataFrame) or "technology" not in atlas:
        raise ParameterError("atlas has no 'technology' column: pass a table of "
                             "ringgeo.load_atlas(...) (e.g. load_atlas('all')).")
    if match not in MATCHES:
        raise ParameterError(f"`match` was {match!r} but is expected to be one of "
                             f"{', '.join(repr(m) for m in MATCHES)}.")
    if match == "ori" and "ori" not in atlas:
        raise ParameterError("match='ori' needs the linked table (load_atlas(..., link=True)); "
                             "use match='name' for an unlinked one.")


def agency_keys(atlas: pd.DataFrame, *, match: str = "ori") -> pd.DataFrame:
    """Return, for every row, the agency it names across technologies and how it was matched.

    Parameters
    ----------
    atlas : pandas.DataFrame
        A table of :func:`ringgeo.atlas.load_atlas`.
    match : {"ori", "name"}, default "ori"
        ``"ori"``: the FBI agency code when the row has one, else the ``ori`` that
        linked rows of the same normalised name and state share, else the name
        and state. ``"name"``: the normalised agency name and state only.

    Returns
    -------
    pandas.DataFrame
        Same index as ``atlas``; columns ``agency_key`` (``"ori:PA0233700"`` or
        ``"name:upper darby police department|PA"``) and ``matched_by``
        (``"ori"``, ``"name → ori"``, ``"name"``).

    Examples
    --------
    >>> frame = pd.DataFrame({"agency": ["Ames Police Dept.", "ames police dept"],
    ...                       "state": ["IA", "IA"], "technology": ["ring", "drones"]})
    >>> agency_keys(frame, match="name")["agency_key"].nunique()
    1
    """
    _check(atlas, match)
    atlas = without_attrs(atlas)  # else pandas deep-copies the quality report at every step
    names = pd.Series([f"name:{dup_key(a or '', s)}" for a, s in
                       zip(atlas["agency"].tolist(), atlas["state"].tolist())], index=atlas.index)
    if match == "name":
        return pd.DataFrame({"agency_key": names, "matched_by": "name"}, index=atlas.index)
    ori = atlas["ori"].astype("string")
    # a name adopts the ori its linked rows share, when they share exactly one
    linked = pd.DataFrame({"name": names, "ori": ori}).dropna().groupby("name")["ori"]
    by_name = linked.first().where(linked.nunique() == 1)
    adopted = names.map(by_name)
    key = ("ori:" + ori).fillna("ori:" + adopted.astype("string")).fillna(names)
    how = pd.Series("name", index=atlas.index, dtype="object")
    how[adopted.notna() & ori.isna()] = "name → ori"
    how[ori.notna()] = "ori"
    return pd.DataFrame({"agency_key": key.astype(str), "matched_by": how}, index=atlas.index)


def technologies_by_agency(atlas: pd.DataFrame, *, match: str = "ori") -> pd.DataFrame:
    """Return one row per agency with the set of technologies it appears with.

    Parameters
    ----------
    atlas : pandas.DataFrame
        A table of :func:`ringgeo.atlas.load_atlas` (several technologies).
    match : {"ori", "name"}, default "ori"
        How rows are matched to an agency (see :func:`agency_keys`).

    Returns
    -------
    pandas.DataFrame
        Index ``agency_key``; columns ``agency`` (the name of its first row),
        ``state``, ``ori`` (or <NA>), ``matched_by``, ``technologies`` (tuple of
        keys, sorted), ``n_technologies``, then one boolean column per technology
        of the table (``ring``, ``drones``, ...). Sorted by state and agency.

    Examples
    --------
    >>> frame = pd.DataFrame({"agency": ["Ames PD", "Ames PD", "Boone PD"],
    ...                       "state": ["IA", "IA", "IA"],
    ...                       "technology": ["ring", "drones", "ring"]})
    >>> table = technologies_by_agency(frame, match="name")
    >>> table["technologies"].tolist(), table["drones"].tolist()
    ([('drones', 'ring'), ('ring',)], [True, False])
    """
    keys = agency_keys(atlas, match=match)
    atlas = without_attrs(atlas)
    frame = pd.DataFrame({"agency_key": keys["agency_key"], "matched_by": keys["matched_by"],
                          "agency": atlas["agency"], "state": atlas["state"],
                          "ori": atlas["ori"] if "ori" in atlas else pd.NA,
                          "technology": atlas["technology"].astype(str)})
    order = _order(frame["technology"])
    grouped = frame.groupby("agency_key", sort=False)
    table = grouped.agg(agency=("agency", "first"), state=("state", "first"),
                        ori=("ori", "first"), matched_by=("matched_by", "first"))
    present = (pd.crosstab(frame["agency_key"], frame["technology"]) > 0).reindex(table.index)
    names = sorted(present.columns)  # each agency's technologies, in sorted order
    sets = pd.Series([tuple(name for name, has in zip(names, row) if has)
                      for row in present[names].to_numpy()], index=table.index, dtype=object)
    table["technologies"] = sets
    table["n_technologies"] = sets.map(len)
    for key in order:
        table[key] = present[key].reindex(table.index, fill_value=False)
    table["ori"] = table["ori"].astype("string")
    table = table.sort_values(["state", "agency"], na_position="last", kind="stable")
    table.attrs = {"match": match, "technologies": order}
    return table


def _order(technology: pd.Series) -> list[str]:
    """Keys present, in :data:`ringgeo.technologies.TECHNOLOGIES` order, unknown ones last."""
    present = set(technology.astype(str))
    return [k for k in tech.TECHNOLOGIES if k in present] + sorted(present - set(tech.TECHNOLOGIES))


def overlap(atlas: pd.DataFrame, a: str, b: str, *, match: str = "ori") -> pd.DataFrame:
    """Return the agencies that appear with both technologies ``a`` and ``b``.

    Parameters
    ----------
    atlas : pandas.DataFrame
        A table of :func:`ringgeo.atlas.load_atlas` holding both technologies.
    a, b : str
        Technologies (keys, Atlas names or labels), e.g. ``"ring"``, ``"alpr"``.
    match : {"ori", "name"}, default "ori"
        How rows are matched to an agency (see :func:`agency_keys`).

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`technologies_by_agency` for the agencies with both,
        ``attrs``: ``a``, ``b``, ``count_a``, ``count_b`` (agencies with each),
        ``match``.

    Raises
    ------
    ParameterError
        A technology is unknown or not in the table.

    Examples
    --------
    >>> frame = pd.DataFrame({"agency": ["Ames PD", "Ames PD", "Boone PD"],
    ...                       "state": ["IA", "IA", "IA"],
    ...                       "technology": ["ring", "drones", "ring"]})
    >>> both = overlap(frame, "ring", "drones", match="name")
    >>> len(both), both.attrs["count_a"]
    (1, 2)
    """
    table = technologies_by_agency(atlas, match=match)
    a, b = (_key(name, table) for name in (a, b))
    both = table[table[a] & table[b]].copy()
    both.attrs = {"a": a, "b": b, "count_a": int(table[a].sum()), "count_b": int(table[b].sum()),
                  "match": match}
    return both


def _key(name: str, table: pd.DataFrame) -> str:
    present = table.attrs["technologies"]
    if name in present:
        return name
    try:
        key = tech.resolve(name)
    except ValueError as err:
        raise ParameterError(str(err)) from None
    if key not in present:
        raise ParameterError(f"technology {name!r} is not in this table (it holds "
                             f"{', '.join(present)}): load it, e.g. load_atlas('all').")
    return key


def overlap_table(atlas: pd.DataFrame, base: str = "ring", *, by: str | None = None,
                  match: str = "ori") -> pd.DataFrame:
    """Return how many agencies of ``base`` also appear with each other technology.

    Parameters
    ----------
    atlas : pandas.DataFrame
        A table of :func:`ringgeo.atlas.load_atlas` holding ``base`` and others.
    base : str, default "ring"
        The technology whose agencies are counted (Ring's partners by default).
    by : {None, "state"}, default None
        ``"state"``: one row per state (USPS) and technology.
    match : {"ori", "name"}, default "ori"
        How rows are matched to an agency (see :func:`agency_keys`).

    Returns
    -------
    pandas.DataFrame
        Index ``technology`` (the other technologies, in ringgeo's order; with
        ``by="state"``, columns ``state`` and ``technology`` first); columns
        ``label``, ``agencies`` (agencies with that technology), ``base_agencies``
        (agencies with ``base``), ``with_base`` (agencies with both),
        ``share_of_base`` (``with_base / base_agencies``) and
        ``share_of_technology`` (``with_base / agencies``). ``attrs``: ``base``,
        ``match``, ``source``.

    Examples
    --------
    >>> frame = pd.DataFrame({"agency": ["Ames PD", "Ames PD", "Boone PD"],
    ...                       "state": ["IA", "IA", "IA"],
    ...                       "technology": ["ring", "drones", "ring"]})
    >>> overlap_table(frame, match="name")[["agencies", "with_base", "share_of_base"]]
    ... # doctest: +NORMALIZE_WHITESPACE
                agencies  with_base  share_of_base
    technology
    drones             1          1            0.5
    """
    if by not in (None, "state"):
        raise ParameterError(f"`by` was {by!r} but is expected to be None or 'state'.")
    table = technologies_by_agency(atlas, match=match)
    base = _key(base, table)
    others = [k for k in table.attrs["technologies"] if k != base]
    if not others:
        raise ParameterError(f"the table holds only {base!r}: an overlap needs another "
                             "technology, e.g. load_atlas('all') or load_atlas(['ring', "
                             "'drones']).")
    groups = [(None, table)] if by is None else list(table.groupby("state", sort=True))
    rows = []
    for state, part in groups:
        for key in others:
            agencies = int(part[key].sum())
            with_base = int((part[key] & part[base]).sum())
            n_base = int(part[base].sum())
            rows.append({"state": state, "technology": key,
                         "label": tech.TECHNOLOGIES[key].label if key in tech.TECHNOLOGIES
                         else key, "agencies": agencies, "base_agencies": n_base,
                         "with_base": with_base,
                         "share_of_base": with_base / n_base if n_base else float("nan"),
                         "share_of_technology": with_base / agencies if agencies
                         else float("nan")})
    out = pd.DataFrame(rows)
    out = (out.drop(columns="state") if by is None else out).set_index(
        "technology" if by is None else ["state", "technology"])
    out.attrs = {"base": base, "match": match, "source": atlas.attrs.get("source")}
    return out


def partners_by_technology(atlas: pd.DataFrame, base: str = "ring", *, by: str = "state",
                           match: str = "ori") -> pd.DataFrame:
    """Return Ring's partners (or ``base``'s agencies) that run each other technology, by state.

    Parameters
    ----------
    atlas : pandas.DataFrame
        A table of :func:`ringgeo.atlas.load_atlas` holding ``base`` and others.
    base : str, default "ring"
        The technology whose agencies are counted.
    by : {"state"}, default "state"
        One row per state (USPS).
    match : {"ori", "name"}, default "ori"
        How rows are matched to an agency (see :func:`agency_keys`).

    Returns
    -------
    pandas.DataFrame
        Index ``state``; column ``base`` (e.g. ``ring``: the agencies of the base
        technology in the state), then one column per other technology: how many
        of them also appear with it; a last row ``total`` (the nation).

    Examples
    --------
    >>> frame = pd.DataFrame({"agency": ["Ames PD", "Ames PD", "Boone PD", "Erie PD"],
    ...                       "state": ["IA", "IA", "IA", "PA"],
    ...                       "technology": ["ring", "drones", "ring", "ring"]})
    >>> partners_by_technology(frame, match="name")  # doctest: +NORMALIZE_WHITESPACE
           ring  drones
    state
    IA        2       1
    PA        1       0
    total     3       1
    """
    if by != "state":
        raise ParameterError(f"`by` was {by!r} but is expected to be 'state'.")
    table = technologies_by_agency(atlas, match=match)
    base = _key(base, table)
    mine = table[table[base]]
    columns = [base] + [k for k in table.attrs["technologies"] if k != base]
    out = mine.groupby("state")[columns].sum().astype("int64")
    out.loc["total"] = out.sum()
    out.index.name = "state"
    out.attrs = {"base": base, "match": match, "source": atlas.attrs.get("source")}
    return out


def vendors(atlas: pd.DataFrame, *, match: str = "ori") -> pd.DataFrame:
    """Return the vendors the Atlas names, by technology.

    Parameters
    ----------
    atlas : pandas.DataFrame
        A table of :func:`ringgeo.atlas.load_atlas`.
    match : {"ori", "name"}, default "ori"
        How rows are matched to an agency (see :func:`agency_keys`), for the
        ``agencies`` column.

    Returns
    -------
    pandas.DataFrame
        Columns ``technology``, ``vendor`` (``"(not named)"`` for a blank Vendor),
        ``rows``, ``agencies`` (distinct agencies), ``share`` (of the
        technology's rows), sorted by technology (ringgeo's order) then rows.

    Examples
    --------
    >>> frame = pd.DataFrame({"agency": ["A", "B", "C"], "state": ["IA"] * 3,
    ...                       "technology": ["drones"] * 3,
    ...                       "vendor": pd.array(["DJI", "DJI", None], dtype="string")})
    >>> vendors(frame, match="name")[["vendor", "rows", "agencies"]].to_dict("list")
    {'vendor': ['DJI', '(not named)'], 'rows': [2, 1], 'agencies': [2, 1]}
    """
    keys = agency_keys(atlas, match=match)
    source, atlas = atlas.attrs.get("source"), without_attrs(atlas)
    frame = pd.DataFrame({"technology": atlas["technology"].astype(str),
                          "vendor": atlas["vendor"].astype("string").fillna("(not named)"),
                          "agency_key": keys["agency_key"]})
    out = (frame.groupby(["technology", "vendor"])
           .agg(rows=("agency_key", "size"), agencies=("agency_key", "nunique")).reset_index())
    out["share"] = out["rows"] / out.groupby("technology")["rows"].transform("sum")
    rank = {k: i for i, k in enumerate(_order(frame["technology"]))}
    out = out.sort_values(["technology", "rows", "vendor"],
                          key=lambda s: s.map(rank) if s.name == "technology" else
                          (-s if s.name == "rows" else s), kind="stable").reset_index(drop=True)
    out.attrs = {"match": match, "source": source}
    return out
