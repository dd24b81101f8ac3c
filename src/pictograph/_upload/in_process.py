"""The embedded client's upload channel: its batches skip the wire, not the service.

An embedded client runs the server app in this process. Encoding a batch as multipart, handing
it to the app's event loop, parsing it back, and encoding a JSON answer to decode again cost
more than checking the files. This channel hands the same files to the very service functions
the batch route calls (``ingest.dataset_id_of``, ``ingest.ingest_into``), under the same rule of
the authorisation table, for the principal every embedded request acts for; every other step
(the pre-flight, names-digest) still goes through the app as a request.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pictograph._transport import Transport
from pictograph._upload.channel import UploadChannel
from pictograph._upload.wire import BatchReceipt, UploadBatch, UploadSlot
from pictograph.protocol import API_PREFIX, MAX_BATCH_BYTES
from pictograph.server.service import ingest, policy
from pictograph.server.service.batch_uploads import API_BATCH_PATH
from pictograph.server.service.keys import Principal
from pictograph.server.service.uploads import UploadTarget

#: The route whose rule (least role) a batch through this channel is held to.
_RULE = policy.rule_for("POST", API_BATCH_PATH.removeprefix(API_PREFIX))


class InProcessChannel(UploadChannel):
    """:class:`UploadChannel` whose files go straight to ``ingest`` in the app's store."""

    def __init__(self, transport: Transport, app: Any) -> None:
        super().__init__(transport)
        self._store = app.state.store
        principal: Principal | None = app.state.local_principal
        if principal is None:  # an app that wants keys is a served one, not ours to bypass
            raise ValueError("the in-process upload channel needs an app without API keys")
        self._principal = principal

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
        """The batch route's service calls, under its rule, for this process's principal."""
        policy.require(self._principal.role, _RULE.role, _RULE.action)
        dataset_id = ingest.dataset_id_of(self._store, self._principal.organization_id, dataset)
        targets = [
            (UploadTarget(slot.filename, slot.directory_path, mime), data)
            for slot, data, mime in files
        ]
        outcomes = ingest.ingest_into(self._store, dataset_id, targets)
        return [BatchReceipt.model_validate(ingest.receipt(outcome)) for outcome in outcomes]
