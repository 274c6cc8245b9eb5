"""Argument checks shared by every store (inmemory.md TH-6).

Defined in :mod:`gossip_model.core.arguments`; re-exported here for code that
imported them from this module.
"""

from __future__ import annotations

from gossip_model.core.arguments import check_arg, check_flag, ovids_arg, records_arg

__all__ = ["check_arg", "check_flag", "ovids_arg", "records_arg"]
