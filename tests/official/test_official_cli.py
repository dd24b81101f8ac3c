"""The official command line (``pictograph[cli]==1.69.146``), unmodified, against ``serve``:
every command of datasets, images, directories, annotations, classes, exports, search,
organizations, jobs and api-keys, checking what comes back.
Commands left out are listed in docs/compatibility.md with the reason."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

from tests.images import make_image
from tests.official.test_official_sdk import OFFICIAL_PYTHON
from tests.served import serve

OFFICIAL_CLI = OFFICIAL_PYTHON.parent / "pictograph"


class Cli:
    def __init__(self, base_url: str, key: str, work: Path) -> None:
        self.work = work
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work / "home"),
                    "COLUMNS": "200", "PICTOGRAPH_BASE_URL": base_url,
                    "PICTOGRAPH_API_KEY": key}  # fmt: skip

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [str(OFFICIAL_CLI), *args], env=self.env, cwd=self.work, capture_output=True,
            text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, (
            f"pictograph {' '.join(args)}:\n{result.stdout}{result.stderr}"
        )
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args))


def test_every_command_of_the_official_cli_works_against_pictograph_serve(tmp_path: Path) -> None:
    assert OFFICIAL_CLI.exists(), (
        "run `make install`: it installs pictograph[cli] in .venv-official"
    )
    home = tmp_path / "server"
    with serve(home, f"sqlite:///{home}/pictograph.db") as served:
        cli = Cli(served.base_url, served.create_key("acme"), tmp_path)
        _datasets_and_images(cli, tmp_path)
        _labels_exports_and_jobs(cli, tmp_path)
        _organisation_and_keys(cli)


def _datasets_and_images(cli: Cli, tmp: Path) -> None:
    folder = tmp / "photos"
    for name in ("a.png", "b.png", "stop/c.png"):
        make_image(folder / name, size=(64, 48))
    assert cli.json("datasets", "create", "roads", "--description", "d")["name"] == "roads"
    assert [d["name"] for d in cli.json("datasets", "list", "--json")] == ["roads"]
    assert cli.json("datasets", "get", "roads")["description"] == "d"
    assert cli.json("datasets", "update", "roads", "--description", "e")["description"] == "e"
    assert cli.json("images", "upload-directory", "roads", str(folder))["images_uploaded"] == 3
    extra = make_image(tmp / "one.png", size=(20, 10))
    assert cli.json("images", "upload", "roads", str(extra), "--directory", "/one")["width"] == 20
    assert (
        cli.json("images", "bulk-upload", "roads", str(extra), "--directory", "/bulk")["count"] == 1
    )
    listed = {i["filename"]: i for i in cli.json("images", "list", "roads", "--directory", "/")}
    assert set(listed) == {"a.png", "b.png"}
    assert cli.json("images", "get", "roads", "stop/c.png")["directory_path"] == "/stop"
    cli.run("images", "download", "roads", "stop/c.png", "--output", str(tmp / "c.png"))
    assert Image.open(tmp / "c.png").size == (64, 48)
    cli.run("images", "download-bundle", "roads", "stop/c.png", "--output", str(tmp / "c.zip"))
    with zipfile.ZipFile(tmp / "c.zip") as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        assert Image.open(bundle.open("image/c.png")).size == (64, 48)
    assert manifest["image"]["directory_path"] == "/stop"
    assert [m["item"] for m in manifest["omitted"]] == ["depth_map"]

    health = cli.json("datasets", "insights", "roads", "--json")
    assert health["total_images"] == 5

    ids = [listed["a.png"]["id"], listed["b.png"]["id"]]
    tagging = cli.json("images", "tag", "roads", *ids, "--tag", "red")
    assert (tagging["processed"], tagging["added"]) == (2, True)
    assert cli.json("images", "review", "roads", "a.png")["status"] == "complete"
    assert cli.json("images", "split", "roads", "a.png", "train")["split"] == "train"
    cli.run("images", "rebalance", "roads", "--train", "80", "--val", "20", "--test", "0")
    cli.run("images", "set-status", "roads", "--to", "annotate", "--images", ids[1])
    assert cli.json("images", "get", "roads", "b.png")["status"] == "annotate"
    cli.run("images", "copy", "roads", "--to", "/copies", "--images", ids[0])
    cli.run("images", "move", "roads", "--to", "/copies", "--images", ids[0])
    moved = {i["filename"] for i in cli.json("images", "list", "roads", "--directory", "/copies")}
    assert moved == {"a.png", "a-1.png"}  # the move onto a taken name renamed, as documented
    cli.run("images", "archive", "roads", "--images", ids[1], "--yes")
    assert cli.json("images", "get", "roads", ids[1])["is_archived"] is True
    cli.run("images", "restore", "roads", "--all")
    assert cli.json("images", "get", "roads", ids[1])["is_archived"] is False
    assert cli.json("images", "delete", "roads", "one/one.png", "--yes", "--json")["deleted"]

    assert "/stop" in {d["full_path"] for d in cli.json("directories", "list", "roads", "--json")}
    cli.run("directories", "tree", "roads")
    assert cli.json("directories", "stats", "roads", "/stop")["total_images"] == 1
    cli.run("directories", "create", "roads", "/x/y")
    cli.run("directories", "rename", "roads", "/x/y", "z")
    cli.run("directories", "delete", "roads", "/x/z", "--yes")
    assert "/x/z" not in {
        d["full_path"] for d in cli.json("directories", "list", "roads", "--json")
    }
    cli.run("datasets", "archive", "roads")
    cli.run("datasets", "unarchive", "roads")
    cli.run("datasets", "download", "roads", "--output", str(tmp / "dl"))
    assert Image.open(tmp / "dl" / "b.png").size == (64, 48)


def _labels_exports_and_jobs(cli: Cli, tmp: Path) -> None:
    cli.run("classes", "add", "roads", "sign", "--type", "bbox")
    cli.run("classes", "add", "roads", "car", "--type", "bbox")
    assert {c["name"] for c in cli.json("classes", "list", "roads", "--json")} == {"sign", "car"}
    # A class is its name and its type: "car" the polygon beside "car" the box (it was a 422).
    cli.run("classes", "add", "roads", "car", "--type", "polygon")
    cli.run("classes", "update", "roads", "car", "--type", "polygon", "--color", "#e6194b")
    kinds = {(c["name"], c["type"]): c for c in cli.json("classes", "list", "roads", "--json")}
    assert kinds[("car", "polygon")]["color"] == "#e6194b"
    assert kinds[("car", "box")].get("color") != "#e6194b"
    cli.run("classes", "remove", "roads", "car", "--type", "polygon", "--yes")
    listed = cli.json("classes", "list", "roads", "--json")
    assert {(c["name"], c["type"]) for c in listed} == {("sign", "box"), ("car", "box")}
    box = {"type": "bbox", "name": "sign", "bounding_box": {"x": 1, "y": 2, "w": 10, "h": 5}}
    (tmp / "ann.json").write_text(json.dumps([box]))
    cli.run("annotations", "save", "roads", "b.png", "--file", str(tmp / "ann.json"))
    saved = cli.json("annotations", "get", "roads", "b.png")
    assert [(a["name"], a["bounding_box"]) for a in saved] == [("sign", box["bounding_box"])]
    c_id = cli.json("images", "get", "roads", "stop/c.png")["id"]
    (tmp / "bulk.json").write_text(json.dumps({c_id: [box]}))
    cli.run("annotations", "bulk-save", "--file", str(tmp / "bulk.json"))
    assert len(cli.json("annotations", "get", "roads", "stop/c.png")) == 1
    cli.run("annotations", "rename-class", "roads", "sign", "stop-sign", "--yes")
    cli.run("annotations", "merge-class", "roads", "stop-sign", "car", "--yes")
    assert cli.json("annotations", "get", "roads", "b.png")[0]["name"] == "car"
    health = cli.json("datasets", "insights", "roads", "--json")
    assert health["class_annotation_counts"] == {"car": 2}

    export = cli.json("exports", "create", "roads", "--name", "v1", "--format", "coco")
    assert export["status"] == "completed"
    assert [e["name"] for e in cli.json("exports", "list", "--json")] == ["v1"]
    assert cli.json("exports", "get", "roads", "v1")["id"] == export["id"]
    assert cli.json("exports", "get-by-id", export["id"])["name"] == "v1"
    cli.run("exports", "download", "roads", "v1", "--output", str(tmp / "v1.zip"))
    cli.run("exports", "download-by-id", export["id"], "--output", str(tmp / "v1b.zip"))
    with zipfile.ZipFile(tmp / "v1.zip") as archive:
        coco = json.loads(archive.read("annotations.json"))
    assert [c["name"] for c in coco["categories"]] == ["car"] and len(coco["annotations"]) == 2

    jobs = cli.json("jobs", "list", "--status", "all", "--json")
    assert [(j["id"], j["type"], j["status"]) for j in jobs] == [
        (export["id"], "export", "completed")
    ]
    assert cli.json("jobs", "get", export["id"], "--json")["status"] == "completed"
    assert cli.json("jobs", "wait", export["id"], "--json")["type"] == "export"
    queued = cli.json("exports", "create", "roads", "--name", "v2", "--no-wait")
    cancel = subprocess.run(
        [str(OFFICIAL_CLI), "jobs", "cancel", queued["id"], "--json"], env=cli.env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    final = cli.json("jobs", "get", queued["id"], "--json")
    # The builder may finish first; otherwise the cancel stops it for good.
    assert (cancel.returncode, final["status"]) in ((0, "cancelled"), (6, "completed")), cancel
    cli.run("exports", "delete", "roads", "v1", "--yes")
    cli.run("exports", "bulk-delete", queued["id"], "--yes")
    assert cli.json("exports", "list", "--json") == []

    cli.run("search", "similar", "roads", "stop/c.png", "--json")
    tagged = cli.json("search", "tags", "--object", "red", "--dataset", "roads", "--json")
    # b.png, and a.png's original, moved onto /copies/a.png's name and renamed a-1.png.
    found = sorted((t["virtual_directory_path"], t["filename"]) for t in tagged)
    assert found == [("/", "b.png"), ("/copies", "a-1.png")], tagged
    cli.run("annotations", "delete-class", "roads", "car", "--with-annotations", "--yes")
    cli.run("annotations", "delete", "roads", "b.png", "--yes")
    assert cli.json("annotations", "get", "roads", "b.png") == []


def _organisation_and_keys(cli: Cli) -> None:
    assert cli.json("organizations", "me")["name"] == "acme"
    cli.run("organizations", "update", "--description", "roads team")
    members = cli.json("organizations", "members", "--json")
    assert [m["role"] for m in members] == ["owner"]
    invite = cli.json("organizations", "invite", "a@example.com", "--role", "member")
    assert [i["email"] for i in cli.json("organizations", "invites", "--json")] == ["a@example.com"]
    cli.run("organizations", "invite-revoke", invite["id"], "--yes")
    made = cli.json("api-keys", "create", "ci", "--role", "viewer", "--json")
    assert made["api_key"].startswith("pk_")
    assert cli.json("api-keys", "get", "ci")["role"] == "viewer"
    cli.run("api-keys", "update", "ci", "--name", "ci2")
    assert "ci2" in {k["name"] for k in cli.json("api-keys", "list", "--json")}
    cli.run("api-keys", "revoke", "ci2", "--yes")
