"""single-table-modeling: move a PostgreSQL application onto one DynamoDB table."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("single-table-modeling")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
