import pytest

from ringgeo.exceptions import ParameterError
from ringgeo.states import (
    STATES,
    STATES_AND_DC,
    fips_to_usps,
    state_fips,
    state_name,
    validate_state,
)


def test_table_counts():
    assert STATES["is_state"].sum() == 50
    assert STATES["in_51"].sum() == 51
    assert STATES["state"].is_unique and STATES["fips"].is_unique


@pytest.mark.parametrize("value", ["Louisiana", "LA", "la", "22", 22, "louisiana\u200e",
                                   " LOUISIANA "])
def test_spellings(value):
    assert validate_state(value) == "LA"


def test_roundtrip():
    for usps in STATES["state"]:
        assert fips_to_usps(state_fips(usps)) == usps
        assert validate_state(state_name(usps)) == usps


def test_unknown_state_lists_codes():
    with pytest.raises(ParameterError, match=r"'Narnia' is not a US state.*AL, AK"):
        validate_state("Narnia")


def test_territories_can_be_refused():
    assert validate_state("PR") == "PR"
    with pytest.raises(ParameterError, match="is not a US state"):
        validate_state("PR", allow_territories=False)


def test_states_is_reachable_from_a_fresh_import_ringgeo():
    # the notebooks call ringgeo.states.state_name(...) after a plain `import ringgeo`
    import subprocess
    import sys

    code = "import ringgeo; print(ringgeo.states.state_name('il'), 'states' in dir(ringgeo))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["Illinois", "True"]


def test_states_and_dc_is_the_in_51_column():
    assert STATES_AND_DC == set(STATES.loc[STATES["in_51"], "state"])
    assert len(STATES_AND_DC) == 51 and "DC" in STATES_AND_DC and "PR" not in STATES_AND_DC
