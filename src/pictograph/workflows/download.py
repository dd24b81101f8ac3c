"""``download_dataset``: a dataset back as a local folder tree, resumably, checked by SHA-256.

Each dataset folder becomes a local folder (root images at the folder's top). A file already
there with the image's size (and SHA-256, when the server knows it) is skipped, so running it
again fetches only what is missing or different; each download is checked against the SHA-256 on
arrival. Every per-image problem becomes a :class:`DownloadFailure`; nothing is raised because of
one image. The progress callback runs on the calling thread, once per image.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pictograph.errors import ApiError, PictographError
from pictograph.protocol import dataset_path
from pictograph.workflows.local_tree import UnsafePathError, is_current, local_path, sha256_of

if TYPE_CHECKING:
    from pictograph.client import Client
    from pictograph.models import Image

#: ``progress(images_done, images_total, bytes_done, bytes_total)``.
DownloadProgress = Callable[[int, int, int, int], None]


@dataclass(frozen=True)
class DownloadFailure:
    """One image that was not written, by its dataset path, and a reason a person understands."""

    path: str
    reason: str


@dataclass
class DownloadReport:
    """What a download did: counts per outcome and every failure with its reason."""

    dataset_name: str
    folder: Path
    images_listed: int
    images_downloaded: int = 0
    images_skipped: int = 0
    failures: list[DownloadFailure] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """True when nothing failed."""
        return not self.failures


@dataclass
class DownloadPlan:
    """The images of a dataset and the local file each one goes to, before any byte is fetched."""

    dataset_name: str
    folder: Path
    images_listed: int
    targets: list[tuple[Image, Path]] = field(default_factory=list)
    failures: list[DownloadFailure] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(image.file_size for image, _ in self.targets)


def plan_download(client: Client, dataset_name: str, folder: str | Path) -> DownloadPlan:
    """List the dataset and map each image to its local path under ``folder`` (created).

    Raises ``NotFoundError`` for an unknown dataset (before creating anything) and ``OSError``
    when ``folder`` cannot be created. Unsafe names and two images on one local path are
    failures of the plan.
    """
    listed = client.images.iter(dataset_name, page_size=1000).all()
    root = Path(folder).expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        # A plain OSError: the folder is ours to make, not something missing on the server.
        raise OSError(f"cannot create folder {str(root)!r}: {error.strerror or error}") from None
    plan = DownloadPlan(dataset_name, root, len(listed))
    claimed: dict[Path, str] = {}
    for image in listed:
        where = dataset_path(image.directory_path, image.filename)
        try:
            target = local_path(root, image)
        except UnsafePathError as error:
            plan.failures.append(DownloadFailure(where, str(error)))
            continue
        if target in claimed:
            reason = f"same local file as {claimed[target]} once names are made safe; not written"
            plan.failures.append(DownloadFailure(where, reason))
            continue
        claimed[target] = where
        plan.targets.append((image, target))
    return plan


def run_download(
    client: Client,
    plan: DownloadPlan,
    *,
    max_workers: int = 8,
    progress: DownloadProgress | None = None,
) -> DownloadReport:
    """Fetch every planned image not already current, ``max_workers`` at a time."""
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    report = DownloadReport(
        plan.dataset_name, plan.folder, plan.images_listed, failures=list(plan.failures)
    )
    total, total_bytes = len(plan.targets), plan.total_bytes
    done, bytes_done = 0, 0
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        pending: dict[Future[bool], Image] = {
            pool.submit(_fetch, client, plan.dataset_name, image, target): image
            for image, target in plan.targets
        }
        for future in as_completed(pending):
            image = pending[future]
            try:
                fetched = future.result()
            except (PictographError, OSError, ValueError) as error:
                report.failures.append(
                    DownloadFailure(
                        dataset_path(image.directory_path, image.filename), _reason(error)
                    )
                )
            else:
                report.images_downloaded += fetched
                report.images_skipped += not fetched
            done, bytes_done = done + 1, bytes_done + image.file_size
            if progress is not None:
                progress(done, total, bytes_done, total_bytes)
    return report


def download_dataset(
    client: Client,
    dataset_name: str,
    folder: str | Path,
    *,
    max_workers: int = 8,
    progress: DownloadProgress | None = None,
) -> DownloadReport:
    """Write every image of ``dataset_name`` under ``folder``; see :func:`plan_download`."""
    plan = plan_download(client, dataset_name, folder)
    return run_download(client, plan, max_workers=max_workers, progress=progress)


def _fetch(client: Client, dataset: str, image: Image, target: Path) -> bool:
    """Download one image unless it is already there; True when bytes were fetched."""
    if is_current(target, image):
        return False
    client.images.download(
        dataset, dataset_path(image.directory_path, image.filename).lstrip("/"), target
    )
    if image.sha256 is not None and sha256_of(target) != image.sha256.lower():
        target.unlink(missing_ok=True)
        raise ValueError("downloaded bytes do not match the image's SHA-256; removed")
    return True


def _reason(error: BaseException) -> str:
    if isinstance(error, ApiError):
        return f"{error.message} (HTTP {error.status_code})"
    if isinstance(error, PictographError):
        return error.message
    if isinstance(error, OSError):
        return f"cannot write file: {error.strerror or error}"
    return str(error)
