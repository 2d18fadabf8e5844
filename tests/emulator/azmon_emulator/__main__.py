"""``python -m azmon_emulator --seed seed.json --info-file info.json``: run the emulator until SIGTERM/SIGINT."""

import argparse
import signal
import sys
import threading

from . import faults, state
from .server import Emulator


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m azmon_emulator", description=__doc__)
    parser.add_argument("--seed", help="seed file (JSON, or YAML when PyYAML is installed)")
    parser.add_argument("--info-file", required=True, help="where to write the JSON info file once every port listens")
    parser.add_argument("--state-dir", help="directory for the CA bundle, certificates and logs (default: a new temp dir)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--faults", help="fault file (JSON/YAML list of faults, or {\"faults\": [...]})")
    for name in ("login", "graph", "arm", "ingest", "dce", "prometheus", "wap", "wap_auth", "msi", "admin"):
        parser.add_argument("--%s-port" % name, type=int, default=0, help="port of the %s service (default 0: a free port)" % name)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    seed = state.load_seed(args.seed) if args.seed else {}
    fault_specs = faults.load_faults_file(args.faults) if args.faults else []
    ports = {name: getattr(args, "%s_port" % name) for name in ("login", "graph", "arm", "ingest", "dce", "prometheus", "wap", "wap_auth", "msi", "admin")}
    emulator = Emulator(seed, args.state_dir, args.host, fault_specs, ports, seed_path=args.seed)
    stop = threading.Event()

    def _on_signal(signum, frame):  # pylint: disable=unused-argument
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    emulator.start()
    emulator.write_info(args.info_file)
    sys.stdout.write("azmon emulator ready: info file %s\n" % args.info_file)
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
