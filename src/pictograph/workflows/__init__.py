"""Multi-step jobs built only on the public client resources."""

from pictograph._upload.folder_plan import FolderPlan, PlannedFile, PlanProblem, plan_folder
from pictograph.workflows.download import (
    DownloadFailure,
    DownloadPlan,
    DownloadReport,
    download_dataset,
    plan_download,
    run_download,
)
from pictograph.workflows.upload import (
    UploadFailure,
    UploadInterrupted,
    UploadReport,
    upload_dataset_from_folder,
    upload_folder,
)

__all__ = [
    "DownloadFailure",
    "DownloadPlan",
    "DownloadReport",
    "FolderPlan",
    "PlanProblem",
    "PlannedFile",
    "UploadFailure",
    "UploadInterrupted",
    "UploadReport",
    "download_dataset",
    "plan_download",
    "plan_folder",
    "run_download",
    "upload_dataset_from_folder",
    "upload_folder",
]
