"""WAP add-on metrics: token, principal, administrator, add-on and time checks; body formats; time and TimeGrain forms."""

import datetime
import re

import pytest

ADMIN = "CONTOSO\\wapadmin"


def _stamp(delta_days=0.0):
    value = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=delta_days)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%07dZ" % (value.microsecond * 10)


def _get(c, addon="contoso-backup", token=None, principal=ADMIN, start=None, end=None, params=None, upn=ADMIN, lifetime=3600):
    token = token or c.admin("POST", "/_admin/tokens/wap", {"upn": upn, "lifetime": lifetime})["token"]
    headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
    if principal is not None:
        headers["x-ms-principal-id"] = principal
    query = {"startTime": start or _stamp(-3), "endTime": end or _stamp(0.01)} if params is None else params
    return c.session.get("%s/addons/%s/metrics" % (c.info["wap"], addon), params=query, headers=headers)


def test_metrics_shape_and_time_forms(c):
    resp = _get(c)
    assert resp.status_code == 200, resp.text
    metrics = {m["Name"]: m for m in resp.json()}
    storage, jobs = metrics["StorageUsed"], metrics["JobsCompleted"]
    assert storage["TimeGrain"] == "1.00:00:00" and jobs["TimeGrain"] == "00:05:00"
    assert storage["Unit"] == "Bytes" and "Unit" not in jobs and jobs["ConfigState"] == "Count"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$", storage["Values"][0]["TimeCreated"])
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}-07:00$", jobs["Values"][0]["TimeCreated"])
    assert storage["Values"][1]["Minimum"] is None and storage["Values"][1]["Maximum"] is None
    assert len(storage["Values"]) == 2          # the 2013 value is outside the window
    sql = {m["Name"]: m for m in _get(c, addon="contoso-sql").json()}
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", sql["DatabaseCount"]["Values"][0]["TimeCreated"])
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", sql["CpuPercent"]["Values"][0]["TimeCreated"])
    old = _get(c, start="2013-06-22T00:00:00.0000000Z", end="2013-06-23T00:00:00Z").json()
    assert [v["TimeCreated"] for v in old[0]["Values"]] == ["2013-06-22T07:00:00.0000000Z"]


def test_token_checks_401(c):
    assert _get(c, token="not-a-jwt").status_code == 401
    expired = _get(c, lifetime=-30)
    assert expired.status_code == 401 and expired.json()["Code"] == "TokenExpired"
    forged = c.admin("POST", "/_admin/tokens/wap", {"signedBy": "other"})["token"]
    assert _get(c, token=forged).status_code == 401
    wrong_issuer = c.admin("POST", "/_admin/tokens/wap", {"issuer": "http://evil/"})["token"]
    assert _get(c, token=wrong_issuer).status_code == 401
    resp = c.session.get(c.info["wap"] + "/addons/contoso-backup/metrics", params={"startTime": _stamp(-1), "endTime": _stamp()},
                         headers={"x-ms-principal-id": ADMIN})
    assert resp.status_code == 401


def test_principal_required_400_and_admin_403(c):
    resp = _get(c, principal=None)
    assert resp.status_code == 400 and resp.json()["Code"] == "MissingPrincipalId"
    resp = _get(c, principal="CONTOSO\\alice")
    assert resp.status_code == 403
    assert _get(c, principal="wapadmin@contoso.com").status_code == 200


@pytest.mark.parametrize("params", [
    {"endTime": "2026-01-01T00:00:00Z"},
    {"startTime": "2026-01-01T00:00:00Z"},
    {"startTime": "garbage", "endTime": "2026-01-01T00:00:00Z"},
    {"startTime": "2026-01-02T00:00:00Z", "endTime": "2026-01-01T00:00:00Z"},
])
def test_bad_times_404(c, params):
    resp = _get(c, params=params)
    assert resp.status_code == 404
    assert resp.json()["Code"] == "InvalidParameter"


def test_error_body_formats(c):
    unknown = _get(c, addon="nope")
    assert unknown.status_code == 404 and unknown.headers["Content-Type"].startswith("application/json")
    assert set(unknown.json()) == {"Code", "Message", "Severity", "State"}
    xml = _get(c, addon="contoso-sql", params={"startTime": "bad", "endTime": "bad"})
    assert xml.status_code == 404 and xml.headers["Content-Type"].startswith("application/xml")
    assert "<Code>InvalidParameter</Code>" in xml.text and xml.text.startswith("<Error")
    text = _get(c, addon="contoso-web", params={"startTime": "bad"})
    assert text.status_code == 404 and text.headers["Content-Type"].startswith("text/plain")
    c.admin("POST", "/_admin/settings", {"wapErrorFormat": "xml"})
    assert _get(c, addon="nope").text.startswith("<Error")
    c.admin("POST", "/_admin/faults", {"service": "wap", "action": "status", "status": 500, "bodyFormat": "text", "count": 1})
    fault = _get(c)
    assert fault.status_code == 500 and fault.headers["Content-Type"].startswith("text/plain")
