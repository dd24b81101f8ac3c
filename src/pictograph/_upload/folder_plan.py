"""Walking a local folder and mapping each image file to its place in a dataset.

The rules, in one place:

- Files are walked recursively in sorted order; suffixes match case-insensitively (``.JPG``).
- Other files (a suffix that is not an image's: ``.txt``, ``.jfif``) are not uploaded; they are
  listed in ``unsupported`` so a caller can say what it left behind.
- Hidden entries (a name starting with ``.``, which covers ``.DS_Store``,
  ``.ipynb_checkpoints/`` and macOS ``._*`` AppleDouble files) and ``__MACOSX/`` are ignored.
- Symbolic links are followed only while they stay inside the folder being uploaded. A link
  that leads outside it, a broken link, and a link back to a folder already being walked (a
  loop) are not followed, and each is reported as a problem so nothing leaves silently.
- Dataset folder and file names are in NFC (as the server stores them), whatever form the local
  file system uses (macOS: NFD).
- Two files that map to the same dataset path (``stop/a/x.jpg`` and ``stop/b/x.jpg`` both land
  on ``/stop/x.jpg`` with class folders) are not merged: the first in sorted order is planned,
  each later one is a problem naming the file it collides with.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from pictograph.protocol import CONTENT_TYPES, FOLDER_SUFFIXES, dataset_path

IGNORED_DIRECTORY_NAMES = frozenset({"__MACOSX"})
#: Suffix -> content type of the files a folder upload takes.
_FOLDER_TYPES = {suffix: CONTENT_TYPES[suffix] for suffix in FOLDER_SUFFIXES}


class PlannedFile(NamedTuple):
    """One local image file and the dataset folder and filename it uploads to.

    ``local`` is the file's path on disk and ``relative`` its POSIX path under the uploaded
    folder, both plain strings, and the record a named tuple: a folder may hold 50,000 files,
    and its plan is made on every run, re-runs included, so it stays cheap (a frozen
    dataclass cost 3-4 us a file here, a named tuple under 1).
    """

    local: str
    relative: str
    directory_path: str
    filename: str
    content_type: str
    dataset_path: str

    @property
    def path(self) -> Path:
        return Path(self.local)


@dataclass(frozen=True)
class PlanProblem:
    """A local entry that will not be uploaded, and why (reported as a failure)."""

    path: Path
    reason: str


@dataclass
class FolderPlan:
    """What an upload of a folder will do, before anything is sent."""

    root: Path
    files: list[PlannedFile] = field(default_factory=list)
    problems: list[PlanProblem] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)
    unsupported: list[Path] = field(default_factory=list)

    @property
    def unsupported_suffixes(self) -> list[str]:
        """The distinct suffixes of ``unsupported`` files, lower-cased and sorted (``""``: none)."""
        return sorted({_suffix(path.name) for path in self.unsupported})

    @property
    def total(self) -> int:
        """Every file the report accounts for: planned uploads plus problems."""
        return len(self.files) + len(self.problems)

    def class_counts(self) -> dict[str, int]:
        """Planned file count per dataset folder, in folder order."""
        counts: dict[str, int] = {}
        for planned in self.files:
            counts[planned.directory_path] = counts.get(planned.directory_path, 0) + 1
        return dict(sorted(counts.items()))


def directory_for(
    relative: PurePosixPath | tuple[str, ...],
    *,
    organize_by_class: bool,
    preserve_structure: bool = False,
) -> str:
    """The dataset folder (``/`` or ``/a/b``) a file at ``relative`` within the root lands in."""
    parts = relative.parts if isinstance(relative, PurePosixPath) else relative
    parents = parts[:-1]
    if not parents:
        return "/"
    if preserve_structure:
        return "/" + "/".join(parents)
    if organize_by_class:
        return "/" + parents[0]
    return "/"


def plan_folder(
    folder: str | os.PathLike[str],
    *,
    organize_by_class: bool = True,
    preserve_structure: bool = False,
) -> FolderPlan:
    """Walk ``folder`` and plan every upload.

    Raises ``FileNotFoundError`` when ``folder`` does not exist or is not a directory.
    """
    root = Path(folder)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a directory"
        raise FileNotFoundError(f"folder {str(root)!r} {what}")
    plan = FolderPlan(root=root)
    walker = _Walker(root.resolve(), plan)
    walker.walk(str(root), (), {root.resolve()})
    _assign_destinations(plan, walker.found, organize_by_class, preserve_structure)
    return plan


class _Walker:
    """Depth-first walk collecting image files, ignored entries and link problems."""

    def __init__(self, real_root: Path, plan: FolderPlan) -> None:
        self.real_root = real_root
        self.plan = plan
        #: (path, parts under the root, content type) of each image file found.
        self.found: list[tuple[str, tuple[str, ...], str]] = []

    def walk(self, directory: str, parts: tuple[str, ...], ancestors: set[Path]) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as exc:
            problem = PlanProblem(Path(directory), f"cannot list folder: {_why(exc)}")
            self.plan.problems.append(problem)
            return
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name in IGNORED_DIRECTORY_NAMES:
                self.plan.ignored.append(Path(entry.path))
                continue
            self._visit(entry, (*parts, name), ancestors)

    def _visit(self, entry: os.DirEntry[str], parts: tuple[str, ...], ancestors: set[Path]) -> None:
        if entry.is_symlink():
            problem = self._link_problem(Path(entry.path), ancestors)
            if problem:
                if entry.is_dir() or _has_image_suffix(entry.name):
                    self.plan.problems.append(PlanProblem(Path(entry.path), problem))
                return
        if entry.is_dir():
            real = Path(entry.path).resolve()
            self.walk(entry.path, parts, ancestors | {real})
        elif entry.is_file():
            content_type = _FOLDER_TYPES.get(_suffix(entry.name))
            if content_type is not None:
                self.found.append((entry.path, parts, content_type))
            else:
                self.plan.unsupported.append(Path(entry.path))

    def _link_problem(self, path: Path, ancestors: set[Path]) -> str | None:
        target = path.resolve()
        if not target.exists():
            return f"broken symbolic link (points to {os.readlink(path)!s}); not followed"
        if not target.is_relative_to(self.real_root):
            return f"symbolic link points outside the folder (to {target}); not followed"
        if target in ancestors:
            return "symbolic link loops back to a folder above it; not followed"
        return None


def _assign_destinations(
    plan: FolderPlan,
    found: list[tuple[str, tuple[str, ...], str]],
    organize_by_class: bool,
    preserve_structure: bool,
) -> None:
    first_at: dict[str, PlannedFile] = {}
    directories: dict[tuple[str, ...], str] = {}
    for local, raw_parts, content_type in found:
        # Names go to the dataset in NFC, as the server stores them (macOS writes NFD): a re-run
        # then matches the stored names, and "café" in both forms is one name that collides.
        parts = raw_parts if local.isascii() else tuple(_nfc(raw_parts))
        filename, parents = parts[-1], parts[:-1]
        directory = directories.get(parents)
        if directory is None:
            directory = directories[parents] = directory_for(
                parts, organize_by_class=organize_by_class, preserve_structure=preserve_structure
            )
        place = dataset_path(directory, filename)
        earlier = first_at.get(place)
        if earlier is not None:
            reason = (
                f"collides with {earlier.relative}: both map to {place} "
                "in the dataset; rename one of them"
            )
            plan.problems.append(PlanProblem(Path(local), reason))
            continue
        planned = PlannedFile(
            local,
            "/".join(raw_parts),
            directory,
            filename,
            content_type,
            place,
        )
        first_at[place] = planned
        plan.files.append(planned)


def _nfc(parts: tuple[str, ...]) -> Iterator[str]:
    return (unicodedata.normalize("NFC", part) for part in parts)


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _has_image_suffix(name: str) -> bool:
    return _suffix(name) in _FOLDER_TYPES


def _why(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)
