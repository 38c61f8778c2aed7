"""The version, written in one place: ``seqnn.__version__`` and pyproject.toml both read it."""

__version__ = "0.1.0"
