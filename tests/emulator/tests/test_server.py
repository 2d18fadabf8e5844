"""Process behaviour: info file, start time, SIGTERM, concurrency, request log with redacted Authorization, reset."""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from azmon_emulator.testing import DEFAULT_SEED, EMULATOR_ROOT

from conftest import doc

INFO_KEYS = {"pid", "ca_bundle", "state_dir", "login", "graph", "arm", "ingest", "wap", "msi", "msi_header", "admin",
             "tenant_id", "subscription_id"}


def test_cli_start_info_file_and_sigterm(tmp_path):
    info_file = tmp_path / "info.json"
    env = dict(os.environ, PYTHONPATH=EMULATOR_ROOT)
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "azmon_emulator", "--seed", DEFAULT_SEED, "--info-file", str(info_file),
                             "--state-dir", str(tmp_path / "state")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        while not info_file.exists():
            assert proc.poll() is None, proc.stdout.read()
            assert time.time() - started < 2.0
            time.sleep(0.02)
        info = json.loads(info_file.read_text())
        assert INFO_KEYS <= set(info)
        assert info["pid"] == proc.pid
        assert info["ingest"].endswith("/{region}") and info["msi"].endswith("/msi/token")
        assert len({info[k].rsplit(":", 1)[1].split("/")[0] for k in ("login", "graph", "arm", "ingest", "wap", "msi", "admin")}) == 7
        assert os.path.isfile(info["ca_bundle"])
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    assert os.path.isfile(info["ca_bundle"])                      # nothing the tests read is removed
    assert os.path.isfile(os.path.join(info["state_dir"], "final-state.json"))


def test_concurrent_posts_aggregate_exactly(c):
    c.token("publisher")
    body = doc()

    def post():
        return c.post_metrics(body).status_code
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(post) for attempt in range(64)]
        codes = [future.result() for future in futures]
    assert codes == [200] * 64
    row = c.metrics()[0]
    assert (row["sum"], row["count"], row["posts"]) == (28 * 64, 3 * 64, 64)


def test_request_log_redacts_authorization(c):
    c.post_metrics(doc(), headers={"x-ms-client-request-id": "trace-me"})
    entries = [e for e in c.admin("GET", "/_admin/requests")["value"] if e["service"] == "ingest"]
    entry = entries[-1]
    assert entry["method"] == "POST" and entry["status"] == 200 and entry["bodySize"] > 0
    assert entry["headers"]["x-ms-client-request-id"] == "trace-me"
    auth = entry["headers"]["authorization"]
    assert auth["scheme"] == "Bearer" and auth["claims"]["aud"] == "https://monitoring.azure.com/"
    assert "eyJ" not in json.dumps(entry)
    sign_ins = list(c.admin("GET", "/_admin/requests?service=login")["value"])
    assert all("secret" not in json.dumps(e).lower() for e in sign_ins)


def test_reset_restores_seed(c):
    c.post_metrics(doc())
    c.graph("POST", "/applications", json={"displayName": "temp"})
    c.admin("POST", "/_admin/settings", {"pageSize": 5})
    c.admin("POST", "/_admin/reset")
    assert c.metrics() == []
    assert "temp" not in [a["displayName"] for a in c.admin("GET", "/_admin/applications")["value"]]
    assert c.admin("GET", "/_admin/settings")["pageSize"] == 2
    assert len(c.admin("GET", "/_admin/role-assignments")["value"]) == 8   # seven for custom metrics, one Monitoring Data Reader on the workspace


def test_unknown_setting_rejected(c):
    try:
        c.admin("POST", "/_admin/settings", {"bogus": 1})
    except RuntimeError as exc:
        assert "400" in str(exc)
    else:
        raise AssertionError("unknown setting accepted")
