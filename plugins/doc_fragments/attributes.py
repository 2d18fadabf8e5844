# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/azmon.metrics.azure) in C(module_defaults) to set options for this module.
    support: full
    membership:
      - azmon.metrics.azure
'''

    CHECK_MODE_FULL = r'''
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying the target.
    support: full
'''

    DIFF_MODE_FULL = r'''
options: {}
attributes:
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: full
'''

    DIFF_MODE_NONE = r'''
options: {}
attributes:
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: none
'''

    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    description: This is an information module; it changes nothing and runs the same in check mode.
    support: full
  diff_mode:
    description: This is an information module; it changes nothing and has no diff.
    support: N/A
'''
