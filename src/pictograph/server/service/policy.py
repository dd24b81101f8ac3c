"""Who may do what: the one table of every API route against the least role that may call it.

Every developer API route is registered through ``api.deps.route``, which looks its rule up here
and refuses to register a route without one, so a route cannot forget its check. The rule is
enforced by one dependency (``api.authorize``) before the route's own code runs; the audit trail
records the calls whose rule says ``audited``. docs/api.md shows this table, generated from the
served OpenAPI document (``x-pictograph-role``), and tests/server/test_authorization.py checks
every route against every role and another organisation.

Roles, as the official API defines them: viewer < annotator < member < admin < owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from pictograph.errors import ForbiddenError

ROLES = ("viewer", "annotator", "member", "admin", "owner")


def rank(role: str) -> int:
    """The role's place in ``ROLES``; -1 for an unknown role (below everyone)."""
    return ROLES.index(role) if role in ROLES else -1


def require(role: str, least: str, action: str) -> None:
    """``ForbiddenError`` unless ``role`` is at least ``least``."""
    if rank(role) < rank(least):
        raise ForbiddenError(f"{action} needs the {least} role or above; this key is {role}")


@dataclass(frozen=True)
class Rule:
    """The least role for a route, what the route does, and whether the audit trail keeps it."""

    role: str
    action: str
    #: Removes or changes data or access: every successful call leaves an audit entry.
    audited: bool = False
    #: A flag (query parameter or JSON body field) that, when true, needs ``elevated_role``.
    elevated_by: str | None = None
    elevated_role: str = "admin"

    def __post_init__(self) -> None:
        assert self.role in ROLES and self.elevated_role in ROLES, self


def _read(action: str) -> Rule:
    return Rule("viewer", action)


def _write(role: str, action: str, **kw: str) -> Rule:
    return Rule(role, action, audited=True, **kw)


def _upload(action: str) -> Rule:
    # Adding images changes nothing that exists; an audit entry per file would drown the trail.
    return Rule("member", action)


_IMAGE = "/images/{dataset}/{image_path:path}"
_BATCH = "/batch/images"
_KEYS = "/api/v1/api-keys"
_VERSIONS = "/datasets/{dataset}/versions"

#: (method, path as the route registers it) -> rule. Paths are relative to the developer API
#: prefix, except the API-key routes, which live at ``/api/v1/api-keys``.
TABLE: dict[tuple[str, str], Rule] = {
    # datasets
    ("GET", "/datasets/"): _read("listing datasets"),
    ("POST", "/datasets/"): _write("member", "creating a dataset"),
    ("GET", "/datasets/{dataset}"): _read("reading a dataset"),
    ("PATCH", "/datasets/{dataset}"): _write("member", "changing a dataset"),
    ("DELETE", "/datasets/{dataset}"): _write("admin", "deleting a dataset"),
    ("POST", "/datasets/{dataset}/archive"): _write("admin", "archiving a dataset"),
    ("POST", "/datasets/{dataset}/unarchive"): _write("admin", "unarchiving a dataset"),
    ("GET", "/datasets/{dataset}/download"): _read("listing a dataset for download"),
    ("GET", "/datasets/{dataset}/classes"): _read("reading a dataset's classes"),
    ("GET", "/datasets/{dataset}/insights"): _read("reading a dataset's health"),
    ("GET", "/datasets/{dataset}/queue/next"): _read("reading a labelling queue"),
    # images
    ("GET", "/images/"): _read("listing images"),
    ("GET", "/images/names-digest"): _read("reading a folder's names digest"),
    ("POST", "/images/upload-url"): _upload("uploading images"),
    ("POST", "/images/register"): _upload("uploading images"),
    ("POST", "/images/bulk-upload-url"): _upload("uploading images"),
    ("POST", "/images/bulk-register"): _upload("uploading images"),
    ("POST", "/images/upload-batch"): _upload("uploading images"),
    ("GET", "/images/{image_id}/metadata"): _read("reading an image"),
    ("GET", f"{_IMAGE}/data-bundle"): _read("downloading an image's data bundle"),
    ("GET", _IMAGE): _read("downloading an image"),
    ("DELETE", _IMAGE): _write("member", "deleting an image", elevated_by="permanent"),
    # An annotator moves an image up to review, never to complete; reviewing is a member's (the
    # official SDK documents "member role or higher" for review), deleting an admin's.
    ("POST", f"{_IMAGE}/submit"): _write("annotator", "submitting an image for review"),
    ("POST", f"{_IMAGE}/review"): _write("member", "reviewing an image"),
    ("POST", f"{_IMAGE}/split"): _write("member", "assigning a split"),
    ("POST", "/images/bulk-tag"): _write("annotator", "tagging images"),
    ("POST", "/images/assign-splits"): _write("member", "assigning splits"),
    # batch operations
    ("PATCH", f"{_BATCH}/update"): _write("member", "changing images"),
    ("POST", f"{_BATCH}/move"): _write("member", "moving images"),
    ("POST", f"{_BATCH}/copy"): _write("member", "copying images"),
    ("POST", f"{_BATCH}/copy-to-dataset"): _write("member", "copying images"),
    ("POST", f"{_BATCH}/delete"): _write("member", "deleting images", elevated_by="permanent"),
    # folders
    ("POST", "/directories/"): _write("member", "creating a folder"),
    ("GET", "/directories/{dataset}/tree"): _read("reading a folder tree"),
    ("GET", "/directories/{dataset}/{directory_path:path}/stats"): _read("reading a folder"),
    ("GET", "/directories/{dataset}"): _read("listing folders"),
    ("PATCH", "/directories/{dataset}/{directory_path:path}/rename"): _write(
        "member", "renaming a folder"
    ),
    ("DELETE", "/directories/{dataset}/{directory_path:path}"): _write(
        "member", "deleting a folder"
    ),
    # labels
    ("GET", "/annotations/{dataset}/{image_path:path}"): _read("reading annotations"),
    ("POST", "/annotations/{dataset}/{image_path:path}"): _write("annotator", "saving annotations"),
    ("DELETE", "/annotations/{dataset}/{image_path:path}"): _write(
        "annotator", "deleting annotations"
    ),
    ("POST", "/annotations/bulk"): _write("member", "saving annotations in bulk"),
    ("POST", "/annotations/rename-class"): _write("member", "renaming a class"),
    ("POST", "/annotations/merge-class"): _write("member", "merging classes"),
    ("POST", "/annotations/delete-class"): _write("member", "deleting a class"),
    # exports
    ("POST", "/exports/"): Rule("member", "creating an export"),
    ("GET", "/exports/"): _read("listing exports"),
    ("POST", "/exports/bulk-delete"): _write("admin", "deleting exports"),
    ("GET", "/exports/{rest:path}"): _read("reading an export"),
    ("DELETE", "/exports/{rest:path}"): _write("admin", "deleting an export"),
    # dataset versions
    ("POST", _VERSIONS): _write("member", "creating a dataset version"),
    ("GET", _VERSIONS): _read("listing dataset versions"),
    ("GET", f"{_VERSIONS}/{{version}}"): _read("reading a dataset version"),
    ("DELETE", f"{_VERSIONS}/{{version}}"): _write("admin", "deleting a dataset version"),
    # jobs: one view of every long job (exports today)
    ("GET", "/jobs/"): _read("listing jobs"),
    ("GET", "/jobs/{job_id}"): _read("reading a job"),
    ("POST", "/jobs/{job_id}/cancel"): _write("member", "cancelling a job"),
    # search
    ("GET", "/search/similar"): _read("searching by similarity"),
    ("GET", "/search/by-tags"): _read("searching by tags"),
    # the trash (deleting into it: the DELETE routes above)
    ("GET", "/trash"): _read("listing the trash"),
    ("POST", "/trash/datasets/{dataset_id}/restore"): _write("admin", "restoring a dataset"),
    ("POST", "/trash/images/{image_id}/restore"): _write("member", "restoring an image"),
    ("DELETE", "/trash/datasets/{dataset_id}"): _write("admin", "purging a dataset"),
    ("DELETE", "/trash/images/{image_id}"): _write("admin", "purging an image"),
    ("GET", "/datasets/{dataset}/split-leaks"): _read("looking for images shared by splits"),
    ("GET", "/datasets/{dataset}/duplicates"): _read("looking for near-duplicate images"),
    # the audit trail
    ("GET", "/audit"): Rule("admin", "reading the audit trail"),
    # organisation and access
    ("GET", "/organizations/me"): _read("reading the organisation"),
    ("PATCH", "/organizations/me"): _write("admin", "changing the organisation"),
    ("GET", "/organizations/members"): _read("listing members"),
    ("PATCH", "/organizations/members/{member_id}"): _write("admin", "changing a member's role"),
    ("DELETE", "/organizations/members/{member_id}"): _write("admin", "removing a member"),
    ("GET", "/organizations/invites"): Rule("admin", "listing invites"),
    ("POST", "/organizations/invites"): _write("admin", "inviting a member"),
    ("DELETE", "/organizations/invites/{invite_id}"): _write("admin", "revoking an invite"),
    ("GET", f"{_KEYS}/"): Rule("admin", "listing API keys"),
    ("POST", f"{_KEYS}/"): _write("admin", "creating an API key"),
    ("GET", f"{_KEYS}/{{key_id}}"): Rule("admin", "reading an API key"),
    ("PATCH", f"{_KEYS}/{{key_id}}"): _write("admin", "changing an API key"),
    ("DELETE", f"{_KEYS}/{{key_id}}"): _write("admin", "deleting an API key"),
}


#: The gallery's own routes: pages and images need a signed-in session (any role); every change
#: made from a page goes through the API routes above with that session, under their rules.
GALLERY = {
    ("GET", "/login"): "anyone (the sign-in form)",
    ("POST", "/login"): "anyone with a valid key, from our own pages",
    ("POST", "/logout"): "a signed-in session, from our own pages",
    ("GET", "/"): "a signed-in session (viewer or above)",
    ("GET", "/datasets/{dataset_id}"): "a signed-in session (viewer or above)",
    ("GET", "/datasets/{dataset_id}/next"): "a signed-in session (viewer or above; a redirect)",
    ("GET", "/images/{image_id}"): "a signed-in session (viewer or above)",
    ("GET", "/images/{image_id}/{thumbnail,preview,file}"): "a signed-in session (viewer or above)",
    ("GET", "/trash"): "a signed-in session (viewer or above); Restore buttons call the API",
    ("GET", "/audit"): "a signed-in session of an admin or owner key",
    ("GET", "/datasets/{dataset_id}/versions/{version}"): "a signed-in session (viewer or above); "
    "a version is read-only",
}

#: Routes authenticated by a signed token in their URL (made by a key allowed to make it).
SIGNED = {
    ("PUT", "/storage/upload/{token}"): "a signed upload URL (made for a member or above)",
    ("POST", "/storage/upload-batch"): "each part's signed upload token (member or above)",
    ("GET", "/storage/blob/{token}"): "a signed download URL (made for a viewer or above)",
    ("GET", "/storage/exports/{token}"): "a signed export URL (made for a viewer or above)",
}


def rule_for(method: str, path: str) -> Rule:
    """The rule of the route ``method path``; ``KeyError`` naming it when the table has none."""
    try:
        return TABLE[(method, path)]
    except KeyError:
        raise KeyError(f"{method} {path} has no entry in the authorisation table") from None
