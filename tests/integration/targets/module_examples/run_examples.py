# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run every published example of the collection against the emulator.

Sources, read as a user sees them (never a copy):
  - the EXAMPLES of every module and filter plugin, from ``ansible-doc --json``;
  - the examples of every role entry point (meta/argument_specs.yml), from ``ansible-doc -t role --json``;
  - the YAML blocks of every ``roles/*/README.md`` (whole plays).

mapping.yml (next to this file) is the only thing that differs from the published text; its header says how it
is applied, and this script prints, for every example, how it is run (or why it is not).

Each module's or filter's examples become one play, run by an ansible-playbook of its own, in the order published
(later examples use what earlier ones registered). Each example task runs under its own name. A task of this
collection's modules that changes things runs first in check mode ("<name> (check mode)"), then for real, then again
at once ("<name> (again, expecting no change)"): check mode must succeed and predict the real run's change, the
rerun must report no change. An info module must report no change; other tasks (set_fact, debug) must run and
succeed. Every key a task of this collection's modules returns must be documented in that module's RETURN.
Every generated task has ignore_errors, so one run shows every example; the outcomes are written to a
JSON file at the end of the play (results of no_log tasks reduced to failed/changed/skipped) and judged here.

Each play of a role README runs as published (with the emulator's endpoints) in check mode, for real and again;
each must end with failed=0, the last with changed=0. verify.yml then reads what everything left in the emulator.

usage: run_examples.py --config INTEGRATION_CONFIG --work DIR [--collection PATH] [ansible-playbook options]
Exit status 0 only when every example ran as expected.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import textwrap
import time
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = 'azmon.metrics'
VARS_MARKER = '# Variables the examples use:'
CLEARED_ENV = re.compile(r'^(AZURE_|AZMON_|IDENTITY_|MSI_|ARM_|REQUESTS_CA_BUNDLE$|CURL_CA_BUNDLE$)')
REFERENCE = re.compile(r'\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+|\[[0-9]+\])*)\s*\}\}')
RECAP = re.compile(r'^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


class Failure(Exception):
    """A problem with the examples or the mapping that stops the run."""


# ---------------------------------------------------------------------------------------------------------------
# Values of the mapping


def lookup(context, path):
    value = context
    for part in re.findall(r'[A-Za-z0-9_]+|\[[0-9]+\]', path):
        if part.startswith('['):
            value = value[int(part[1:-1])]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise Failure('mapping.yml: {{ %s }} names nothing (no %r)' % (path, part))
    return value


def resolve(value, context):
    """Replace {{ dotted.path }} references in the mapping's values by the context's values."""
    if isinstance(value, dict):
        return {key: resolve(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, context) for item in value]
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value.strip())
        if whole:
            return lookup(context, whole.group(1))
        return REFERENCE.sub(lambda m: str(lookup(context, m.group(1))), value)
    return value


# ---------------------------------------------------------------------------------------------------------------
# The emulator


class Emulator:
    def __init__(self, info):
        self.info = info
        self.tls = ssl.create_default_context(cafile=info['ca_bundle'])

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.info['admin'] + path, data=data, method=method,
                                         headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, context=self.tls, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None


def make_certificate(path):
    """A self-signed certificate (public part only) for the certificate example."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'metrics-publisher')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    with open(path, 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))


# ---------------------------------------------------------------------------------------------------------------
# The published examples


def ansible_doc(plugin_type, *args):
    command = ['ansible-doc', '-t', plugin_type, '--json'] + list(args)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Failure('%s failed (%d): %s' % (' '.join(command), done.returncode, done.stderr.strip()))
    return json.loads(done.stdout)


# Keys Ansible itself adds to a module's result; every other key a module returns must be in its RETURN.
ANSIBLE_KEYS = frozenset(('changed', 'failed', 'skipped', 'invocation', 'warnings', 'deprecations', 'exception',
                          'attempts', 'diff', 'skip_reason', 'false_condition', 'ansible_facts'))
_RETURNS = {}


def documented_returns(module):
    """The top-level keys of a module's RETURN, as ansible-doc shows them."""
    if module not in _RETURNS:
        _RETURNS[module] = frozenset((ansible_doc('module', module).get(module) or {}).get('return') or {})
    return _RETURNS[module]


def plugin_sources():
    """(source name, plugin type, examples text) for every module and filter and every role entry point."""
    sources = []
    for plugin_type in ('module', 'filter'):
        names = sorted(ansible_doc(plugin_type, '-l', COLLECTION))
        if not names:
            continue
        docs = ansible_doc(plugin_type, *names)
        for name in names:
            examples = (docs.get(name) or {}).get('examples') or ''
            if not examples.strip():
                raise Failure('%s %s has no EXAMPLES: every plugin must show real, runnable examples' % (plugin_type, name))
            sources.append((name, plugin_type, examples))
    # Role entry points: the examples of meta/argument_specs.yml, as `ansible-doc -t role` shows them.
    roles = sorted(ansible_doc('role', '-l', COLLECTION))
    docs = ansible_doc('role', *roles) if roles else {}
    for role in roles:
        for entry_point, doc in sorted(((docs.get(role) or {}).get('entry_points') or {}).items()):
            examples = doc.get('examples') or ''
            if not examples.strip():
                raise Failure('role %s, entry point %s, has no examples in meta/argument_specs.yml' % (role, entry_point))
            sources.append(('%s entry point %s' % (role, entry_point), 'role', examples))
    return sources


def readme_sources(collection):
    """(source name, YAML text) for every YAML block of the role READMEs."""
    sources = []
    roles = os.path.join(collection, 'roles')
    for role in sorted(os.listdir(roles)) if os.path.isdir(roles) else []:
        path = os.path.join(roles, role, 'README.md')
        if not os.path.isfile(path):
            continue
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
        for number, block in enumerate(re.findall(r'^```ya?ml[ \t]*\n(.*?)^```', text, re.M | re.S), 1):
            sources.append(('roles/%s/README.md' % role, number, block))
    return sources


def substitute(text, rules, used):
    for index, rule in enumerate(rules):
        if 'regex' in rule:
            text, count = re.subn(rule['regex'], lambda m, to=rule['to']: to, text)
        else:
            count = text.count(rule['find'])
            text = text.replace(rule['find'], rule['to'])
        if count:
            used.setdefault(index, 0)
            used[index] += count
    return text


def comment_vars(text, source):
    """The variables defined in the '# Variables the examples use:' comment block."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip() != VARS_MARKER:
            continue
        block = []
        for following in lines[index + 1:]:
            match = re.match(r'^\s*#(\s{2,}\S.*)$', following)
            if not match:
                break
            block.append(match.group(1))
        try:
            found = yaml.safe_load(textwrap.dedent('\n'.join(block))) or {}
        except yaml.YAMLError as exc:
            raise Failure('%s: the variables comment is not YAML: %s' % (source, exc))
        if not isinstance(found, dict):
            raise Failure('%s: the variables comment must be "#   name: value" lines' % source)
        return found
    return {}


def used_vars(text, variables):
    """The variables of the mapping that the text references."""
    return {name: value for name, value in variables.items() if re.search(r'\b%s\b' % re.escape(name), text)}


def task_action(task, source):
    actions = [key for key in task if re.fullmatch(r'[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+', key)]
    if len(actions) != 1:
        raise Failure('%s / %s: cannot tell the action (use one fully qualified module name): %s'
                      % (source, task.get('name'), sorted(task)))
    return actions[0]


# ---------------------------------------------------------------------------------------------------------------
# Plays


class Example:
    def __init__(self, source, index, task, special):
        self.source = source
        self.index = index
        self.task = task
        self.name = task.get('name')
        self.id = '%s / %s' % (source, self.name)
        self.action = task_action(task, source)
        self.ours = self.action.startswith(COLLECTION + '.')
        self.info = self.ours and self.action.endswith('_info')
        self.special = special or {}
        self.register = task.get('register') or '_example_%d' % index
        # Check mode first, then the real run, then the rerun: for this collection's modules that change things.
        self.check = 'skip' not in self.special and self.ours and not self.info
        self.rerun = self.special.get('rerun', 'unchanged') if self.check else None

    def how(self):
        if 'skip' in self.special:
            return 'NOT RUN: %s' % self.special['skip']
        parts = ['check mode (must predict the real run\'s change), run' if self.check else 'run']
        if self.rerun == 'unchanged':
            parts.append('run again at once: no change expected')
        elif self.rerun == 'same_minute':
            parts.append('run again at once: no change expected unless the minute turned (%s)' % self.special['why'])
        elif self.info:
            parts.append('an info module: no change expected')
        else:
            parts.append('not a module of %s: must run and succeed' % COLLECTION)
        if 'may_skip' in self.special:
            parts.append('may be skipped: %s' % self.special['may_skip'])
        return '; '.join(parts)

    def tasks(self):
        if 'skip' in self.special:
            return [{'name': '%s (not run here: %s)' % (self.name, self.special['skip']),
                     'ansible.builtin.debug': {'msg': 'not run against the emulator: %s' % self.special['skip']}}]
        tasks = []
        if self.check:
            check = dict(self.task)
            check['name'] = '%s (check mode)' % self.name
            check['register'] = '_example_%d_check' % self.index
            check['check_mode'] = True
            check['ignore_errors'] = True
            tasks.append(check)
        first = dict(self.task)
        first['register'] = self.register
        first['ignore_errors'] = True
        tasks.append(first)
        if self.rerun:
            again = dict(self.task)
            again['name'] = '%s (again, expecting no change)' % self.name
            again['register'] = '_example_%d_again' % self.index
            again['ignore_errors'] = True
            conditions = again.get('when', [])
            conditions = list(conditions) if isinstance(conditions, list) else [conditions]
            again['when'] = conditions + ['%s is succeeded' % self.register]
            tasks.append(again)
        return tasks

    def outcome_vars(self):
        """Jinja for the outcome of this example (no result values for no_log tasks)."""
        if 'skip' in self.special:
            return None
        reg = self.register
        outcome = {
            'ran': '{{ %s is defined }}' % reg,
            'failed': '{{ %s is defined and %s is failed }}' % (reg, reg),
            'skipped': '{{ %s is defined and %s is skipped }}' % (reg, reg),
            'changed': '{{ %s is defined and %s is changed }}' % (reg, reg),
        }
        if not self.task.get('no_log'):
            outcome['msg'] = "{{ (%s | default({})).msg | default('') | string }}" % reg
            if self.ours:
                outcome['keys'] = "{{ (%s | default({})).keys() | list }}" % reg
            outcome['minutes'] = ("{{ (%s | default({})).series | default([]) | map(attribute='time') | unique"
                                  " | sort | list }}" % reg)
        if self.check:
            check = '_example_%d_check' % self.index
            outcome['check_ran'] = '{{ %s is defined and %s is not skipped }}' % (check, check)
            outcome['check_failed'] = '{{ %s is defined and %s is failed }}' % (check, check)
            outcome['check_changed'] = '{{ %s is defined and %s is changed }}' % (check, check)
            if not self.task.get('no_log'):
                outcome['check_msg'] = "{{ (%s | default({})).msg | default('') | string }}" % check
        if self.rerun:
            again = '_example_%d_again' % self.index
            outcome['again_ran'] = '{{ %s is defined and %s is not skipped }}' % (again, again)
            outcome['again_failed'] = '{{ %s is defined and %s is failed }}' % (again, again)
            outcome['again_changed'] = '{{ %s is defined and %s is changed }}' % (again, again)
            if not self.task.get('no_log'):
                outcome['again_msg'] = "{{ (%s | default({})).msg | default('') | string }}" % again
                outcome['again_minutes'] = ("{{ (%s | default({})).series | default([]) | map(attribute='time')"
                                            " | unique | sort | list }}" % again)
        return outcome

    def judge(self, outcome):
        """(ok, text); ok is None when the mapping says the example cannot run here."""
        if 'skip' in self.special:
            return None, 'NOT RUN here: %s' % self.special['skip']
        if not outcome or not outcome.get('ran'):
            return False, 'did not run (the play stopped before it)'
        if outcome['failed']:
            return False, 'failed: %s' % (outcome.get('msg') or '(no_log task: see its output above)')
        if outcome['skipped']:
            if 'may_skip' in self.special:
                return True, 'skipped, which is allowed: %s' % self.special['may_skip']
            return False, 'was skipped: its condition was false, so the example did nothing'
        first = 'changed' if outcome['changed'] else 'unchanged'
        if self.info:
            if outcome['changed']:
                return False, 'an info module reported a change'
            return True, 'unchanged (info module)'
        if self.check:
            if outcome.get('check_failed'):
                return False, 'failed in check mode: %s' % (outcome.get('check_msg') or '(no_log)')
            if not outcome.get('check_ran'):
                return False, 'did not run in check mode'
            if outcome['check_changed'] != outcome['changed']:
                return False, 'check mode predicted %s, the real run was %s' % (
                    'a change' if outcome['check_changed'] else 'no change', first)
            first = 'check mode and run: ' + first
        if not self.rerun:
            return True, first
        if not outcome.get('again_ran'):
            return False, '%s; the second run did not run' % first
        if outcome['again_failed']:
            return False, '%s; the second run failed: %s' % (first, outcome.get('again_msg') or '(no_log)')
        if not outcome['again_changed']:
            return True, '%s; again: unchanged' % first
        if self.rerun == 'same_minute' and outcome.get('minutes') != outcome.get('again_minutes'):
            return True, '%s; again: changed, in a new minute (%s, then %s), which is right' % (
                first, ', '.join(outcome.get('minutes') or []), ', '.join(outcome.get('again_minutes') or []))
        return False, '%s; again: CHANGED, expected no change' % first


def task_play(source, examples, play_vars, module_defaults, outcomes_file):
    tasks = []
    for example in examples:
        tasks.extend(example.tasks())
    outcomes = {str(example.index): example.outcome_vars() for example in examples if example.outcome_vars()}
    tasks.append({
        'name': 'Keep the outcome of every example for the summary',
        'ansible.builtin.copy': {'dest': outcomes_file, 'content': '{{ _outcomes | to_nice_json }}', 'mode': '0600'},
        'vars': {'_outcomes': outcomes},
    })
    return [{
        'name': 'The EXAMPLES of %s, as published, against the emulator' % source,
        'hosts': 'localhost',
        'gather_facts': False,
        'module_defaults': module_defaults,
        'vars': play_vars,
        'tasks': tasks,
    }]


# ---------------------------------------------------------------------------------------------------------------
# Running


class Runner:
    def __init__(self, work, inventory, base_env, ansible_args):
        self.ansible_args = list(ansible_args)
        self.work = work
        self.inventory = inventory
        self.base_env = base_env

    def playbook(self, name, plays, environment, extra=()):
        path = os.path.join(self.work, name + '.yml')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write('---\n# Generated by run_examples.py from the published examples and mapping.yml.\n')
            yaml.safe_dump(plays, handle, sort_keys=False, width=160, allow_unicode=True)
        return self.execute(name, path, environment, extra)

    def execute(self, name, path, environment, extra=()):
        env = dict(self.base_env)
        env.update({key: str(value) for key, value in environment.items()})
        command = ['ansible-playbook', path, '-i', self.inventory] + list(extra) + self.ansible_args
        print('\n$ %s' % ' '.join(command), flush=True)
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
        status = process.wait()
        sys.stdout.flush()
        output = ''.join(lines)
        with open(os.path.join(self.work, name + '.log'), 'w', encoding='utf-8') as handle:
            handle.write(output)
        return status, output, time.monotonic() - started


def wait_clear_of_boundary(guards):
    """Sleep past the next multiple of guard['every'] seconds (epoch time) if it is under guard['seconds'] away."""
    for guard in guards:
        remaining = guard['every'] - time.time() % guard['every']
        if remaining < guard['seconds']:
            print('waiting %.1f s for the %d-second boundary to pass before the run and its rerun (mapping.yml)'
                  % (remaining + 1, guard['every']), flush=True)
            time.sleep(remaining + 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', required=True, help='integration_config.yml with the emulator variables')
    parser.add_argument('--work', required=True, help='a private directory for this run (emptied)')
    parser.add_argument('--mapping', default=os.path.join(HERE, 'mapping.yml'))
    parser.add_argument('--collection', help='the collection root (default: from ANSIBLE_COLLECTIONS_PATH)')
    args, ansible_args = parser.parse_known_args()
    args.ansible_args = ansible_args
    started = time.monotonic()
    args.emulator = None
    try:
        return run(args, started)
    except Failure as exc:
        print('\nFAIL: %s' % exc, flush=True)
        return 1
    finally:
        # Leave the emulator as the seed made it, for the targets that run after this one.
        if args.emulator:
            args.emulator.admin('POST', '/_admin/reset')


def run(args, started):
    with open(args.config, encoding='utf-8') as handle:
        config = yaml.safe_load(handle)
    with open(args.mapping, encoding='utf-8') as handle:
        mapping = yaml.safe_load(handle)
    collection = args.collection or os.path.join(
        os.environ['ANSIBLE_COLLECTIONS_PATH'].split(':')[0], 'ansible_collections', *COLLECTION.split('.'))

    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, 'home'), mode=0o700)
    os.makedirs(os.path.join(work, 'home-readme'), mode=0o700)
    os.chmod(work, 0o700)

    # What the mapping's values may name: the emulator, tokens minted for this run, a certificate file.
    emulator = args.emulator = Emulator(config['emulator_info'])
    emulator.admin('POST', '/_admin/reset')
    wap_token = emulator.admin('POST', '/_admin/tokens/wap', {'upn': 'CONTOSO\\wapadmin', 'lifetime': 3600})['token']
    oidc = emulator.admin('POST', '/_admin/tokens/oidc', {'lifetime': 3600})
    oidc_token_file = os.path.join(work, 'github-oidc.jwt')
    with open(os.open(oidc_token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as handle:
        handle.write(oidc['token'])
    make_certificate(os.path.join(work, 'publisher.crt'))
    # custom_metric_emit's large-batch example reads files/fleet-metrics.ndjson on the controller, a file a collector
    # wrote: a few entries of it in the files folder beside the examples' playbooks, where metrics_src looks first
    os.makedirs(os.path.join(work, 'files'))
    with open(os.path.join(work, 'files', 'fleet-metrics.ndjson'), 'w', encoding='utf-8') as handle:
        for host, load in (('web-01', 0.42), ('web-02', 0.57), ('db-01', 0.91)):
            handle.write(json.dumps({'metric': 'LoadAverage', 'dimensions': {'Host': host}, 'value': load}) + '\n')
    context = {
        'emulator_info': config['emulator_info'], 'emulator_seed': config['emulator_seed'], 'work': work,
        'wap_token': wap_token, 'oidc_token_file': oidc_token_file, 'run_id': 'examples-%d' % time.time(),
    }
    rules = resolve(mapping['replace'], context)
    why = [rule.get('why', '') for rule in mapping['replace']]
    mapped_vars = resolve(mapping.get('vars') or {}, context)
    connection = resolve(mapping['connection'], context)
    defaults = resolve(mapping['module_defaults'], context)
    defaults['group/%s.azure' % COLLECTION] = dict(connection, **defaults.get('group/%s.azure' % COLLECTION, {}))
    specials = mapping.get('examples') or {}
    readme_specials = mapping.get('readme_plays') or {}

    inventory = os.path.join(work, 'inventory.ini')
    with open(inventory, 'w', encoding='utf-8') as handle:
        handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    base_env = {key: value for key, value in os.environ.items() if not CLEARED_ENV.match(key)}
    base_env['HOME'] = os.path.join(work, 'home')
    runner = Runner(work, inventory, base_env, args.ansible_args)
    examples_env = resolve(mapping.get('environment') or {}, context)

    used = {}
    seen = set()
    results = []  # (id, ok, text)
    timings = []

    # Modules and filters: one play (and one ansible-playbook) each.
    for number, (source, plugin_type, text) in enumerate(plugin_sources(), 1):
        mapped = substitute(text, rules, used)
        try:
            tasks = yaml.safe_load(mapped)
        except yaml.YAMLError as exc:
            raise Failure('%s: EXAMPLES are not valid YAML: %s' % (source, exc))
        if not isinstance(tasks, list) or not all(isinstance(task, dict) for task in tasks):
            raise Failure('%s: EXAMPLES must be a list of tasks' % source)
        play_vars = comment_vars(mapped, source)
        print('\n=== %s %s: %d example tasks' % (plugin_type, source, len(tasks)))
        for name, value in sorted(play_vars.items()):
            print('  variable %s from the EXAMPLES comment: %s' % (name, value))
        for name in sorted(used_vars(mapped, mapped_vars)):
            print('  variable %s from mapping.yml%s' % (name, ' (over the comment)' if name in play_vars else ''))
            play_vars[name] = mapped_vars[name]
        examples = []
        for index, task in enumerate(tasks):
            if not task.get('name'):
                raise Failure('%s: example %d has no name: %s' % (source, index + 1, task))
            example = Example(source, index, task, specials.get('%s / %s' % (source, task['name'])))
            if example.id in seen:
                raise Failure('%s: two examples are named %r' % (source, example.name))
            seen.add(example.id)
            examples.append(example)
            print('  - %s: %s' % (example.name, example.how()))
        outcomes_file = os.path.join(work, 'outcomes-%d.json' % number)
        plays = task_play(source, examples, play_vars, defaults, outcomes_file)
        status, _output, seconds = runner.playbook('examples-%d' % number, plays, examples_env)
        timings.append((source, seconds))
        outcomes = {}
        if os.path.isfile(outcomes_file):
            with open(outcomes_file, encoding='utf-8') as handle:
                outcomes = json.load(handle)
        elif status == 0:
            raise Failure('%s: the play passed but wrote no outcomes' % source)
        for example in examples:
            ok, verdict = example.judge(outcomes.get(str(example.index)))
            if ok and example.ours:
                undocumented = sorted(set((outcomes.get(str(example.index)) or {}).get('keys') or ())
                                      - ANSIBLE_KEYS - documented_returns(example.action))
                if undocumented:
                    ok, verdict = False, '%s; but it returned %s, which its RETURN does not document' % (
                        verdict, ', '.join(undocumented))
            results.append((example.id, ok, verdict))
        if status != 0 and not any(ok is False for _id, ok, _text in results if _id.startswith(source + ' / ')):
            results.append(('%s (play)' % source, False, 'ansible-playbook exited with %d' % status))

    # README plays: as published plus the emulator's endpoints; check mode, run, then again with changed=0.
    for number, (source, block_number, text) in enumerate(readme_sources(collection), 1):
        mapped = substitute(text, rules, used)
        try:
            plays = yaml.safe_load(mapped)
        except yaml.YAMLError as exc:
            raise Failure('%s block %d: not valid YAML: %s' % (source, block_number, exc))
        if not isinstance(plays, list) or not all(isinstance(play, dict) and 'hosts' in play for play in plays):
            raise Failure('%s block %d: a YAML block of a role README must be a complete playbook (plays with hosts)'
                          % (source, block_number))
        environment = {}
        guards = []
        ids = []
        for play in plays:
            play_id = '%s / %s' % (source, play.get('name'))
            if play_id in seen:
                raise Failure('%s: two plays are named %r' % (source, play.get('name')))
            seen.add(play_id)
            ids.append(play_id)
            special = resolve(readme_specials.get(play_id) or {}, context)
            groups = play.setdefault('module_defaults', {})
            group = 'group/%s.azure' % COLLECTION
            groups[group] = dict(connection, **(groups.get(group) or {}))
            given = used_vars(yaml.safe_dump(play), mapped_vars)
            given.update(special.get('vars') or {})
            if given:
                play['vars'] = dict(given, **(play.get('vars') or {}))
            environment.update(special.get('environment') or {})
            if special.get('clear_of_boundary'):
                guards.append(special['clear_of_boundary'])
            print('\n=== %s, YAML block %d: play %r' % (source, block_number, play.get('name')))
            print('  run as published with the emulator endpoints and CA in its %s defaults; %s'
                  % (group, special.get('why') or 'no other input'))
            for name in sorted(given):
                print('  variable %s from mapping.yml' % name)
            for name in sorted(special.get('environment') or {}):
                print('  environment %s from mapping.yml' % name)
            print('  check mode, run, then again: each must succeed, the last with changed=0')
            if special.get('clear_of_boundary'):
                print('  the run and the rerun start clear of a %(every)d-second boundary (at least %(seconds)d s before it)'
                      % special['clear_of_boundary'])
        # A job of its own: its own HOME, so its own delivery ledger.
        environment['HOME'] = os.path.join(work, 'home-readme')
        label = ' + '.join(ids)
        runs = []
        for attempt, extra in (('check', ['--check']), ('', []), ('again', [])):
            if attempt == '':
                wait_clear_of_boundary(guards)
            status, output, seconds = runner.playbook('readme-%d%s' % (number, '-' + attempt if attempt else ''),
                                                      plays, environment, extra)
            timings.append(('%s%s' % (label, ' (%s)' % attempt if attempt else ''), seconds))
            recap = RECAP.findall(output)
            runs.append((status, recap[-1] if recap else None))
        (status0, recap0), (status1, recap1), (status2, recap2) = runs
        if status0 != 0 or not recap0 or recap0[3] != '0':
            results.append((label, False, 'the play failed in check mode (exit %d, recap %s)' % (status0, recap0)))
        elif status1 != 0 or not recap1 or recap1[3] != '0':
            results.append((label, False, 'the play failed (exit %d, recap %s)' % (status1, recap1)))
        elif status2 != 0 or not recap2 or recap2[3] != '0':
            results.append((label, False, 'changed=%s; the second run failed (exit %d)' % (recap1[1], status2)))
        elif recap2[1] != '0':
            results.append((label, False, 'changed=%s; the second run: changed=%s, expected 0' % (recap1[1], recap2[1])))
        else:
            results.append((label, True, 'check mode: ok; run: changed=%s; again: changed=0' % recap1[1]))

    # What the examples left in the emulator.
    print('\n=== The emulator after every example (verify.yml)')
    status, output, seconds = runner.execute('verify', os.path.join(HERE, 'verify.yml'), {},
                                             ['-e', '@' + os.path.abspath(args.config), '-e', 'work=' + work])
    timings.append(('verify.yml', seconds))
    recap = RECAP.findall(output)
    results.append(('verify.yml: what the examples left in the emulator', status == 0 and bool(recap),
                    'as expected' if status == 0 else 'not as expected (exit %d, see above)' % status))

    # The mapping must not name examples that no longer exist, nor rules that match nothing.
    stale = sorted((set(specials) | set(readme_specials)) - seen)
    for key in stale:
        results.append(('mapping.yml: %s' % key, False, 'names no published example (stale entry)'))
    for index, rule in enumerate(mapping['replace']):
        if index not in used:
            results.append(('mapping.yml: replace %s' % (rule.get('find') or rule.get('regex')), False,
                            'matches no published example (stale entry)'))

    print('\n=== Substitutions applied (mapping.yml)')
    for index, rule in enumerate(mapping['replace']):
        print('  %3d x %s -> %s: %s' % (used.get(index, 0), rule.get('find') or rule.get('regex'), rule['to'], why[index]))
    print('\n=== Timings')
    for label, seconds in timings:
        print('  %6.1f s  %s' % (seconds, label))
    print('  %6.1f s  in all' % (time.monotonic() - started))
    print('\n=== Every published example')
    for example_id, ok, verdict in results:
        print('  %s  %s: %s' % ({True: 'ok  ', None: 'skip', False: 'FAIL'}[ok], example_id, verdict))
    passed = [result for result in results if result[1] is True]
    not_run = [result for result in results if result[1] is None]
    failed = [result for result in results if result[1] is False]
    print('\n%d ran as expected, %d not run (reason printed above), %d did not run as expected'
          % (len(passed), len(not_run), len(failed)), flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
