# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Look for secrets in everything a run printed and wrote.

    scan.py self-test             show that a planted secret, JWT and secretText are found
    scan.py scan KNOWN RUN        KNOWN holds the values known to be secret (*.token, *.secret, seed.json);
                                  RUN is the run's folder: every file in it is read, output and log included.
                                  Files named *.secret in RUN are the secret files the run wrote on purpose:
                                  they must be mode 0600 and are not searched.

Findings name the file, what was found and where, never the value.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import tempfile

JWT = re.compile(rb'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}')
SHAPES = {
    'a JWT (token or client assertion)': JWT,
    'a secretText value': re.compile(rb'secretText\\?"?\s*[:=]\s*\\?"[^"\\]'),
    'a client assertion': re.compile(rb'client_assertion=[A-Za-z0-9_.-]{20,}'),
    'a private key': re.compile(rb'-----BEGIN [A-Z ]*PRIVATE KEY-----'),
}


def known_values(folder):
    """``{name: bytes}`` of every secret value in ``folder``."""
    values = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.endswith(('.token', '.secret')):
            with open(path, 'rb') as handle:
                values[name] = handle.read().strip()
        elif name == 'seed.json':
            with open(path, encoding='utf-8') as handle:
                seed = json.load(handle)
            for number, secret in enumerate(seed['secrets']):
                values['seed secret %d' % number] = secret.encode()
            for number, pem in enumerate(seed['private_keys']):
                lines = [line for line in pem.splitlines() if line and not line.startswith('-----')]
                for index, line in enumerate(lines[:-1]):   # every full line of the key's base64
                    values['private key %d line %d' % (number, index)] = line.encode()
    return {name: value for name, value in values.items() if len(value) >= 8}


def scan(values, folder, skip=None):
    findings, files, size = [], 0, 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            if skip and skip(path) or not os.path.isfile(path):
                continue
            with open(path, 'rb') as handle:
                data = handle.read()
            files += 1
            size += len(data)
            for what, value in values.items():
                at = data.find(value)
                if at >= 0:
                    findings.append('%s: %s at byte %d' % (path, what, at))
            for what, shape in SHAPES.items():
                match = shape.search(data)
                if match:
                    findings.append('%s: %s at byte %d' % (path, what, match.start()))
    return findings, files, size


def secret_files(folder):
    found = []
    for root, _dirs, names in os.walk(folder):
        found.extend(os.path.join(root, name) for name in names if name.endswith('.secret'))
    return sorted(found)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def self_test():
    jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4eHh4eHgifQ.c2lnbmF0dXJlc2lnbmF0dXJl'
    with tempfile.TemporaryDirectory() as known, tempfile.TemporaryDirectory() as run:
        with open(os.path.join(known, 'x.token'), 'w', encoding='ascii') as handle:
            handle.write('planted-secret-value')
        with open(os.path.join(run, 'out.txt'), 'w', encoding='ascii') as handle:
            handle.write('ok planted-secret-value ok %s {"secretText": "abc"}' % jwt)
        with open(os.path.join(run, 'clean.txt'), 'w', encoding='ascii') as handle:
            handle.write('nothing here: "secretText": null, eyJ alone')
        findings, files, _size = scan(known_values(known), run)
    assert files == 2, files
    assert len(findings) == 3 and all('out.txt' in f for f in findings), findings
    print('self-test: a planted secret, a JWT and a secretText were found; a clean file was not flagged')
    return 0


def main(argv):
    if argv[1] == 'self-test':
        return self_test()
    known, run = argv[2], argv[3]
    values = known_values(known)
    wanted = secret_files(run)
    for path in wanted:   # the secrets the run created are secret everywhere else
        with open(path, 'rb') as handle:
            values['the secret in ' + os.path.basename(path)] = handle.read().strip()
    findings, files, size = scan(values, run, skip=lambda path: path in wanted)
    problems = list(findings)
    for path in wanted:
        if mode(path) != 0o600:
            problems.append('%s: mode %04o, not 0600' % (path, mode(path)))
    ledger = os.path.join(run, 'home', '.ansible', 'azmon_metrics', 'ledger.sqlite3')
    if not os.path.exists(ledger):
        problems.append('%s: the default ledger was not written' % ledger)
    elif mode(ledger) != 0o600 or mode(os.path.dirname(ledger)) != 0o700:
        problems.append('%s: mode %04o in a folder of mode %04o, not 0600 in 0700'
                        % (ledger, mode(ledger), mode(os.path.dirname(ledger))))
    with open(os.path.join(run, 'files', 'output.txt'), 'rb') as handle:
        output = handle.read()
    if b'ESTABLISH LOCAL CONNECTION' not in output:
        problems.append('output.txt: not -vvvv output')
    if b'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' not in output:
        problems.append('output.txt: no masked module argument, so the invocations were not printed')
    print('scanned %d files (%d bytes, -vvvv output and Ansible log included) for %d secret values and %d shapes;'
          ' secret files %s are mode 0600; the ledger is mode 0600 in a 0700 folder'
          % (files, size, len(values), len(SHAPES), ', '.join(os.path.basename(p) for p in wanted) or 'none'))
    if len(wanted) < 2:
        problems.append('expected the secret files of service_principal and of the role, found %d' % len(wanted))
    for problem in problems:
        print('LEAK OR PROBLEM: ' + problem)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
