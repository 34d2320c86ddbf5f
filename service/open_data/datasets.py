"""Datasets and their distributions: create, edit, add a distribution.

A municipality's staff create drafts of their own municipality (its *lead*, publishing first),
optionally jointly with other municipalities (``jointPublishers``); the prefecture's staff
create datasets published by the prefecture and/or by municipalities. An edit (an update, a
new distribution) advances the version; a dataset in publication asks again
(`publication.after_edit`).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from auth.policy import Action, Scope
from auth.principal import Role
from service.database import RequestSession
from service.geography.codes import is_valid_code
from service.models.open_data import DatasetStatus
from service.open_data import fields
from service.open_data.fields import DatasetFields, DistributionFields, field
from service.open_data.publication import (
    PublisherKey,
    after_edit,
    check_version,
    locked_state,
)
from service.open_data.repository import IN_PUBLICATION, CatalogRepository, DatasetState
from service.writes import Code, Write, refusals

DEFAULT_LICENSE = "CC-BY-4.0"

refusals(
    {
        "uq_dataset_identifier": (
            ("input", "identifier"),
            Code.CONFLICT,
            "a dataset with this identifier exists already: give another",
        ),
        # The service drops repeated publishers; the dataset's lock keeps edits apart.
        "uq_dataset_publisher_dataset_id_municipality_id_prefecture_id": (
            ("input", "jointPublishers"),
            Code.CONFLICT,
            "the publisher publishes the dataset already",
        ),
    }
)


class DatasetService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db
        self.repository = CatalogRepository(db)

    async def create(self, given: DatasetFields) -> int:
        async with Write(self.db, "createDataset") as write:
            principal = self.db.principal
            lead = principal.municipality_id if principal.role is Role.municipal_staff else None
            write.authorize("Dataset", Action.INSERT, Scope(municipality_id=lead))
            write.authorize(
                "DatasetPublisher",
                Action.INSERT,
                Scope(dataset_municipalities=frozenset({lead} - {None})),
            )
            values = await self._values(write, given.given(), None)
            publishers, code = await self._publishers(write, given.joint_publishers, lead, ())
            if not publishers:
                prefectures = await self.repository.prefectures()
                if len(prefectures) != 1:
                    write.fail(
                        field("joint_publishers"), Code.REQUIRED, "name the publishers' codes"
                    )
                (code, prefecture_id), *_ = prefectures.items()
                publishers = [("prefecture", prefecture_id)]
            if given.identifier is fields.UNSET or given.identifier is None:
                # <code>-<slug of the title>, or <code>-<uuid> for a title with no ASCII words.
                name = fields.slug(values.get("title") or "") or uuid.uuid4().hex
                identifier = f"{code or 'dataset'}-{name}"
            else:
                found = len(write.errors)
                identifier = fields.identifier(write, given.identifier)
                # Identifiers are the lead publisher's own namespace, so a clash is always with
                # a dataset the caller may read: the error never tells of another's draft.
                well_formed = len(write.errors) == found
                if well_formed and code is not None and not identifier.startswith(f"{code}-"):
                    write.error(
                        fields.field("identifier"),
                        Code.INVALID,
                        f"must start with the lead publisher's code: {code}-",
                    )
            write.check()
            dataset_id = await self.repository.insert_dataset(
                {
                    **values,
                    "identifier": identifier,
                    "status": DatasetStatus.DRAFT,
                    "lead_municipality_id": lead,
                }
            )
            await self.repository.insert_publishers(
                dataset_id,
                [{f"{kind}_id": key, "position": i} for i, (kind, key) in enumerate(publishers)],
            )
        return dataset_id

    async def update(self, dataset_id: int | None, version: int, given: DatasetFields) -> int:
        async with Write(self.db, "updateDataset") as write:
            state = await locked_state(write, self.repository, dataset_id, ("input", "id"))
            scope = Scope(dataset_municipalities=state.municipalities)
            write.authorize("Dataset", Action.UPDATE, scope, ("input", "id"))
            check_version(write, state, version)
            changes = given.given()
            values = await self._values(write, changes, state)
            if (
                state.status in IN_PUBLICATION
                and "description" in values
                and values["description"] is None
            ):
                write.error(
                    field("description"),
                    Code.DESCRIPTION_MISSING,
                    "a dataset in publication keeps its description",
                )
            current = [p.key for p in state.publishers]
            publishers = current
            if "joint_publishers" in changes:
                publishers = await self._new_publishers(write, state, changes["joint_publishers"])
            own = state.own(self.db.principal)
            moves_approval = (
                own is not None and own.key in publishers and state.status in IN_PUBLICATION
            )
            for action, needed in (
                (Action.INSERT, set(publishers) - set(current)),
                (Action.DELETE, set(current) - set(publishers)),
                # Positions follow the list; the editor's approval moves with its edit.
                (Action.UPDATE, publishers != current or moves_approval),
            ):
                if needed:
                    write.authorize("DatasetPublisher", action, scope, field("joint_publishers"))
            write.check()
            new_version = version + 1
            await self.repository.update_dataset(
                state.id,
                {**values, **after_edit(state, own, publishers, new_version)},
                version=version,
                advance=True,
            )
            if publishers != current:
                await self._replace_publishers(state, publishers)
            if moves_approval:
                assert own is not None
                await self.repository.approve(own.id, new_version, self.db.principal.subject)
        return state.id

    async def add_distribution(
        self, dataset_id: int | None, version: int, given: DistributionFields
    ) -> tuple[int, int]:
        """Add a distribution (an edit of its dataset); the distribution's and dataset's ids."""
        async with Write(self.db, "addDistribution") as write:
            where = ("input", "datasetId")
            state = await locked_state(write, self.repository, dataset_id, where)
            scope = Scope(dataset_municipalities=state.municipalities)
            write.authorize("Dataset", Action.UPDATE, scope, where)
            write.authorize("Distribution", Action.INSERT, scope, where)
            own = state.own(self.db.principal)
            asks_again = own is not None and state.status in IN_PUBLICATION
            if asks_again:
                assert own is not None
                write.authorize(
                    "DatasetPublisher",
                    Action.UPDATE,
                    Scope(municipality_id=own.municipality_id),
                    where,
                )
            check_version(write, state, version)
            values = await self._distribution(write, state, given)
            write.check()
            new_version = version + 1
            publishers = [p.key for p in state.publishers]
            await self.repository.update_dataset(
                state.id,
                after_edit(state, own, publishers, new_version),
                version=version,
                advance=True,
                field=where,
            )
            distribution_id = await self.repository.insert_distribution(
                {"dataset_id": state.id, "position": state.next_position, **values}
            )
            if asks_again:
                assert own is not None
                await self.repository.approve(own.id, new_version, self.db.principal.subject)
        return distribution_id, state.id

    # --- fields --------------------------------------------------------------------------

    async def _values(
        self, write: Write, given: dict[str, Any], current: DatasetState | None
    ) -> dict[str, Any]:
        """The dataset's columns ``given`` sets, checked (``current``: the dataset updated)."""
        creating = current is None
        values: dict[str, Any] = {}
        if creating or "title" in given:
            values["title"] = fields.required_text(
                write, "title", given.get("title"), "the dataset's title"
            )
        for name in ("description", "contact_name"):
            if name in given:
                values[name] = fields.text(write, name, given[name])
        if "keywords" in given:
            values["keywords"] = fields.words(write, "keywords", given["keywords"], limit="keyword")
        if "themes" in given:
            themes = fields.words(write, "themes", given["themes"], limit="keyword")
            themes = [theme.upper() for theme in themes]
            values["themes"] = fields.listed(
                write, "themes", themes, await self.repository.themes(), "a data theme"
            )
        if "license" in given or creating:
            values["license"] = await self._license(write, given.get("license"), creating)
        if "update_frequency" in given:
            values["update_frequency"] = fields.frequency(write, given["update_frequency"])
        for name in ("issued_on", "modified_on"):
            if name in given:
                values[name] = fields.day(write, name, given[name])
        if "contact_email" in given:
            values["contact_email"] = fields.email(write, given["contact_email"])
        for name in ("contact_url", "landing_page"):
            if name in given:
                values[name] = fields.url(write, name, given[name])
        if "spatial" in given:
            values["spatial"] = await self._spatial(write, given["spatial"])
        if "standard_dataset" in given:
            values["standard_dataset_id"] = await self._standard(write, given["standard_dataset"])

        def now_or_then(name: str) -> date | None:
            if name in values or current is None:
                return values.get(name)
            return current.row._mapping[name]

        fields.issued_before_modified(write, now_or_then("issued_on"), now_or_then("modified_on"))
        return values

    async def _license(self, write: Write, value: str | None, creating: bool) -> str | None:
        if value is None or not value.strip():
            if creating:
                return DEFAULT_LICENSE
            write.error(field("license"), Code.REQUIRED, "a license, e.g. CC-BY-4.0")
            return None
        value = value.strip()
        known = await self.repository.licenses()
        if value not in known:
            write.error(field("license"), Code.NOT_IN_LIST, "one of " + ", ".join(sorted(known)))
        return value

    async def _spatial(self, write: Write, values: list[str] | None) -> list[str]:
        raw = [v.strip() for v in values or []]
        valid = [v for v in raw if is_valid_code(v)]
        known = set(await self.repository.municipalities(valid)) | set(
            await self.repository.prefectures(valid)
        )
        out: list[str] = []
        for i, code in enumerate(raw):
            if not is_valid_code(code):
                write.error(field("spatial", str(i)), Code.INVALID, _NOT_A_CODE.format(code))
            elif code not in known:
                write.error(field("spatial", str(i)), Code.NOT_FOUND, _NO_SUCH.format(code))
            elif code not in out:
                out.append(code)
        return out

    async def _standard(self, write: Write, key: str | None) -> int | None:
        if key is None or not key.strip():
            return None
        found = await self.repository.standard_dataset_id(key.strip().upper())
        if found is None:
            write.error(
                field("standard_dataset"),
                Code.NOT_IN_LIST,
                f"{key!r} is not a standard dataset's number (A-01 ... , see standardDatasets)",
            )
        return found

    async def _distribution(
        self, write: Write, state: DatasetState, given: DistributionFields
    ) -> dict[str, Any]:
        checksum, algorithm = fields.checksum(write, given.checksum, given.checksum_algorithm)
        if given.byte_size is not None and given.byte_size < 0:
            write.error(field("byte_size"), Code.INVALID, "a size in bytes, at least 0")
        columns = fields.words(write, "columns", given.columns, limit="column")
        standard = state.row.standard_dataset_id
        if columns and standard is not None:
            present = {fields.column_key(c) for c in columns}
            for name in await self.repository.required_columns(standard):
                if fields.column_key(name) not in present:
                    write.error(
                        field("columns"),
                        Code.MISSING_COLUMN,
                        f"the standard dataset requires the column {name}",
                    )
        return {
            "title": fields.text(write, "title", given.title),
            "access_url": fields.url(write, "access_url", given.access_url, required=True),
            "download_url": fields.url(write, "download_url", given.download_url),
            "media_type": fields.media_type(write, given.media_type),
            "format": fields.text(write, "format", given.format),
            "byte_size": given.byte_size,
            "checksum": checksum,
            "checksum_algorithm": algorithm,
            "columns": columns,
        }

    # --- publishers ----------------------------------------------------------------------

    async def _publishers(
        self,
        write: Write,
        codes: list[str] | None,
        lead: int | None,
        kept: tuple[PublisherKey, ...],
    ) -> tuple[list[PublisherKey], str | None]:
        """The publishers: the lead municipality first, then those ``codes`` name (the
        prefecture only for the prefecture's staff), then ``kept``; and the first one's code."""
        admin = self.db.principal.role is Role.prefecture_admin
        raw = [c.strip() for c in codes or []] if codes is not fields.UNSET else []
        valid = [c for c in raw if is_valid_code(c)]
        municipalities = await self.repository.municipalities(valid)
        prefectures = await self.repository.prefectures(valid)
        keys: list[PublisherKey] = []
        first_code = None
        if lead is not None:
            keys.append(("municipality", lead))
            first_code = self.db.principal.municipality_code
        for i, code in enumerate(raw):
            where = field("joint_publishers", str(i))
            if not is_valid_code(code):
                write.error(where, Code.INVALID, _NOT_A_CODE.format(code))
                continue
            if code in municipalities:
                key: PublisherKey = ("municipality", municipalities[code])
            elif code in prefectures and admin:
                key = ("prefecture", prefectures[code])
            elif code in prefectures:
                write.error(
                    where,
                    Code.INVALID,
                    "a municipality's code: only the prefecture's staff name the prefecture",
                )
                continue
            else:
                write.error(where, Code.NOT_FOUND, _NO_SUCH.format(code))
                continue
            if key not in keys:
                keys.append(key)
                first_code = first_code or code
        keys += [key for key in kept if key not in keys]
        return keys, first_code

    async def _new_publishers(
        self, write: Write, state: DatasetState, codes: list[str] | None
    ) -> list[PublisherKey]:
        """The publishers once ``codes`` replace those besides the lead. The prefecture's
        staff may name the prefecture; a municipality's staff keep it as it is, and their own
        municipality (another publisher may take it off)."""
        principal = self.db.principal
        kept: tuple[PublisherKey, ...] = ()
        if principal.role is not Role.prefecture_admin:
            kept = tuple(p.key for p in state.publishers if p.prefecture_id is not None)
        keys, _ = await self._publishers(write, codes, state.row.lead_municipality_id, kept)
        if not keys:
            write.error(field("joint_publishers"), Code.REQUIRED, "a dataset needs a publisher")
        own = state.own(principal)
        if principal.role is Role.municipal_staff and own is not None and own.key not in keys:
            write.error(
                field("joint_publishers"),
                Code.INVALID,
                "the list keeps your own municipality: another publisher may take it off",
            )
        return keys

    async def _replace_publishers(self, state: DatasetState, keys: list[PublisherKey]) -> None:
        current = {p.key: p for p in state.publishers}
        await self.repository.delete_publishers(
            [p.id for key, p in current.items() if key not in keys]
        )
        new = []
        for position, key in enumerate(keys):
            publisher = current.get(key)
            if publisher is None:
                new.append({f"{key[0]}_id": key[1], "position": position})
            elif publisher.position != position:
                await self.repository.update_publisher(publisher.id, {"position": position})
        await self.repository.insert_publishers(state.id, new)


_NO_SUCH = "no municipality or prefecture has the code {}"
_NOT_A_CODE = "{!r} is not a local government code (6 digits with a check digit)"
