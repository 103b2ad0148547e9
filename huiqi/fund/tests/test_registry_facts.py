"""The pre-check reads the registry's facts as the bureau's files put them there: the dishonest-debtor list
as of the application's received date (a listing later removed does not fail a later application), and
the enterprise's ownership."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from huiqi.registry import services as registry

from .conftest import D, apply


def _file(header, rows):
    return SimpleUploadedFile("facts.csv", ("\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n").encode())


def test_precheck_reads_the_imported_list_as_of_the_received_date_and_ownership(fund_world):
    ent = fund_world.ent
    listed = registry.start_registry_import(fund_world.bureau, _file(
        ["统一社会信用代码", "列入日期", "移出日期"], [[ent["E6"], "2020-03-01", "2020-04-01"]]), "dishonest")
    assert listed.status == "stored"
    during = apply(fund_world, "E6", "hti", D(2020, 3, 10), 300)
    assert (during.state, during.reasons) == ("precheck_failed", ["credit_blacklisted"])
    after = apply(fund_world, "E6", "hti", D(2020, 4, 20), 300)
    assert after.state == "prechecked" and "credit_blacklisted" not in after.reasons
    owned = registry.start_registry_import(fund_world.bureau, _file(
        ["uscc", "ownership"], [[ent["E2"], "state_controlled"]]), "ownership")
    assert owned.status == "stored"
    state_owned = apply(fund_world, "E2", "sgg", D(2020, 3, 10), 300)
    assert state_owned.state == "precheck_failed" and state_owned.reasons[0] == "not_private"
