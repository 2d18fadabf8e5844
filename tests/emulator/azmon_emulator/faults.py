"""Fault injection: per service and path, by request number, every n-th request or probability."""

import json
import random
import re
import threading
import uuid

ACTIONS = ("status", "500_after_ingest", "500_after_body", "reset_before_body", "reset_after_ingest", "slow", "login_outage",
           "principal_not_found", "stale_read")
# Actions the service applies itself while answering (web.Request.fault): per service, the requests they select by
# default (method, path); the first service is the default one.
SERVICE_ACTIONS = {
    "principal_not_found": {"arm": ("PUT", r"(?i)/providers/Microsoft\.Authorization/roleAssignments/[^/]+$")},
    "stale_read": {"arm": ("GET", r"(?i)/providers/Microsoft\.Authorization/roleAssignments$"),
                   "graph": ("GET", r"^/v1\.0/(applications|servicePrincipals)\b")},
}
SERVICES = ("login", "msi", "graph", "arm", "ingest", "dce", "prometheus", "wap", "*")


class FaultError(ValueError):
    pass


def _number(spec, key, kind=float, minimum=None):
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultError("fault field %r must be a number" % key)
    value = kind(value)
    if minimum is not None and value < minimum:
        raise FaultError("fault field %r must be >= %s" % (key, minimum))
    return value


class Fault:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise FaultError("a fault must be a JSON object")
        self.action = spec.get("action", "status")
        if self.action not in ACTIONS:
            raise FaultError("unknown fault action %r (one of %s)" % (self.action, ", ".join(ACTIONS)))
        served = SERVICE_ACTIONS.get(self.action)
        self.service = spec.get("service", next(iter(served)) if served else "login" if self.action == "login_outage" else "*")
        if self.service not in SERVICES:
            raise FaultError("unknown service %r (one of %s)" % (self.service, ", ".join(SERVICES)))
        if self.action == "login_outage" and self.service not in ("login", "msi", "*"):
            raise FaultError("login_outage applies to the login or msi service")
        if served and self.service not in served:
            raise FaultError("%s applies to the %s service" % (self.action, " or ".join(served)))
        method, path = served[self.service] if served else (None, None)
        self.path = spec.get("path", path)
        try:
            self.path_re = re.compile(self.path) if self.path else None
        except re.error as exc:
            raise FaultError("bad path regex: %s" % exc) from exc
        self.method = (spec.get("method") or method or "").upper() or None
        self.status = _number(spec, "status", int, 100) or (500 if self.action in ("500_after_ingest", "500_after_body") else 503)
        self.retry_after = spec.get("retryAfter", 1)
        self.delay = _number(spec, "delay", float, 0) or 0.0
        lag = _number(spec, "lagSeconds", float, 0)
        self.lag_seconds = 60.0 if lag is None else lag
        self.mode = spec.get("mode", "status")
        if self.mode not in ("status", "reset"):
            raise FaultError("login_outage mode must be 'status' or 'reset'")
        self.nth = _number(spec, "nth", int, 1)
        self.every = _number(spec, "every", int, 1)
        self.probability = _number(spec, "probability", float, 0)
        self.count = _number(spec, "count", int, 0)
        self.body_format = spec.get("bodyFormat")
        if self.body_format not in (None, "json", "xml", "text"):
            raise FaultError("bodyFormat must be json, xml or text")
        self.rng = random.Random(spec.get("seed", 0))
        self.id = str(spec.get("id") or uuid.uuid4())
        self.matched = 0
        self.fired = 0
        self.spec = dict(spec, id=self.id)

    def applies(self, service, method, path):
        if self.service != "*" and self.service != service:
            return False
        if self.method and self.method != method:
            return False
        return not self.path_re or self.path_re.search(path) is not None

    def should_fire(self):
        self.matched += 1
        if self.count is not None and self.fired >= self.count:
            return False
        if self.nth is not None:
            fire = self.matched == self.nth
        elif self.every is not None:
            fire = self.matched % self.every == 0
        elif self.probability is not None:
            fire = self.rng.random() < self.probability
        else:
            fire = True
        if fire:
            self.fired += 1
        return fire

    def describe(self):
        return dict(self.spec, matched=self.matched, fired=self.fired)


class Faults:
    def __init__(self, initial=None):
        self.lock = threading.Lock()
        self.initial = list(initial or [])
        self.faults = []
        self.reset()

    def reset(self):
        with self.lock:
            self.faults = [Fault(spec) for spec in self.initial]

    def add(self, spec):
        fault = Fault(spec)
        with self.lock:
            self.faults = [f for f in self.faults if f.id != fault.id] + [fault]
        return fault

    def clear(self, fault_id=None):
        with self.lock:
            before = len(self.faults)
            self.faults = [f for f in self.faults if fault_id is not None and f.id != fault_id]
            return before - len(self.faults)

    def list(self):
        with self.lock:
            return [f.describe() for f in self.faults]

    def pick(self, service, method, path):
        """Return the first fault that fires for this request, counting the request for every matching fault."""
        chosen = None
        with self.lock:
            for fault in self.faults:
                if not fault.applies(service, method, path):
                    continue
                if chosen is None:
                    chosen = fault if fault.should_fire() else None
                else:
                    fault.matched += 1
        return chosen


def load_faults_file(path):
    with open(path, "r", encoding="utf-8") as handle:
        text = handle.read()
    if path.endswith((".yml", ".yaml")):
        import yaml  # pylint: disable=import-outside-toplevel
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if isinstance(data, dict):
        data = data.get("faults", [data])
    faults = [Fault(spec).spec for spec in data]
    return faults
