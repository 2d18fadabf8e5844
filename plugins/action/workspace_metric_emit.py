# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of azmon.metrics.workspace_metric_emit: entries kept on the controller (metrics_src, or a long
metrics list) reach the module as a file, and its one-line summary is shown in the default output (see
plugin_utils/_summary_action.py)."""

from __future__ import annotations

from ansible_collections.azmon.metrics.plugins.plugin_utils._summary_action import SummaryAction


class ActionModule(SummaryAction):
    pass
