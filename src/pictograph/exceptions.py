"""The official SDK's module name for the error classes, so code written for it runs unchanged."""

from pictograph.errors import *  # noqa: F403 (this module is exactly the error module's surface)
from pictograph.errors import __all__ as __all__
