"""Publication of datasets: publish, approve jointly, unpublish; and the approval rule that
edits apply too.

A dataset's ``version`` advances with every change its publishers must stand behind (an edit,
a new distribution, the prefecture's withdrawal), not with the approvals themselves: each
publisher's approval names the version it approved (``dataset_publisher.approved_version``).
A dataset asked to be published is PUBLISHED while every municipal publisher approved the
current version, and PENDING_APPROVAL (not public) otherwise. The prefecture's own approval,
where it publishes too, is recorded but not waited for.

Once the prefecture has unpublished a dataset (advancing its version), a publisher may ask for
publication again with `publishDataset`: it is public again once every municipal publisher
approved that newer version, so no publisher's approval from before the withdrawal counts.

Every write to a dataset takes its advisory lock first and reads the dataset after it
(`CatalogRepository.lock`), so two publishers approving at once take turns and the second
sees the first's approval.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func

from auth.policy import Action, Scope
from service.database import RequestSession
from service.models.open_data import DatasetStatus
from service.open_data import fields
from service.open_data.repository import (
    IN_PUBLICATION,
    CatalogRepository,
    DatasetState,
    Publisher,
)
from service.writes import Code, Write

PublisherKey = tuple[str, int]


def publication_values(
    status: DatasetStatus, approvals: Mapping[PublisherKey, int | None], version: int
) -> dict[str, Any]:
    """The status of a dataset in publication whose publishers approved ``approvals``:
    PUBLISHED (with ``published_at`` when it becomes so) when every municipal publisher
    approved ``version``, else PENDING_APPROVAL."""
    municipal = [v for (kind, _), v in approvals.items() if kind == "municipality"]
    if all(v == version for v in municipal):
        values: dict[str, Any] = {"status": DatasetStatus.PUBLISHED}
        if status is not DatasetStatus.PUBLISHED:
            values["published_at"] = func.now()
        return values
    return {"status": DatasetStatus.PENDING_APPROVAL}


def after_edit(
    state: DatasetState,
    own: Publisher | None,
    publishers: Iterable[PublisherKey],
    version: int,
) -> dict[str, Any]:
    """The status after an edit to ``version`` of a dataset with ``publishers``: a dataset in
    publication asks again, the editor's approval moving to the new version; others unchanged."""
    if state.status not in IN_PUBLICATION:
        return {}
    approved = {p.key: p.approved_version for p in state.publishers}
    approvals = {key: approved.get(key) for key in publishers}
    if own is not None and own.key in approvals:
        approvals[own.key] = version
    return publication_values(state.status, approvals, version)


async def locked_state(
    write: Write, repository: CatalogRepository, dataset_id: int | None, field: tuple[str, ...]
) -> DatasetState:
    """The dataset as the principal reads it, after its lock; NOT_FOUND when invisible."""
    if dataset_id is None:
        write.fail(field, Code.NOT_FOUND, "no such dataset")
    assert dataset_id is not None
    await repository.lock(dataset_id)
    state = await repository.state(dataset_id)
    if state is None:
        write.fail(field, Code.NOT_FOUND, "no such dataset")
    assert state is not None
    return state


def check_version(write: Write, state: DatasetState, version: int) -> None:
    if state.version != version:
        write.fail(("input", "version"), Code.STALE, f"the dataset is at version {state.version}")


def check_publishable(write: Write, state: DatasetState) -> None:
    """What a public dataset needs (DCAT-AP: a description; something to get)."""
    if state.distributions == 0:
        write.error(("input", "id"), Code.NO_DISTRIBUTION, "add a distribution first")
    if not (state.row.description or "").strip():
        write.error(("input", "id"), Code.DESCRIPTION_MISSING, "describe the dataset first")


class PublicationService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db
        self.repository = CatalogRepository(db)

    async def publish(self, dataset_id: int | None, version: int) -> int:
        """A publisher approves the current version and asks for publication."""
        async with Write(self.db, "publishDataset") as write:
            state, own = await self._approver(write, dataset_id, version)
            if state.status is DatasetStatus.PUBLISHED:
                write.fail(("input", "id"), Code.ALREADY_PUBLISHED)
            if state.status is DatasetStatus.PENDING_APPROVAL and (
                own is None or own.approved_version == version
            ):
                write.fail(
                    ("input", "id"),
                    Code.ALREADY_APPROVED,
                    "publication is asked for: it waits for the other publishers' approval",
                )
            check_publishable(write, state)
            write.check()
            await self._approve(state, own, version)
        return state.id

    async def approve(self, dataset_id: int | None, version: int) -> int:
        """Another publisher of a dataset waiting for approval approves its current version."""
        async with Write(self.db, "approveJointDataset") as write:
            state, own = await self._approver(write, dataset_id, version)
            if state.status is DatasetStatus.PUBLISHED:
                write.fail(("input", "id"), Code.ALREADY_PUBLISHED)
            if state.status is not DatasetStatus.PENDING_APPROVAL:
                write.fail(
                    ("input", "id"),
                    Code.NOT_PENDING_APPROVAL,
                    f"the dataset is {state.status.name}: a publisher publishes it first",
                )
            if own is None:
                write.fail(("input", "id"), Code.FORBIDDEN, "not a publisher of this dataset")
            assert own is not None
            if own.approved_version == version:
                write.fail(("input", "id"), Code.ALREADY_APPROVED)
            check_publishable(write, state)
            write.check()
            await self._approve(state, own, version)
        return state.id

    async def unpublish(self, dataset_id: int | None, version: int, reason: str) -> int:
        """The prefecture withdraws a dataset, with a reason; its version advances, so that
        publishing it again takes every municipal publisher's approval anew."""
        async with Write(self.db, "unpublishDataset") as write:
            state = await locked_state(write, self.repository, dataset_id, ("input", "id"))
            scope = Scope(dataset_municipalities=state.municipalities)
            write.authorize("Dataset", Action.UPDATE, scope, ("input", "id"))
            check_version(write, state, version)
            cleaned = fields.required_text(write, "reason", reason, "why it is withdrawn")
            if state.status not in IN_PUBLICATION:
                write.error(("input", "id"), Code.NOT_PUBLISHED, f"it is {state.status.name}")
            write.check()
            await self.repository.update_dataset(
                state.id,
                {"status": DatasetStatus.UNPUBLISHED, "unpublished_reason": cleaned},
                version=version,
                advance=True,
            )
        return state.id

    async def _approver(
        self, write: Write, dataset_id: int | None, version: int
    ) -> tuple[DatasetState, Publisher | None]:
        """The dataset and the principal's own publisher row, the principal authorized."""
        state = await locked_state(write, self.repository, dataset_id, ("input", "id"))
        scope = Scope(dataset_municipalities=state.municipalities)
        write.authorize("Dataset", Action.UPDATE, scope, ("input", "id"))
        own = state.own(self.db.principal)
        if own is not None:
            write.authorize(
                "DatasetPublisher",
                Action.UPDATE,
                Scope(municipality_id=own.municipality_id),
                ("input", "id"),
            )
        check_version(write, state, version)
        return state, own

    async def _approve(self, state: DatasetState, own: Publisher | None, version: int) -> None:
        approvals = {p.key: p.approved_version for p in state.publishers}
        if own is not None:
            approvals[own.key] = version
        values = publication_values(state.status, approvals, version)
        if state.status is DatasetStatus.UNPUBLISHED:
            values["unpublished_reason"] = None
        await self.repository.update_dataset(state.id, values, version=version, advance=False)
        if own is not None:
            await self.repository.approve(own.id, version, self.db.principal.subject)
