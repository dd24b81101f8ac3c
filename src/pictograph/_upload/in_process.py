"""The embedded client's upload channel: its batches skip the wire, not the service.

An embedded client runs the server in this process. Encoding a batch as multipart, handing
it to the app's event loop, parsing it back, and encoding a JSON answer to decode again cost
more than checking the files. This channel hands the same files to the very service functions
the batch route calls (``ingest.dataset_id_of``, ``ingest.ingest_into``), under the same rule of
the authorisation table, for the principal every embedded request acts for. The dataset lookup
and the names-digest likewise call what their routes call (``datasets.get_dataset``,
``uploads.names_digest``) under their rules, without the app: a re-run of an unchanged folder
never builds it (``server.embedded``). Every other step (the pre-flight, PUTs of big files)
still goes through the app as a request, and a batch builds the app before storing anything,
so its descriptor worker hears of every image stored.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pictograph._embedded import EmbeddedTransport
from pictograph._transport import Transport
from pictograph._upload.channel import UploadChannel, folder_digest_of
from pictograph._upload.wire import BatchReceipt, FolderDigest, UploadBatch, UploadSlot
from pictograph.models import Dataset
from pictograph.protocol import API_PREFIX, MAX_BATCH_BYTES
from pictograph.server.embedded import EmbeddedServer
from pictograph.server.service import datasets, ingest, policy, uploads
from pictograph.server.service.batch_uploads import API_BATCH_PATH
from pictograph.server.service.uploads import UploadTarget

#: The routes whose rules (least role) the steps of this channel are held to.
_RULE = policy.rule_for("POST", API_BATCH_PATH.removeprefix(API_PREFIX))
_DATASET_RULE = policy.rule_for("GET", "/datasets/{dataset}")
_DIGEST_RULE = policy.rule_for("GET", "/images/names-digest")


class InProcessChannel(UploadChannel):
    """:class:`UploadChannel` whose files go straight to ``ingest`` in the embedded store."""

    def __init__(self, transport: Transport, embedded: EmbeddedTransport) -> None:
        super().__init__(transport)
        server: EmbeddedServer = embedded.service
        if server.principal is None:  # a server that wants keys is a served one, not ours
            raise ValueError("the in-process upload channel needs a server without API keys")
        self._embedded = embedded
        self._store = server.store
        self._principal = server.principal

    def dataset(self, name: str) -> Dataset:
        """What the ``GET $P/datasets/{dataset}`` route answers, from the service it calls."""
        policy.require(self._principal.role, _DATASET_RULE.role, _DATASET_RULE.action)
        return datasets.get_dataset(self._store, self._principal.organization_id, name)

    def folder_digest(self, dataset: str) -> FolderDigest:
        """What the ``GET $P/images/names-digest`` route answers, from the service it calls."""
        policy.require(self._principal.role, _DIGEST_RULE.role, _DIGEST_RULE.action)
        organization = self._principal.organization_id
        return folder_digest_of(uploads.names_digest(self._store, organization, dataset))

    def send_batch(
        self, dataset: str, batch: UploadBatch, files: Sequence[tuple[UploadSlot, bytes, str]]
    ) -> list[BatchReceipt]:
        """What :meth:`UploadChannel.send_batch` answers, from ``ingest`` called here (the
        batch's limits were applied when the files were grouped; no URL is needed)."""
        return self._ingest(dataset, files)

    def send_file(self, dataset: str, slot: UploadSlot, path: Path, content_type: str) -> None:
        """A file within a batch's byte cap goes to ``ingest`` alone; a bigger one streams
        through the app's PUT route, never wholly in memory."""
        if os.path.getsize(path) > MAX_BATCH_BYTES:
            super().send_file(dataset, slot, path, content_type)
            return
        receipt = self._ingest(dataset, [(slot, Path(path).read_bytes(), content_type)])
        if (error := receipt[0].failure()) is not None:
            raise error

    def _ingest(
        self, dataset: str, files: Sequence[tuple[UploadSlot, bytes, str]]
    ) -> list[BatchReceipt]:
        """The batch route's service calls, under its rule, for this process's principal (the
        app built first: its descriptor worker is told of the images stored)."""
        self._embedded.app()
        policy.require(self._principal.role, _RULE.role, _RULE.action)
        dataset_id = ingest.dataset_id_of(self._store, self._principal.organization_id, dataset)
        targets = [
            (UploadTarget(slot.filename, slot.directory_path, mime), data)
            for slot, data, mime in files
        ]
        outcomes = ingest.ingest_into(self._store, dataset_id, targets)
        return [BatchReceipt.model_validate(ingest.receipt(outcome)) for outcome in outcomes]
