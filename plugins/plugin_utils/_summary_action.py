# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin base of the emission modules: runs the module unchanged, then shows its one-line summary.

Ansible's default output shows only ``changed: [host]`` for a task; the summary (series sent, skipped, unknown,
requests) would otherwise need ``register`` and ``debug``. The module's arguments and result are not changed.
The summary holds counts only, never a secret; nothing is shown for a task with ``no_log``, a failed or skipped
task, or an async task that has only started.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

display = Display()


class SummaryAction(ActionBase):
    """Runs the module of the same name like Ansible's normal action, then displays ``host: msg``."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
            self._show_summary(result, task_vars or {})
        return result

    def _show_summary(self, result, task_vars):
        if self._task.no_log or result.get('failed') or result.get('skipped'):
            return
        msg = result.get('msg')
        if not isinstance(msg, str) or not msg or '\n' in msg:
            return
        host = task_vars.get('inventory_hostname') or self._task.get_name()
        display.display('%s: %s' % (host, msg))
