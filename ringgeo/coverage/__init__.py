"""Per-capita and covered-population statistics of Ring's police partners.

Four tables, all built on the *linked* partner table
(``ringgeo.load_partners(as_of=...)``):

* :func:`by_state` and :func:`by_county`: partners, partners per 100,000
  residents, and the population covered by a partnered agency, as a range;
* :func:`national`: the same measures for the 50 states and DC in one row;
* :func:`timeline`: cumulative partners and covered population over time;
* :func:`composition`, :func:`rates`, :func:`partnership_model`: who lives under a
  partnered police (race, ethnicity, poverty, urban/rural; county level).

Every measure is defined in ``docs/methodology.md``; in short:

* ``pop_covered_max`` (upper bound): residents of every municipality with a
  partnered municipal agency, plus every resident of a county with a partnered
  sheriff or county police;
* ``pop_covered_min`` (lower bound): residents whose *primary police* is a
  partner (:func:`primary_police`): their own municipality's department, or,
  where the municipality has none, the county police or sheriff (the state
  police in New Jersey and Pennsylvania);
* a resident is counted once (a city inside a partnered county, a village
  inside a partnered town, two agencies in one city); populations are July 1,
  2019 estimates: each county's 2020-base municipal parts are rescaled to its
  2019 total.

The tables have a named index and a fixed column order, so
``ringgeo.tables.write_csv(table, path)`` writes a clean file for a newsroom (a
text cell a spreadsheet would run as a formula is guarded; see
:func:`ringgeo.tables.safe_csv`).
"""

from __future__ import annotations

from ._composition import (
    COMPOSITION_COLUMNS,
    GROUPS,
    MODEL_TERMS,
    RATE_CLASSES,
    RATE_COLUMNS,
    composition,
    county_table,
    partnership_model,
    rates,
    wilson,
)
from ._inputs import POPULATION_BASES
from ._jurisdictions import BASES, JURISDICTION_COLUMNS, contract_units, jurisdictions
from ._stats import (
    AGENCY_COLUMNS,
    COLUMNS,
    FREQUENCIES,
    PRIMARY_KINDS,
    STATE_POLICE_STATES,
    agency_rule_effects,
    by_county,
    by_state,
    jurisdiction_change,
    lower_bound_change,
    national,
    primary_police,
    timeline,
)

__all__ = ["COLUMNS", "AGENCY_COLUMNS", "FREQUENCIES", "PRIMARY_KINDS", "STATE_POLICE_STATES",
           "BASES", "JURISDICTION_COLUMNS", "jurisdictions", "jurisdiction_change",
           "contract_units",
           "agency_rule_effects", "primary_police", "lower_bound_change", "by_state",
           "by_county", "national", "timeline", "POPULATION_BASES", "GROUPS",
           "COMPOSITION_COLUMNS", "RATE_CLASSES", "RATE_COLUMNS", "MODEL_TERMS", "composition",
           "county_table", "rates", "partnership_model", "wilson"]
