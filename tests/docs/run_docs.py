#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run every command of README.md and docs/*.md as a reader would, so that a doc cannot drift from the code.

What runs: every fenced block whose info string is ``sh``, ``bash``, ``shell`` or ``console`` (a ``$ `` prompt is
removed), in the order of the doc, in one bash script per doc (``set -euo pipefail``), so a later block sees what
an earlier one did. YAML and other blocks are data, not commands; a command uses one only through a directive.

Where: a scratch copy of the clone (tracked and untracked files, tests/tools/sync_tree.py) under --work, with the
development venvs linked in, as a reader's clone after ``make venv``. Each doc gets a fresh HOME (so its own
delivery ledger and ~/.ansible) and ``.venv/bin`` first on PATH (its ansible-playbook and ansible-galaxy), and
starts from a clean state: no build/emulator or build/demo left by an earlier doc. An emulator a doc started is
stopped after it, whatever happened.

Directives are HTML comments, invisible where the doc is rendered, each on a line of its own:
  <!-- doc-test: skip REASON -->     on the lines right before a block: the block is not run; it is listed, with
                                      REASON, among the skipped (for what cannot run here: real Azure, gh, podman)
  <!-- doc-test: file NAME -->       right before a block: its text is written to NAME (relative to the clone)
                                      before the doc's commands run
  <!-- doc-test: emulator -->        anywhere: for a doc written for an installed collection and real Azure that
                                      says how to try it locally: ``make venv collection``, start the emulator and
                                      source build/emulator/env.sh before the first block, with
                                      ANSIBLE_COLLECTIONS_PATH=build/collections
  <!-- doc-test: replace OLD => NEW -->  anywhere: replace OLD by NEW in the doc's blocks (placeholders such as a
                                      subscription ID become the emulator's); NEW may use the variables of env.sh

usage: run_docs.py --root CLONE --work DIR [--junit FILE] [DOC...]
Exit status 0 only when every block that is not skipped ran and exited 0.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from xml.sax.saxutils import escape, quoteattr

COMMAND_LANGS = ('sh', 'bash', 'shell', 'console')
DIRECTIVE = re.compile(r'^\s*<!--\s*doc-test:\s*(\w+)\s*(.*?)\s*-->\s*$')
FENCE = re.compile(r'^(```+|~~~+)\s*([\w+-]*)[^\n]*$')


class Block:
    def __init__(self, doc, line, lang, text, directives):
        self.doc = doc
        self.line = line
        self.lang = lang
        self.text = text
        self.skip = next((arg for name, arg in directives if name == 'skip'), None)
        self.file = next((arg for name, arg in directives if name == 'file'), None)

    @property
    def command(self):
        return self.lang in COMMAND_LANGS

    @property
    def label(self):
        return '%s:%d' % (self.doc, self.line)


def parse(path, name):
    """The blocks of one doc, and its doc-wide directives (emulator, replace)."""
    with open(path, encoding='utf-8') as handle:
        lines = handle.read().split('\n')
    blocks, pending, doc_wide = [], [], []
    index = 0
    while index < len(lines):
        line = lines[index]
        directive = DIRECTIVE.match(line)
        fence = FENCE.match(line)
        if directive:
            kind, arg = directive.group(1), directive.group(2)
            if kind in ('emulator', 'replace'):
                doc_wide.append((kind, arg))
            elif kind in ('skip', 'file'):
                pending.append((kind, arg))
            else:
                raise SystemExit('%s:%d: unknown doc-test directive %r' % (name, index + 1, kind))
        elif fence:
            marker, lang = fence.group(1), fence.group(2).lower()
            body = []
            index += 1
            while index < len(lines) and not lines[index].startswith(marker):
                body.append(lines[index])
                index += 1
            blocks.append(Block(name, index + 1 - len(body) - 1, lang, '\n'.join(body) + '\n', pending))
            pending = []
        elif line.strip():
            if pending:
                raise SystemExit('%s:%d: a doc-test %s directive must come right before a block'
                                 % (name, index + 1, pending[0][0]))
        index += 1
    return blocks, doc_wide


def command_text(block, replacements):
    text = block.text
    for old, new in replacements:
        text = text.replace(old, new)
    if block.lang == 'console':
        text = '\n'.join(line[2:] if line.startswith('$ ') else '' for line in text.split('\n'))
    return text


def scratch_clone(root, work):
    clone = os.path.join(work, 'clone')
    subprocess.run([sys.executable, os.path.join(root, 'tests', 'tools', 'sync_tree.py'), root, clone], check=True,
                   stdout=subprocess.DEVNULL)
    for venv in glob.glob(os.path.join(root, '.venv*')):
        link = os.path.join(clone, os.path.basename(venv))
        if not os.path.lexists(link):
            os.symlink(venv, link)
    return clone


def run_doc(name, blocks, doc_wide, clone, work):
    """Run the doc's command blocks; return [(block, status, seconds, output)] and the skipped blocks."""
    replacements = [tuple(part.strip() for part in arg.split('=>', 1)) for kind, arg in doc_wide if kind == 'replace']
    for old_new in replacements:
        if len(old_new) != 2 or not old_new[0]:
            raise SystemExit('%s: a replace directive is "OLD => NEW": %r' % (name, ' => '.join(old_new)))
    # A clean state, as a reader who follows this doc from its start would have.
    for leftover in ('build/emulator', 'build/demo'):
        subprocess.run(['tests/tools/emulator', 'stop'], cwd=clone, stdout=subprocess.DEVNULL, check=False)
        shutil.rmtree(os.path.join(clone, leftover), ignore_errors=True)
    home = os.path.join(work, 'home-' + re.sub(r'[^A-Za-z0-9]+', '-', name))
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(home)
    # A reader's shell: nothing of the calling make (its MAKEFLAGS would hand BUILD=... to the doc's make commands)
    # and no sign-in, endpoint or Ansible setting of the caller.
    env = {key: value for key, value in os.environ.items()
           if not re.match(r'^(AZURE_|AZMON_|IDENTITY_|MSI_|ANSIBLE_|EMULATOR_|REQUESTS_CA_BUNDLE$|CURL_CA_BUNDLE$'
                           r'|MAKEFLAGS$|MFLAGS$|MAKELEVEL$|MAKEOVERRIDES$|BUILD$)', key)}
    env.update(HOME=home, PATH='%s:%s' % (os.path.join(clone, '.venv', 'bin'), env.get('PATH', '')),
               ANSIBLE_NOCOLOR='1')
    prologue = ['set -euo pipefail', 'cd %s' % shlex.quote(clone)]
    if any(kind == 'emulator' for kind, _arg in doc_wide):
        # A doc written for an installed collection, tried in a clone against the emulator as it says.
        env['ANSIBLE_COLLECTIONS_PATH'] = os.path.join(clone, 'build', 'collections')
        prologue += ['make venv collection >/dev/null', 'tests/tools/emulator start >/dev/null',
                     '. build/emulator/env.sh']
    # One bash process per doc: a block sees the variables, exports and directory the earlier ones left. A marker
    # line before and after each block tells which block an output line and a failure belong to.
    runnable = [block for block in blocks if block.command and not block.skip]
    skipped = [block for block in blocks if block.command and block.skip]
    script = list(prologue)
    # Files first, written by the shell after the prologue, so that a ${VARIABLE} a replace directive put in their
    # text takes its value from env.sh (only then is the text expanded by the shell).
    for block in blocks:
        if block.file and not block.skip:
            text = command_text(block, replacements)
            delimiter = 'DOC_TEST_EOF' if '${' in text else "'DOC_TEST_EOF'"
            script += ['mkdir -p "$(dirname %s)"' % shlex.quote(block.file),
                       'cat > %s <<%s\n%sDOC_TEST_EOF' % (shlex.quote(block.file), delimiter, text)]
    for number, block in enumerate(runnable):
        text = command_text(block, replacements)
        script += ['echo "@@doc-test start %d"' % number, text.rstrip('\n'), 'echo "@@doc-test done %d"' % number]
        print('\n=== %s (%s block)\n%s' % (block.label, block.lang, text.rstrip()), flush=True)
    print('\n--- running %d blocks of %s' % (len(runnable), name), flush=True)
    process = subprocess.Popen(['bash', '-c', '\n'.join(script)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    outputs, done, current, started, times = {}, set(), None, time.monotonic(), {}
    for line in process.stdout:
        marker = re.match(r'^@@doc-test (start|done) (\d+)$', line.strip())
        if marker:
            number = int(marker.group(2))
            if marker.group(1) == 'start':
                current, started = number, time.monotonic()
                print('--- %s' % runnable[number].label, flush=True)
            else:
                done.add(number)
                times[number] = time.monotonic() - started
            continue
        sys.stdout.write(line)
        outputs.setdefault(current, []).append(line)
    status = process.wait()
    print('--- exit %d' % status, flush=True)
    results = []
    for number, block in enumerate(runnable):
        if number in done:
            results.append((block, 0, times.get(number, 0.0), ''.join(outputs.get(number, []))))
        elif number == current:
            results.append((block, status or 1, time.monotonic() - started, ''.join(outputs.get(number, []))))
    subprocess.run(['tests/tools/emulator', 'stop'], cwd=clone, stdout=subprocess.DEVNULL, check=False)
    ran = {id(block) for block, _status, _seconds, _output in results}
    not_reached = [block for block in blocks if block.command and not block.skip and id(block) not in ran]
    return results, skipped, not_reached


def write_junit(path, cases):
    failures = sum(1 for case in cases if case[1] == 'failed')
    skips = sum(1 for case in cases if case[1] == 'skipped')
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             '<testsuite name="docs-test" tests="%d" failures="%d" skipped="%d">' % (len(cases), failures, skips)]
    for name, outcome, seconds, text in cases:
        lines.append('  <testcase classname="docs" name=%s time="%.1f">' % (quoteattr(name), seconds))
        if outcome == 'failed':
            lines.append('    <failure message=%s>%s</failure>' % (quoteattr(text.splitlines()[0] if text else ''),
                                                                   escape(text[-4000:])))
        elif outcome == 'skipped':
            lines.append('    <skipped message=%s/>' % quoteattr(text))
        lines.append('  </testcase>')
    lines.append('</testsuite>')
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines) + '\n')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', required=True, help='the clone whose docs are run')
    parser.add_argument('--work', required=True, help='a private directory (the scratch clone goes there)')
    parser.add_argument('--junit', help='write a junit XML file of the results')
    parser.add_argument('docs', nargs='*', help='only these docs (paths relative to the clone)')
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    os.makedirs(args.work, exist_ok=True)
    work = os.path.abspath(args.work)
    docs = args.docs or ['README.md'] + sorted(os.path.relpath(path, root)
                                               for path in glob.glob(os.path.join(root, 'docs', '*.md')))
    clone = scratch_clone(root, work)
    cases = []
    for name in docs:
        blocks, doc_wide = parse(os.path.join(clone, name), name)
        results, skipped, not_reached = run_doc(name, blocks, doc_wide, clone, work)
        for block, status, seconds, output in results:
            cases.append((block.label, 'passed' if status == 0 else 'failed', seconds,
                          '' if status == 0 else 'exit %d; output ends:\n%s' % (status, output[-3000:])))
        for block in not_reached:
            cases.append((block.label, 'failed', 0.0, 'not run: an earlier command of %s failed' % name))
        for block in skipped:
            cases.append((block.label, 'skipped', 0.0, block.skip))
    if args.junit:
        write_junit(args.junit, cases)
    print('\n=== Every command of the docs')
    for name, outcome, seconds, text in cases:
        reason = (' (%s)' % text) if outcome == 'skipped' else ''
        print('  %-7s %s%s' % ({'passed': 'ok', 'failed': 'FAIL', 'skipped': 'skip'}[outcome], name, reason))
    failed = sum(1 for case in cases if case[1] == 'failed')
    print('\n%d ran as expected, %d skipped (reason above), %d failed'
          % (sum(1 for case in cases if case[1] == 'passed'), sum(1 for case in cases if case[1] == 'skipped'), failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
