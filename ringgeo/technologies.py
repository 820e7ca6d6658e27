"""The technologies of the Atlas of Surveillance, and the words figures use for them.

The EFF's Atlas of Surveillance lists one row per agency and technology. Its
``Technology`` column names the technology; ringgeo names each by a short key
(``"ring"``, ``"alpr"``, ...) and uses :func:`label`, :func:`noun` and
:func:`members` to write titles, legends, popups and alt text, so that no figure
of drones says "Ring".

A table says which technology it holds in ``attrs["technology"]`` (a key of
:data:`TECHNOLOGIES`, or ``"all"``). Tables without it are Ring's partner table,
the default, so every existing figure keeps its words.
"""

from __future__ import annotations

import dataclasses

__all__ = ["Technology", "TECHNOLOGIES", "ATLAS_NAMES", "RENAMES", "technology_of", "label",
           "noun", "members", "resolve", "key_of", "source_words"]


@dataclasses.dataclass(frozen=True)
class Technology:
    """One Atlas technology and the words used for it.

    Attributes
    ----------
    key : str
        Short name used by ringgeo (parameter values, file names).
    atlas : str
        The value of the Atlas' ``Technology`` column (2020-10-07 export).
    label : str
        Name for titles, e.g. ``"Automated license plate readers"``.
    short : str
        Short adjective or noun for agency counts, e.g. ``"Ring"`` in
        "Ring partner agencies" or ``"license plate reader"``.
    members : str
        Plural noun for the agencies in the table, e.g. ``"Ring partner agencies"``.
    member : str
        Singular of ``members``, e.g. ``"Ring partner"``.
    """

    key: str
    atlas: str
    label: str
    short: str
    members: str
    member: str


def _tech(key, atlas, label, short, members=None, member=None) -> Technology:
    members = members or f"agencies using {label[0].lower() + label[1:]}"
    member = member or f"agency using {label[0].lower() + label[1:]}"
    return Technology(key, atlas, label, short, members, member)


#: Every technology of the 2020-10-07 Atlas export, by ringgeo key (row counts in
#: that export: ring 1,501; bwc 1,378; drones 1,079; alpr 585; camera_registry 398;
#: face_recognition 369; predictive 146; gunshot 99; fusion 79; cell_site 67;
#: rtcc 58; video_analytics 25).
TECHNOLOGIES: dict[str, Technology] = {t.key: t for t in [
    _tech("ring", "Ring/Neighbors Partnership", "Ring partnerships", "Ring",
          "Ring partner agencies", "Ring partner"),
    _tech("bwc", "Body-worn Cameras", "Body-worn cameras", "body-worn camera"),
    _tech("drones", "Drones", "Drones", "drone"),
    _tech("alpr", "Automated License Plate Readers", "Automated license plate readers",
          "license plate reader"),
    _tech("camera_registry", "Camera Registry", "Camera registries", "camera registry"),
    _tech("face_recognition", "Face Recognition", "Face recognition", "face recognition"),
    _tech("predictive", "Predictive Policing", "Predictive policing", "predictive policing"),
    _tech("gunshot", "Gunshot Detection", "Gunshot detection", "gunshot detection"),
    _tech("fusion", "Fusion Center", "Fusion centers", "fusion center",
          "fusion centers", "fusion center"),
    _tech("cell_site", "Cell-site Simulator", "Cell-site simulators", "cell-site simulator"),
    _tech("rtcc", "Real-Time Crime Center", "Real-time crime centers", "real-time crime center",
          "agencies with a real-time crime center", "agency with a real-time crime center"),
    _tech("video_analytics", "Video Analytics/Computer Vision",
          "Video analytics and computer vision", "video analytics"),
]}
#: Several technologies in one table (``load_atlas(technology="all")`` or a list).
ALL = Technology("all", "", "Surveillance technologies", "surveillance technology",
                 "agencies using surveillance technology",
                 "agency using surveillance technology")
#: Atlas ``Technology`` value -> ringgeo key.
ATLAS_NAMES = {t.atlas: key for key, t in TECHNOLOGIES.items()}
#: Later Atlas names of a 2020 technology -> ringgeo key: only renames checked against
#: an Atlas export belong here. None could be verified when this was written, so a name
#: not in :data:`ATLAS_NAMES` (spelling, case and spacing aside) is kept under its own
#: name and listed in the quality report (``report["technologies"]["unknown"]``).
RENAMES: dict[str, str] = {}


def _norm(name) -> str:
    return " ".join(str(name).replace("_", " ").split()).casefold()


_BY_NORM = {_norm(t.atlas): k for k, t in TECHNOLOGIES.items()}


def key_of(atlas_name) -> str | None:
    """Return the ringgeo key of a ``Technology`` value of an Atlas export, or None.

    Case, spaces and underscores do not matter; the names of :data:`RENAMES` are
    known too. None: a technology ringgeo does not know (keep it under its name).

    Examples
    --------
    >>> key_of("Automated License Plate Readers"), key_of(" drones "), key_of("Robots")
    ('alpr', 'drones', None)
    """
    name = _norm(atlas_name)
    return _BY_NORM.get(name) or {_norm(n): k for n, k in RENAMES.items()}.get(name)


def resolve(name: str) -> str:
    """Return the ringgeo key of a technology given by key, Atlas name or label.

    Parameters
    ----------
    name : str
        A key (``"alpr"``), the Atlas' name (``"Automated License Plate
        Readers"``) or the label, in any case; ``"all"`` for every technology.

    Returns
    -------
    str
        A key of :data:`TECHNOLOGIES`, or ``"all"``.

    Raises
    ------
    ValueError
        The name is none of these; the message lists the allowed keys.

    Examples
    --------
    >>> resolve("Automated License Plate Readers"), resolve("Drones"), resolve("ring")
    ('alpr', 'drones', 'ring')
    """
    text = str(name).strip().casefold()
    if text == "all":
        return "all"
    for key, tech in TECHNOLOGIES.items():
        if text in {key, tech.atlas.casefold(), tech.label.casefold()}:
            return key
    raise ValueError(f"Unknown technology {name!r}: use one of {', '.join(TECHNOLOGIES)} or "
                     "'all' (or the Atlas' own name, e.g. 'Automated License Plate Readers').")


def technology_of(frame) -> Technology:
    """Return the :class:`Technology` a table holds (Ring's partners when it does not say).

    Parameters
    ----------
    frame : pandas.DataFrame or None
        A table with ``attrs["technology"]`` (a key, or ``"all"``), or any other
        table (Ring's partners are assumed, the package's default).

    Returns
    -------
    Technology

    Examples
    --------
    >>> import pandas as pd
    >>> technology_of(pd.DataFrame()).key
    'ring'
    >>> frame = pd.DataFrame()
    >>> frame.attrs["technology"] = "drones"
    >>> technology_of(frame).label
    'Drones'
    """
    key = getattr(frame, "attrs", {}).get("technology", "ring") if frame is not None else "ring"
    if isinstance(key, (list, tuple)):
        key = key[0] if len(key) == 1 else "all"
    key = key or "ring"
    if key == "all":
        return ALL
    if key in TECHNOLOGIES:
        return TECHNOLOGIES[key]
    # a technology of a newer export that ringgeo does not know: its Atlas name
    return _tech(str(key), str(key), str(key), str(key), f"agencies listed under {key!r}",
                 f"agency listed under {key!r}")


def label(frame) -> str:
    """Return the title name of a table's technology, e.g. ``"Ring partnerships"``.

    Examples
    --------
    >>> import pandas as pd
    >>> label(pd.DataFrame())
    'Ring partnerships'
    """
    return technology_of(frame).label


def noun(frame) -> str:
    """Return the short name of a table's technology, e.g. ``"Ring"``.

    Examples
    --------
    >>> import pandas as pd
    >>> f"{noun(pd.DataFrame())} partner agencies by state"
    'Ring partner agencies by state'
    """
    return technology_of(frame).short


def members(frame, *, plural: bool = True) -> str:
    """Return what the table's agencies are called, e.g. ``"Ring partner agencies"``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame()
    >>> frame.attrs["technology"] = "alpr"
    >>> members(frame)
    'agencies using automated license plate readers'
    >>> members(frame, plural=False)
    'agency using automated license plate readers'
    >>> members(pd.DataFrame())
    'Ring partner agencies'
    """
    tech = technology_of(frame)
    return tech.members if plural else tech.member


def source_words(frame, *, export_date: str = "2020-10-07") -> tuple[str | None, str]:
    """Return how a figure's source line names a table's file and rows.

    Parameters
    ----------
    frame : pandas.DataFrame or None
        A table of :func:`ringgeo.load_atlas` (``attrs["technology"]``,
        ``attrs["source_file"]``), a coverage table made from one, or any table.
    export_date : str
        The registry snapshot's export date.

    Returns
    -------
    tuple of (str or None, str)
        The credit of a reader's own Atlas file, with its export date and sha256
        (None for the registry's file: the standard credit names it), and what
        rows are counted: ``"partnerships"`` for Ring, e.g. ``"drone rows"``
        otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame()
    >>> frame.attrs.update(technology="alpr", source_file={
    ...     "name": "Atlas of Surveillance-20250314.csv", "sha256": "ab" * 32,
    ...     "date": "2025-03-14", "registry": None})
    >>> credit, rows = source_words(frame)
    >>> rows
    'license plate reader rows'
    >>> print(credit)  # doctest: +NORMALIZE_WHITESPACE
    Electronic Frontier Foundation, Atlas of Surveillance (CC BY 4.0), your export of
    2025-03-14 (Atlas of Surveillance-20250314.csv, sha256 abababababababab...)
    """
    tech = technology_of(frame)
    if tech.key == "ring":
        rows = "partnerships"
    elif tech.key == "all":
        rows = "rows of every technology"
    else:
        rows = f"{tech.short} rows"
    info = getattr(frame, "attrs", {}).get("source_file") if frame is not None else None
    if not isinstance(info, dict) or info.get("registry"):
        return None, rows
    date = f"of {info['date']}" if info.get("date") else "(export date unknown)"
    return (f"Electronic Frontier Foundation, Atlas of Surveillance (CC BY 4.0), your export "
            f"{date} ({info['name']}, sha256 {info['sha256'][:16]}...)", rows)
