"""Property: random malformed CSV rows are always quarantined, never lost; mostly bad files are refused."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wxrisk.config import Settings, WxriskError
from wxrisk.incidents.importer import import_incidents
from wxrisk.store import connect

HEADER = "incident_id,occurred_at,lat,lon,road_ref,severity,surface,weather,vehicles,casualties,synthetic"
N_FIELDS = len(HEADER.split(","))
GARBAGE = st.text(alphabet="qjkvxz", min_size=1, max_size=6)  # never a number, date or "now"


def row(incident_id="v1", occurred="2024-02-05T08:30:00+08:00", lat="30.1", lon="114.2") -> str:
    return f"{incident_id},{occurred},{lat},{lon},G4,slight,ice,snow,1,1,false"


valid_rows = st.sampled_from(["v1", "v2", "v3", "v4"]).map(lambda i: ("valid", i, row(i)))
malformed_rows = st.one_of(
    st.integers(0, 2 * N_FIELDS).filter(lambda n: n != N_FIELDS).flatmap(
        lambda n: st.lists(st.text(alphabet="qjkv019 .-", max_size=5), min_size=n, max_size=n)).map(
        lambda cells: ("bad", None, ",".join(cells))),
    st.just(("bad", None, row(incident_id=""))),
    GARBAGE.map(lambda g: ("bad", None, row(occurred=g))),
    GARBAGE.map(lambda g: ("bad", None, row(lat=g))),
    st.floats(180.5, 1e6).map(lambda x: ("bad", None, row(lon=f"{x:.3f}"))),
)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    connection = connect(tmp_path_factory.mktemp("fuzz") / "x.duckdb")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def other_con(tmp_path_factory):
    connection = connect(tmp_path_factory.mktemp("fuzz") / "y.duckdb")
    yield connection
    connection.close()


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(valid_rows, malformed_rows), min_size=1, max_size=25))
def test_every_row_is_kept_or_quarantined(con, tmp_path_factory, rows):
    path = tmp_path_factory.getbasetemp() / "fuzz.csv"
    path.write_text("\n".join([HEADER, *(text for _, _, text in rows)]) + "\n", encoding="utf-8")
    result = import_incidents(con, Settings(), path, max_quarantined=1)
    assert result.rows_read == len(rows)
    assert result.rows_read == result.rows_kept + result.rows_quarantined + result.details["rows_merged"]
    assert result.details["rows_merged"] == 0  # the generic preset never merges
    first_of_id = {}
    for n, (kind, incident_id, _) in enumerate(rows, start=1):
        if kind == "valid":
            first_of_id.setdefault(incident_id, n)
    expected_quarantined = [n for n, (kind, i, _) in enumerate(rows, start=1)
                            if kind == "bad" or first_of_id[i] != n]
    quarantined = con.execute("SELECT row_number FROM quarantine WHERE import_id = ? ORDER BY 1",
                              [result.import_id]).fetchall()
    assert [n for (n,) in quarantined] == expected_quarantined
    stored = con.execute("SELECT incident_id FROM incidents WHERE import_id = ? ORDER BY 1",
                         [result.import_id]).fetchall()
    assert [i for (i,) in stored] == sorted(first_of_id)


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(valid_rows, malformed_rows), min_size=1, max_size=25))
def test_a_file_more_than_half_bad_is_refused_whole(other_con, tmp_path_factory, rows):
    con = other_con
    path = tmp_path_factory.getbasetemp() / "half.csv"
    path.write_text("\n".join([HEADER, *(text for _, _, text in rows)]) + "\n", encoding="utf-8")
    seen, bad = set(), 0
    for kind, incident_id, _ in rows:
        bad += kind == "bad" or incident_id in seen
        seen.add(incident_id)
    before = con.execute("SELECT count(*) FROM import_ledger").fetchone()[0]
    if bad * 2 > len(rows):
        # refused by the quarantine share, or earlier by the occurred_at column failing its format
        with pytest.raises(WxriskError, match=f"refused: {bad} of {len(rows)} rows would be quarantined|"
                                              "occurred_at: .* values do not fit"):
            import_incidents(con, Settings(), path)
        assert con.execute("SELECT count(*) FROM import_ledger").fetchone()[0] == before
    else:
        assert import_incidents(con, Settings(), path).rows_quarantined == bad
