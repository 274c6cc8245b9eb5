"""gossip-model: executable reference of the Gossip persistence layer.

``__version__`` is the single source of the package version: ``pyproject.toml``
reads it (``[tool.setuptools.dynamic]``), ``gossip-sim --version`` prints it.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
