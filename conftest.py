"""Hypothesis profiles shared by every test.

Profiles: Hypothesis selects its built-in ``ci`` profile by itself when the
``CI`` environment variable is set; we register only ``dev`` (fast local
iteration) and ``thorough`` (many examples) and never load a default over
the built-in choice. Pick one with ``--hypothesis-profile=dev``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
