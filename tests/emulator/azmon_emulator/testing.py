"""Start the emulator as a subprocess from tests: ``with start_emulator(tmpdir=...) as emu: emu.info[...]``."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import ssl

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR_ROOT = os.path.dirname(HERE)
DEFAULT_SEED = os.path.join(EMULATOR_ROOT, "seed.json")


class EmulatorProcess:
    def __init__(self, process, info, info_file, log_file):
        self.process = process
        self.info = info
        self.info_file = info_file
        self.log_file = log_file
        self._context = ssl.create_default_context(cafile=info["ca_bundle"])

    def admin(self, method, path, json=None):  # pylint: disable=redefined-outer-name
        """Call the admin port; returns the decoded JSON body (None for an empty one). Raises on HTTP >= 400."""
        data = None
        headers = {"Accept": "application/json"}
        if json is not None:
            data = _json_dumps(json).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.info["admin"] + path, data=data, method=method, headers=headers)
        if method in ("POST", "PUT", "PATCH") and data is None:
            request.data = b""
        try:
            with urllib.request.urlopen(request, context=self._context, timeout=30) as response:  # nosec - local emulator
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError("admin %s %s -> %s: %s" % (method, path, exc.code, exc.read().decode("utf-8", "replace"))) from exc
        return _json_loads(body) if body else None

    def stop(self, timeout=10):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def remote_write_class():
    """Prometheus remote write 1.0 ``WriteRequest`` (needs protobuf), for tests that build or read request bodies.

    Written out here from the specification, apart from the emulator's decoder (dce.py) and the collection's
    encoder, so that a test checks either of them against a third reading of the same messages.
    """
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # pylint: disable=import-outside-toplevel
    f = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(name="testing_remote_write.proto", package="testing", syntax="proto3")
    w = proto.message_type.add(name="WriteRequest")
    w.field.add(name="timeseries", number=1, type=f.TYPE_MESSAGE, label=f.LABEL_REPEATED, type_name=".testing.TimeSeries")
    ts = proto.message_type.add(name="TimeSeries")
    ts.field.add(name="labels", number=1, type=f.TYPE_MESSAGE, label=f.LABEL_REPEATED, type_name=".testing.Label")
    ts.field.add(name="samples", number=2, type=f.TYPE_MESSAGE, label=f.LABEL_REPEATED, type_name=".testing.Sample")
    label = proto.message_type.add(name="Label")
    label.field.add(name="name", number=1, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    label.field.add(name="value", number=2, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    sample = proto.message_type.add(name="Sample")
    sample.field.add(name="value", number=1, type=f.TYPE_DOUBLE, label=f.LABEL_OPTIONAL)
    sample.field.add(name="timestamp", number=2, type=f.TYPE_INT64, label=f.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("testing.WriteRequest"))


def _json_dumps(obj):
    return json.dumps(obj)


def _json_loads(data):
    return json.loads(data)


def _end_with_starter():
    """Linux: the emulator is sent SIGTERM when the process that started it ends, so that a test runner which
    forks every test (ansible-test units) and leaves its forks with os._exit does not leave emulators behind."""
    try:
        import ctypes  # pylint: disable=import-outside-toplevel

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_emulator(seed=None, faults=None, tmpdir=None, timeout=20, extra_args=()):
    """Start ``python -m azmon_emulator``; ``seed``/``faults`` are paths or dicts/lists (written to tmpdir)."""
    tmpdir = str(tmpdir or tempfile.mkdtemp(prefix="azmon-emu-"))
    os.makedirs(tmpdir, exist_ok=True)
    seed_path = seed or DEFAULT_SEED
    if not isinstance(seed_path, (str, os.PathLike)):
        seed_path = os.path.join(tmpdir, "seed.json")
        with open(seed_path, "w", encoding="utf-8") as out:
            json.dump(seed, out)
    args = [sys.executable, "-m", "azmon_emulator", "--seed", str(seed_path)]
    if faults is not None:
        faults_path = faults
        if not isinstance(faults, (str, os.PathLike)):
            faults_path = os.path.join(tmpdir, "faults.json")
            with open(faults_path, "w", encoding="utf-8") as out:
                json.dump(faults, out)
        args += ["--faults", str(faults_path)]
    info_file = os.path.join(tmpdir, "emulator-info.json")
    if os.path.exists(info_file):
        os.unlink(info_file)
    state_dir = os.path.join(tmpdir, "state")
    args += ["--info-file", info_file, "--state-dir", state_dir] + list(extra_args)
    env = dict(os.environ)
    env["PYTHONPATH"] = EMULATOR_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    log_file = os.path.join(tmpdir, "emulator.log")
    with open(log_file, "wb") as log:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            args, stdout=log, stderr=subprocess.STDOUT, env=env,
            preexec_fn=_end_with_starter if sys.platform.startswith("linux") else None)
    deadline = time.time() + timeout
    while not os.path.exists(info_file):
        if process.poll() is not None or time.time() > deadline:
            if process.poll() is None:
                process.kill()
            with open(log_file, "r", encoding="utf-8", errors="replace") as log:
                raise RuntimeError("emulator did not start:\n" + log.read())
        time.sleep(0.05)
    with open(info_file, "r", encoding="utf-8") as handle:
        info = json.load(handle)
    return EmulatorProcess(process, info, info_file, log_file)
