# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin base of the emission modules: ships entries kept on the controller to the managed node as a file,
runs the module, then shows its one-line summary.

``metrics_src`` names a file on the controller (found like a copy task's ``src``, decrypted if vaulted): it is copied
into the task's temporary folder on the managed node and the module reads the copy, as it reads ``metrics_file``.
A ``metrics`` list of more than ``FILE_ENTRIES`` entries goes the same way, written as JSON: the module's arguments
stay small, so that Ansible neither packs tens of thousands of entries into the module's payload nor checks each
against the argument spec, and the result echoes their number instead of the list. The entries are the same either
way and checked by the same validation, which names them ``metrics[N]`` either way. A task that gives another entry
option beside ``metrics`` (which the module refuses, naming them), or an entry that is not a mapping, runs the module
with its arguments as they are. The copy goes with the temporary folder.

Ansible's default output shows only ``changed: [host]`` for a task; the summary (series sent, skipped, unknown,
requests) would otherwise need ``register`` and ``debug``. The summary holds counts only, never a secret; nothing is
shown for a task with ``no_log``, a failed or skipped task, or an async task that has only started.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from ansible.errors import AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

display = Display()

FILE_ENTRIES = 1000    # a longer metrics list travels as a file
FILE_NAME = 'azmon-metrics.json'
# what a task may not give beside metrics (the module refuses them, naming metrics): those tasks run unchanged
_NOT_BESIDE_METRICS = ('metric', 'metrics_file', 'metrics_src', 'value', 'values', 'min', 'max', 'sum', 'count')


class SummaryAction(ActionBase):
    """Runs the module of the same name like Ansible's normal action, then displays ``host: msg``."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        wrap_async = self._task.async_val and not self._connection.has_native_async
        wrong = _not_a_source(self._task.args.get('metrics_src'))
        if wrong:
            return self._failed(result, 'metrics_src: must be the path of one file on the controller%s' % wrong)
        try:
            module_args, echo = self._shipped_entries()
        except AnsibleFileNotFound:
            return self._failed(result, 'metrics_src: cannot find %s on the controller (a relative path is looked up'
                                ' in the files folders of the role and the playbook, then beside the playbook); for a'
                                ' file on the managed node, use metrics_file' % self._task.args['metrics_src'])
        except AnsibleError as exc:
            return self._failed(result, 'metrics_src: cannot read %s or copy it to the managed node: %s'
                                % (self._task.args['metrics_src'], to_text(exc.message)))
        result = merge_hash(result, self._execute_module(module_args=module_args, task_vars=task_vars,
                                                         wrap_async=wrap_async))
        if echo:
            _echo(result, echo)
            _name_source(result, module_args.get('metrics_src'), self._task.args.get('metrics_src'))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
            self._show_summary(result, task_vars or {})
        return result

    def _shipped_entries(self):
        """``(module arguments, what the invocation echoes instead)`` once the task's entries are on the managed
        node as a file, or ``(None, None)`` when the arguments go as they are."""
        args = self._task.args
        if args.get('metrics_src') is not None:
            source = self._find_needle('files', args['metrics_src'])
            local = self._loader.get_real_file(source, decrypt=True)
            try:
                remote = self._remote_file(os.path.basename(source))
                self._transfer_file(local, remote)
            finally:
                self._loader.cleanup_tmp_file(local)
            return dict(args, metrics_src=self._readable(remote)), {'metrics_src': args['metrics_src']}
        entries = args.get('metrics')
        if not isinstance(entries, list) or len(entries) <= FILE_ENTRIES:
            return None, None
        if any(args.get(name) is not None for name in _NOT_BESIDE_METRICS):
            return None, None
        if not all(isinstance(entry, Mapping) for entry in entries):
            return None, None
        remote = self._remote_file(FILE_NAME)
        encoder = get_module_encoder('legacy', Direction.CONTROLLER_TO_MODULE)
        self._transfer_data(remote, json.dumps(entries, cls=encoder))
        shipped = dict(args, metrics_file=self._readable(remote))
        del shipped['metrics']
        return shipped, {'metrics_file': None,
                         'metrics': '(%d entries, left out of the invocation; see series)' % len(entries)}

    def _failed(self, result, msg):
        """The task's result when its entries could not be shipped: nothing was run or sent."""
        self._remove_tmp_path(self._connection._shell.tmpdir)
        result.update(failed=True, option='metrics_src', msg=msg)
        return result

    def _remote_file(self, name):
        tmpdir = self._connection._shell.tmpdir or self._make_tmp_path()
        return self._connection._shell.join_path(tmpdir, name)

    def _readable(self, remote):
        """``remote``, readable by the user the module runs as."""
        self._fixup_perms2((self._connection._shell.tmpdir, remote), execute=False)
        return remote

    def _show_summary(self, result, task_vars):
        if self._task.no_log or result.get('failed') or result.get('skipped'):
            return
        msg = result.get('msg')
        if not isinstance(msg, str) or not msg or '\n' in msg:
            return
        host = task_vars.get('inventory_hostname') or self._task.get_name()
        display.display('%s: %s' % (host, msg))


def _not_a_source(value):
    """What is wrong with ``metrics_src`` as given (a list, a number, an empty string), or ``''``."""
    if value is None or (isinstance(value, str) and value.strip()):
        return ''
    if isinstance(value, str):
        return ', got an empty string'
    if isinstance(value, bool):
        kind = 'a boolean'
    elif isinstance(value, (int, float)):
        kind = 'a number'
    elif isinstance(value, Mapping):
        kind = 'a mapping'
    else:
        kind = 'a list' if isinstance(value, (list, tuple)) else 'a %s' % type(value).__name__
    return ' (a string), got %s' % kind


def _name_source(result, copy, given):
    """The module names the file it read, the copy in the temporary folder; the task named the controller's file."""
    if not copy or not given:
        return
    for field in ('msg', 'errors'):
        value = result.get(field)
        if isinstance(value, str):
            result[field] = value.replace(copy, given)
        elif isinstance(value, list):
            result[field] = [item.replace(copy, given) if isinstance(item, str) else item for item in value]


def _echo(result, given):
    """The invocation as the task gave it (the controller's file, or a count of the entries), not the copy."""
    args = (result.get('invocation') or {}).get('module_args')
    if isinstance(args, dict):
        args.update(given)
