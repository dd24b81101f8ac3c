"""Multi-step jobs built only on the public client resources."""

from pictograph.workflows.folder_plan import FolderPlan, PlannedFile, PlanProblem, plan_folder
from pictograph.workflows.upload import (
    UploadFailure,
    UploadReport,
    upload_dataset_from_folder,
    upload_folder,
)

__all__ = [
    "FolderPlan",
    "PlanProblem",
    "PlannedFile",
    "UploadFailure",
    "UploadReport",
    "plan_folder",
    "upload_dataset_from_folder",
    "upload_folder",
]
