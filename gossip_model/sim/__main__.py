"""``python -m gossip_model.sim``: see ``gossip_model.sim.cli``."""

from __future__ import annotations

import sys

from gossip_model.sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
