"""Faults: 429/503 with Retry-After, 500 after ingest, resets before body and after ingest, slow, sign-in outage, selection."""

import json
import time

import pytest
import requests

from conftest import doc


def _fault(c, **spec):
    return c.admin("POST", "/_admin/faults", spec)["value"][0]


@pytest.mark.parametrize("status", [429, 503])
def test_status_fault_ingests_nothing(c, status):
    _fault(c, service="ingest", action="status", status=status, retryAfter=7, count=1)
    resp = c.post_metrics(doc())
    assert resp.status_code == status and resp.headers["Retry-After"] == "7"
    assert resp.json()["error"]["code"] in ("TooManyRequests", "ServiceUnavailable")
    assert c.metrics() == []
    assert c.post_metrics(doc()).status_code == 200   # count limit: once only


def test_500_after_ingest(c):
    _fault(c, service="ingest", action="500_after_ingest", count=1)
    assert c.post_metrics(doc()).status_code == 500
    assert c.metrics()[0]["count"] == 3                 # processed despite the 500
    assert c.post_metrics(doc()).status_code == 200
    assert c.metrics()[0]["count"] == 6                 # a retry double-counts


def test_reset_before_body(c):
    c.token("publisher")
    _fault(c, service="ingest", action="reset_before_body", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        c.post_metrics(doc())
    assert c.metrics() == []
    log = c.admin("GET", "/_admin/requests?service=ingest")["value"]
    assert log[-1]["aborted"] and not log[-1]["bodyRead"]


def test_reset_after_ingest(c):
    c.token("publisher")
    _fault(c, service="ingest", action="reset_after_ingest", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        c.post_metrics(doc())
    assert c.metrics()[0]["count"] == 3


def test_slow(c):
    c.token("publisher")
    _fault(c, service="ingest", action="slow", delay=1.0, count=1)
    started = time.time()
    assert c.post_metrics(doc()).status_code == 200
    assert time.time() - started >= 1.0
    with pytest.raises(requests.exceptions.Timeout):
        _fault(c, service="ingest", action="slow", delay=1.0, count=1)
        c.session.post(c.ingest_url(c.vm1), data=json.dumps(doc()), timeout=0.3,
                       headers={"Content-Type": "application/json", "Authorization": "Bearer " + c.token("publisher")})


def test_login_outage_status_and_reset(c):
    admin = c.principal("admin")
    _fault(c, action="login_outage", status=503, retryAfter=3, count=1)
    resp = c.sign_in(admin["appId"], c.secret("admin"), "https://monitoring.azure.com/.default")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "3"
    assert resp.json()["error"] == "temporarily_unavailable"
    _fault(c, action="login_outage", mode="reset", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        c.sign_in(admin["appId"], c.secret("admin"), "https://monitoring.azure.com/.default")
    assert c.sign_in(admin["appId"], c.secret("admin"), "https://monitoring.azure.com/.default").status_code == 200


def test_nth_every_path_and_probability(c):
    c.token("publisher")
    _fault(c, service="ingest", action="status", status=503, nth=2)
    codes = [c.post_metrics(doc()).status_code for attempt in range(3)]
    assert codes == [200, 503, 200]
    c.admin("POST", "/_admin/faults", {"clear": True})
    _fault(c, service="ingest", action="status", status=429, every=2)
    assert [c.post_metrics(doc()).status_code for attempt in range(4)] == [200, 429, 200, 429]
    c.admin("DELETE", "/_admin/faults")
    _fault(c, service="ingest", action="status", status=503, path="westeurope")
    assert c.post_metrics(doc()).status_code == 200
    assert c.post_metrics(doc(), resource_id=c.storage, region="westeurope").status_code == 503
    c.admin("DELETE", "/_admin/faults")
    _fault(c, service="ingest", action="status", status=503, probability=0.5, seed=1)
    first = [c.post_metrics(doc()).status_code for attempt in range(10)]
    c.admin("DELETE", "/_admin/faults")
    _fault(c, service="ingest", action="status", status=503, probability=0.5, seed=1)
    assert [c.post_metrics(doc()).status_code for attempt in range(10)] == first
    assert 0 < first.count(503) < 10
    listed = c.admin("GET", "/_admin/faults")["value"]
    assert listed[0]["matched"] == 10


def test_bad_fault_rejected(c):
    with pytest.raises(RuntimeError, match="400"):
        c.admin("POST", "/_admin/faults", {"action": "explode"})


def test_faults_file_at_start(tmp_path, seed):
    from azmon_emulator.testing import start_emulator  # pylint: disable=import-outside-toplevel
    faults = [{"service": "arm", "action": "status", "status": 429, "retryAfter": 2}]
    with start_emulator(faults=faults, tmpdir=tmp_path) as emu:
        session = requests.Session()
        resp = session.get(emu.info["arm"] + "/subscriptions/%s" % emu.info["subscription_id"], verify=emu.info["ca_bundle"])
        assert resp.status_code == 429 and resp.headers["Retry-After"] == "2"
        emu.admin("POST", "/_admin/reset")   # reset keeps the faults loaded at start
        assert emu.admin("GET", "/_admin/faults")["value"][0]["service"] == "arm"
        assert seed


def _raw_expect(c, body):
    """Send headers with ``Expect: 100-continue`` on a raw TLS socket; return (socket, first bytes answered)."""
    import socket  # pylint: disable=import-outside-toplevel
    import ssl  # pylint: disable=import-outside-toplevel
    import urllib.parse  # pylint: disable=import-outside-toplevel
    url = urllib.parse.urlsplit(c.ingest_url(c.vm1))
    sock = ssl.create_default_context(cafile=c.ca).wrap_socket(socket.create_connection((url.hostname, url.port), timeout=5),
                                                               server_hostname=url.hostname)
    head = ("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            "Authorization: Bearer %s\r\nExpect: 100-continue\r\n\r\n" % (url.path, url.netloc, len(body), c.token("publisher")))
    sock.sendall(head.encode())
    try:
        first = sock.recv(4096)
    except (ConnectionResetError, ssl.SSLError, OSError):
        first = b""
    return sock, first


def test_expect_continue_is_answered_only_when_the_body_is_read(c):
    body = json.dumps(doc()).encode()
    sock, first = _raw_expect(c, body)
    assert first.startswith(b"HTTP/1.1 100")
    sock.sendall(body)
    answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200")
    sock.close()
    assert c.metrics()[0]["count"] == 3


def test_reset_before_body_comes_before_100_continue(c):
    _fault(c, service="ingest", action="reset_before_body", count=1)
    sock, first = _raw_expect(c, json.dumps(doc()).encode())
    sock.close()
    assert first == b""            # no 100 Continue: the client knows the body was never taken
    assert c.metrics() == []


def test_status_fault_answers_without_100_continue(c):
    _fault(c, service="ingest", action="status", status=429, retryAfter=1, count=1)
    sock, first = _raw_expect(c, json.dumps(doc()).encode())
    sock.close()
    assert first.startswith(b"HTTP/1.1 429")
    assert c.metrics() == []


def test_500_after_body_takes_the_body_and_ingests_nothing(c):
    _fault(c, service="ingest", action="500_after_body", count=1)
    body = json.dumps(doc()).encode()
    sock, first = _raw_expect(c, body)
    assert first.startswith(b"HTTP/1.1 100")   # the client is told to send its body, as for a real ingestion
    sock.sendall(body)
    answer = sock.recv(4096)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 500")
    assert c.metrics() == []
    assert c.post_metrics(doc()).status_code == 200
    assert c.metrics()[0]["count"] == 3
