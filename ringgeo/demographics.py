"""Who lives in each county: 2020 Census race, SVI ethnicity and poverty, USDA urban/rural.

:func:`load_demographics` joins three registry files by county FIPS code
(``docs/methodology.md#who-lives-under-a-partnered-police``):

* ``census-2020-pl-p1-county.csv``: the 2020 Census count (``P1_001N``) and the
  race-alone counts of table P1 (P.L. 94-171), for the 3,143 counties of the 50
  states and DC and Puerto Rico's 78 municipios;
* ``cdc-svi-2020-county.csv``: CDC/ATSDR Social Vulnerability Index 2020 (from the
  ACS 2016-2020 5-year estimates): the Hispanic or Latino share (``EP_HISP``), the
  share below 150 % of the poverty line (``EP_POV150``) and the racial/ethnic
  minority share (``EP_MINRTY``), each with its margin of error (``MP_*``, 90 %);
  ``-999`` is the SVI's mark of a missing value, read as missing;
* ``usda-rucc-2023.csv``: USDA ERS Rural-Urban Continuum Codes 2023 (1-3 metro,
  4-9 nonmetro). Connecticut is coded there by its nine planning regions
  (09110-09190), the P1 and SVI files by its eight old counties: each old county
  takes the code of the planning region holding most of its residents
  (:data:`CT_PLANNING_REGION`).

The table is keyed on 2020 county codes (Alaska's 02063 and 02066, which the 2019
geography of the coverage tables still holds as 02261: :func:`on_2019_counties`).
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from . import data, tablecache
from .exceptions import InputError
from .geography import COUNTY_SUCCESSORS
from .states import STATES

__all__ = ["P1_FILE", "SVI_FILE", "RUCC_FILE", "SOURCE_FILES", "RACE_COLUMNS",
           "SHARE_COLUMNS", "DEMOGRAPHIC_COLUMNS", "CT_PLANNING_REGION", "load_demographics",
           "read_demographics", "on_2019_counties"]

P1_FILE = "census-2020-pl-p1-county.csv"
SVI_FILE = "cdc-svi-2020-county.csv"
RUCC_FILE = "usda-rucc-2023.csv"
#: The registry files :func:`load_demographics` reads.
SOURCE_FILES = (P1_FILE, SVI_FILE, RUCC_FILE)

#: Race-alone shares of the 2020 count (P1 column -> output column).
RACE_COLUMNS = {"P1_003N": "share_white", "P1_004N": "share_black", "P1_005N": "share_aian",
                "P1_006N": "share_asian", "P1_007N": "share_nhpi", "P1_008N": "share_other",
                "P1_009N": "share_two_or_more"}
#: SVI percentage -> (share column, margin column); shares and margins 0-1.
SVI_COLUMNS = {"EP_HISP": ("share_hispanic", "moe_hispanic"),
               "EP_POV150": ("share_poverty150", "moe_poverty150"),
               "EP_MINRTY": ("share_minority", "moe_minority")}
#: Every ``share_*`` column of :func:`load_demographics`, in order.
SHARE_COLUMNS = (*RACE_COLUMNS.values(), "share_hispanic", "share_poverty150",
                 "share_minority")
#: Columns of :func:`load_demographics`, in order (index ``fips``).
DEMOGRAPHIC_COLUMNS = ("state", "name", "puerto_rico", "population_2020",
                       *RACE_COLUMNS.values(), "share_hispanic", "moe_hispanic",
                       "share_poverty150", "moe_poverty150", "share_minority", "moe_minority",
                       "rucc", "rucc_fips", "metro")

#: Connecticut's eight old counties (P1, SVI 2020) -> the planning region (RUCC 2023)
#: holding most of its residents, and that share. Computed from the April 1, 2020
#: estimates base of the 169 towns (``sub-est2021_all.zip``, SUMLEV 061) grouped by
#: the Census Bureau's assignment of each town to a planning region (town boundaries
#: did not change; Federal Register 2022-12063; town list as in CT Data Collaborative's
#: ct-town-to-planning-region crosswalk). The regions' sums agree with RUCC's
#: ``Population_2020`` within 0.1 %. Litchfield is the one county whose other regions
#: carry another metro status: 54.5 % of it is in Northwest Hills (RUCC 4, nonmetro),
#: 45.5 % in Naugatuck Valley and Western (RUCC 2, metro).
CT_PLANNING_REGION = {
    "09001": ("09190", 0.617),  # Fairfield -> Western (also Greater Bridgeport 35.8 %)
    "09003": ("09110", 0.920),  # Hartford -> Capitol
    "09005": ("09160", 0.545),  # Litchfield -> Northwest Hills
    "09007": ("09130", 1.000),  # Middlesex -> Lower Connecticut River Valley
    "09009": ("09170", 0.660),  # New Haven -> South Central (also Naugatuck Valley 34.0 %)
    "09011": ("09180", 0.953),  # New London -> Southeastern
    "09013": ("09110", 0.995),  # Tolland -> Capitol
    "09015": ("09150", 0.790),  # Windham -> Northeastern
}
_USPS = dict(zip(STATES["fips"], STATES["state"]))
_MISSING = -999.0


def _fail(path, line: int, field: str, value, what: str):
    raise InputError(f"{pathlib.Path(path).name}, line {line}, field {field}: {value!r} {what}")


def _read(path, *, encoding: str, columns, skip_labels: bool = False) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{pathlib.Path(path).name}: cannot be read as a {encoding} CSV "
                         f"({exc}).") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{pathlib.Path(path).name} lacks column(s) {', '.join(missing)}; "
                         f"is it the registry's file?")
    first = 2
    if skip_labels:  # P1: a second header row of labels
        if len(frame) and frame.iloc[0][columns[0]] == "Geography":
            frame, first = frame.iloc[1:], 3
    frame = frame.loc[:, list(columns)].copy()
    frame["line"] = np.arange(first, first + len(frame))
    return frame.reset_index(drop=True)


def _numbers(frame, column, path, *, integer: bool) -> pd.Series:
    values = pd.to_numeric(frame[column].str.strip(), errors="coerce")
    bad = values.isna() | (values < 0) & (values != _MISSING)
    if integer:
        bad |= values.notna() & (values != np.floor(values))
    if bad.any():
        i = np.flatnonzero(bad.to_numpy())[0]
        _fail(path, int(frame["line"].iat[i]), column, frame[column].iat[i],
              "is not a " + ("count" if integer else "number") + " (or -999, missing).")
    return values.astype("float64")


def _fips(frame, column, path) -> pd.Series:
    fips = frame[column].str.strip().str.zfill(5)
    bad = ~fips.str.fullmatch(r"\d{5}")
    if bad.any():
        i = np.flatnonzero(bad.to_numpy())[0]
        _fail(path, int(frame["line"].iat[i]), column, frame[column].iat[i],
              "is not a county FIPS code.")
    twice = fips.duplicated()
    if twice.any():
        i = np.flatnonzero(twice.to_numpy())[0]
        _fail(path, int(frame["line"].iat[i]), column, frame[column].iat[i],
              "names a county already listed.")
    return fips


def _p1(path) -> tuple[pd.DataFrame, dict]:
    raw = _read(path, encoding="utf-8-sig", columns=("GEO_ID", "NAME", "P1_001N",
                                                     *RACE_COLUMNS), skip_labels=True)
    geo = raw["GEO_ID"].str.strip()
    bad = ~geo.str.fullmatch(r"0500000US\d{5}")
    if bad.any():
        i = np.flatnonzero(bad.to_numpy())[0]
        _fail(path, int(raw["line"].iat[i]), "GEO_ID", raw["GEO_ID"].iat[i],
              "is not a county GEO_ID (0500000USsscccc).")
    raw["GEO_ID"] = geo.str[-5:]
    fips = _fips(raw, "GEO_ID", path)
    total = _numbers(raw, "P1_001N", path, integer=True)
    out = pd.DataFrame({"state": fips.str[:2].map(_USPS).astype("string").to_numpy(),
                        "name": raw["NAME"].str.split(",").str[0].astype("string").to_numpy(),
                        "population_2020": pd.array(total, dtype="Int64")},
                       index=pd.Index(fips.to_numpy(), name="fips", dtype="string"))
    unknown = out["state"].isna().to_numpy()
    if unknown.any():
        i = np.flatnonzero(unknown)[0]
        _fail(path, int(raw["line"].iat[i]), "GEO_ID", raw["GEO_ID"].iat[i],
              "is in no state, DC or Puerto Rico.")
    denom = np.where(total > 0, total, np.nan)
    race_sum = np.zeros(len(raw))
    for column, share in RACE_COLUMNS.items():
        count = _numbers(raw, column, path, integer=True).to_numpy()
        race_sum += count
        out[share] = count / denom
    off = race_sum != total.to_numpy()
    if off.any():
        i = np.flatnonzero(off)[0]
        _fail(path, int(raw["line"].iat[i]), "P1_001N", raw["P1_001N"].iat[i],
              "is not the sum of P1_003N to P1_009N (the race-alone and two-or-more counts).")
    return out, {"rows_read": len(raw), "rows_kept": len(out)}


def _svi(path) -> tuple[pd.DataFrame, dict]:
    columns = ["FIPS"] + [c for ep in SVI_COLUMNS for c in (ep, "MP_" + ep[3:])]
    raw = _read(path, encoding="utf-8-sig", columns=columns)
    fips = _fips(raw, "FIPS", path)
    out = pd.DataFrame(index=pd.Index(fips.to_numpy(), name="fips", dtype="string"))
    missing = {}
    for ep, (share, moe) in SVI_COLUMNS.items():
        for src, dst in ((ep, share), ("MP_" + ep[3:], moe)):
            values = _numbers(raw, src, path, integer=False)
            flagged = values == _MISSING
            missing[src] = sorted(fips[flagged])
            big = (values > 100) & ~flagged
            if big.any():
                i = np.flatnonzero(big.to_numpy())[0]
                _fail(path, int(raw["line"].iat[i]), src, raw[src].iat[i],
                      "is not a percentage (0-100).")
            out[dst] = values.where(~flagged).to_numpy() / 100.0
    return out, {"rows_read": len(raw), "rows_kept": len(out),
                 "missing_-999": {k: v for k, v in missing.items() if v}}


def _rucc(path) -> tuple[pd.DataFrame, dict]:
    raw = _read(path, encoding="cp1252", columns=("FIPS", "Attribute", "Value"))
    codes = raw.loc[raw["Attribute"].str.strip() == "RUCC_2023"].reset_index(drop=True)
    fips = _fips(codes, "FIPS", path)
    values = pd.to_numeric(codes["Value"].str.strip(), errors="coerce")
    bad = ~values.isin(range(1, 10))
    if bad.any():
        i = np.flatnonzero(bad.to_numpy())[0]
        _fail(path, int(codes["line"].iat[i]), "Value", codes["Value"].iat[i],
              "is not a Rural-Urban Continuum Code (1-9).")
    every = raw["FIPS"].str.strip().str.zfill(5).unique()
    without = sorted(set(every) - set(fips))
    out = pd.Series(values.astype("int64").to_numpy(), index=pd.Index(fips.to_numpy(),
                    dtype="string"), name="rucc")
    return out, {"rows_read": len(raw), "counties_listed": len(every),
                 "counties_with_code": len(out), "counties_without_code": without}


def read_demographics(p1_path, svi_path, rucc_path) -> pd.DataFrame:
    """Read and join the three files (the body of :func:`load_demographics`).

    Parameters
    ----------
    p1_path, svi_path, rucc_path : str or path-like
        Files laid out as the registry's ``census-2020-pl-p1-county.csv``,
        ``cdc-svi-2020-county.csv`` and ``usda-rucc-2023.csv`` (tests pass crafted ones).

    Returns
    -------
    pandas.DataFrame
        As :func:`load_demographics`.

    Raises
    ------
    InputError
        A file lacks a column, or a row has a bad FIPS code, count, percentage or
        code; the message names the file, its line and the field.
    """
    p1, q_p1 = _p1(p1_path)
    svi, q_svi = _svi(svi_path)
    rucc, q_rucc = _rucc(rucc_path)
    table = p1.join(svi, how="left")
    # RUCC: Connecticut's old counties take their planning region's code
    source = pd.Series(table.index, index=table.index, dtype="string")
    ct = source.isin(list(CT_PLANNING_REGION))
    source[ct] = source[ct].map(lambda f: CT_PLANNING_REGION[f][0])
    table["rucc"] = pd.array(source.map(rucc).to_numpy(), dtype="Int64")
    table["rucc_fips"] = source.where(table["rucc"].notna()).astype("string")
    table["metro"] = pd.array(table["rucc"].le(3).to_numpy(), dtype="boolean")
    table["puerto_rico"] = (table["state"] == "PR").to_numpy(dtype=bool)
    table = table.loc[:, list(DEMOGRAPHIC_COLUMNS)].sort_index()
    in51 = ~table["puerto_rico"]
    regions = {f"{old}": {"region": reg, "share_of_residents": share}
               for old, (reg, share) in CT_PLANNING_REGION.items()}
    used = set(source.where(table["rucc"].notna()).dropna())
    table.attrs = {"quality": {
        "census-2020-pl-p1-county.csv": q_p1,
        "cdc-svi-2020-county.csv": {**q_svi, "joined": int(table.index.isin(svi.index).sum()),
                                    "not_in_p1": sorted(set(svi.index) - set(p1.index))},
        "usda-rucc-2023.csv": {**q_rucc, "joined": len(used),
                               "not_used": sorted(set(rucc.index) - used)},
        "counties": int(in51.sum()), "puerto_rico_municipios": int((~in51).sum()),
        "population_50_states_dc": int(table.loc[in51, "population_2020"].sum()),
        "without_svi": sorted(table.index[in51 & table["share_poverty150"].isna()]),
        "without_rucc": sorted(table.index[table["rucc"].isna()]),
        "connecticut": {"rule": "each old county (P1, SVI 2020) takes the RUCC 2023 code of "
                                "the planning region (09110-09190) holding most of its "
                                "residents (towns' 2020 estimates base)",
                        "counties": regions},
        "changed_codes": {"rule": "2020 codes (P1, SVI, RUCC); the 2019 geography's 02261 "
                                  "(Valdez-Cordova) is 02063 + 02066, see on_2019_counties",
                          "successors": dict(COUNTY_SUCCESSORS)},
    }, "sources": list(SOURCE_FILES)}
    return table


def load_demographics() -> pd.DataFrame:
    """Load who lives in each county: 2020 race, ethnicity, poverty, urban/rural.

    One row per county of the 2020 Census: the 3,143 counties and equivalents of
    the 50 states and DC (331,449,281 residents on April 1, 2020) and Puerto Rico's
    78 municipios (``puerto_rico`` true; no SVI values). Every join is by FIPS code
    and accounted for in ``attrs["quality"]`` (rows read and kept per file, SVI
    values marked -999, counties without a RUCC code, Connecticut's planning
    regions, codes that changed since the 2019 geography).

    Returns
    -------
    pandas.DataFrame
        Index ``fips`` (5-character text); columns :data:`DEMOGRAPHIC_COLUMNS`:
        ``state`` (USPS), ``name``, ``puerto_rico`` (bool), ``population_2020``
        (Int64, ``P1_001N``), ``share_white``, ``share_black``, ``share_aian``,
        ``share_asian``, ``share_nhpi``, ``share_other``, ``share_two_or_more``
        (race alone, and two or more races, as shares of ``P1_001N``: they add up to
        1), ``share_hispanic``, ``moe_hispanic``, ``share_poverty150``,
        ``moe_poverty150``, ``share_minority``, ``moe_minority`` (SVI 2020 ``EP_*``
        and their 90 % margins ``MP_*``, as shares 0-1; NaN where the SVI has
        -999), ``rucc`` (Int64, 1-9), ``rucc_fips`` (the RUCC row used: a
        planning region for Connecticut), ``metro`` (boolean: RUCC 1-3).

    Examples
    --------
    >>> demo = load_demographics()
    >>> len(demo), int((~demo["puerto_rico"]).sum())
    (3221, 3143)
    >>> int(demo.loc[~demo["puerto_rico"], "population_2020"].sum())
    331449281
    >>> int(demo.at["09005", "rucc"]), demo.at["09005", "rucc_fips"]  # Litchfield, CT
    (4, '09160')
    """
    paths = [str(data.fetch(name)) for name in SOURCE_FILES]
    return tablecache.cached("demographics", {}, lambda: read_demographics(*paths),
                             sources=list(SOURCE_FILES))


def on_2019_counties(demo: pd.DataFrame) -> pd.DataFrame:
    """Return the demographics on the 2019 county codes of the coverage tables.

    The 2019 geography holds Alaska's Valdez-Cordova Census Area (02261), which
    became Chugach (02063) and Copper River (02066) in 2019
    (:data:`ringgeo.geography.COUNTY_SUCCESSORS`): its row sums their populations,
    weights their shares by population and takes the RUCC code of the larger
    (both 9 in 2023). Every other row is kept as it is.

    Parameters
    ----------
    demo : pandas.DataFrame
        :func:`load_demographics` (or a crafted table with its columns).

    Returns
    -------
    pandas.DataFrame
        The same columns, index ``fips`` on 2019 codes.

    Examples
    --------
    >>> demo = on_2019_counties(load_demographics())
    >>> "02261" in demo.index, "02063" in demo.index
    (True, False)
    """
    parts = demo.index.isin(list(COUNTY_SUCCESSORS))
    if not parts.any():
        return demo
    kept = demo.loc[~parts]
    rows = []
    for old in sorted(set(COUNTY_SUCCESSORS.values())):
        group = demo.loc[[f for f, o in COUNTY_SUCCESSORS.items() if o == old and f in
                          demo.index]]
        if not len(group):
            continue
        weights = group["population_2020"].astype("float64")
        row = {c: group[c].iloc[0] for c in demo.columns}
        largest = group.index[int(np.argmax(weights.to_numpy()))]
        row.update({c: group.at[largest, c] for c in ("rucc", "rucc_fips", "metro")
                    if c in demo.columns})
        row["name"] = " + ".join(group["name"].astype(str))
        row["population_2020"] = int(weights.sum())
        for column in demo.columns:
            if column.startswith(("share_", "moe_")):
                values = group[column].astype("float64")
                ok = values.notna()
                row[column] = (float((values[ok] * weights[ok]).sum() / weights[ok].sum())
                               if ok.any() and weights[ok].sum() > 0 else np.nan)
        rows.append(pd.DataFrame(row, index=pd.Index([old], name="fips", dtype="string")))
    out = pd.concat([kept, *rows]).astype(demo.dtypes.to_dict()).sort_index()
    out.index.name = "fips"
    out.attrs = demo.attrs
    return out
