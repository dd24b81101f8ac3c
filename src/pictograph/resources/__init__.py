"""The SDK's resources: ``datasets``, ``images`` and ``directories``, named as the official SDK."""

from pictograph.resources.datasets import Datasets, DownloadFailure, DownloadReport
from pictograph.resources.directories import Directories
from pictograph.resources.images import Images

__all__ = [
    "Datasets",
    "Directories",
    "DownloadFailure",
    "DownloadReport",
    "Images",
]
