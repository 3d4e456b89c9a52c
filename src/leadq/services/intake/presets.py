"""Import presets: how the exports of the CRMs people leave map onto leadq's fields.

Each preset is a data file in ``leadq/models/imports`` (columns → fields, the CRM's status
values → leadq's stages, the date formats its exports write), recognised by the columns its
header must hold. ``--preset`` names one; otherwise the most specific preset whose columns are
all in the header is used."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from leadq.domain.documents import safe_load
from leadq.domain.leads import ATTRIBUTE_PREFIX, PROFILE_FIELDS
from leadq.services.errors import ConfigError

STATUS, CREATED_AT = "status", "created_at"
IMPORT_FIELDS = (STATUS, CREATED_AT)
"""Fields only an import fills: the CRM's status (to a stage) and the creation time."""
STAGES = ("iql", "mql", "sal", "sql", "opportunity", "customer", "nurture", "unqualified",
          "disqualified", "recycled")  # fmt: skip
FLAGS = ("do_not_email", "do_not_call")


class Preset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$")
    product: str
    detect: list[str] = Field(min_length=2)
    columns: dict[str, str] = Field(min_length=1)
    stages: dict[str, str] = Field(default_factory=dict)
    dates: list[str] = Field(default_factory=list)

    @field_validator("columns")
    @classmethod
    def _fields(cls, value: dict[str, str]) -> dict[str, str]:
        known = {*PROFILE_FIELDS, *IMPORT_FIELDS, *FLAGS}
        for column, target in value.items():
            if target not in known and not target.startswith(ATTRIBUTE_PREFIX):
                raise ValueError(f"{column!r} maps to unknown field {target!r}")
        return value

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: dict[str, str]) -> dict[str, str]:
        for status, stage in value.items():
            if stage not in STAGES:
                raise ValueError(f"status {status!r} maps to unknown stage {stage!r}")
        return value

    def column_targets(self, header: list[str]) -> dict[str, str]:
        """The field each of the header's columns fills by this preset (case aside: vendors
        change the case of their labels between versions)."""
        folded = {column.casefold(): target for column, target in self.columns.items()}
        return {column: folded[column.casefold()] for column in header
                if column.casefold() in folded}  # fmt: skip

    def fits(self, header: list[str]) -> bool:
        return {c.casefold() for c in self.detect} <= {c.casefold() for c in header}

    def stage_of(self, status: str, overrides: dict[str, str]) -> str | None:
        """The stage a CRM status means (case and spacing aside); None if the table is silent."""
        key = " ".join(status.split()).casefold()
        for table in (overrides, self.stages):
            for known, stage in table.items():
                if " ".join(known.split()).casefold() == key:
                    return stage
        return None

    def created(self, text: str) -> datetime:
        """The creation time as the export writes it (ISO 8601, or the preset's formats);
        a time without a zone is UTC."""
        value = text.strip()
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
            for pattern in self.dates:
                try:
                    moment = datetime.strptime(value, pattern)
                    break
                except ValueError:
                    continue
        if moment is None:
            raise ValueError(f"not a date this export writes: {value!r}")
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


GENERIC = Preset(name="generic", product="leadq's own columns", detect=["-", "-"],
                 columns={"created_at": CREATED_AT}, stages={s: s for s in STAGES},
                 dates=["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"])  # fmt: skip
"""No CRM's export: columns named like leadq's fields, stages by leadq's names."""


@lru_cache(maxsize=1)
def presets() -> dict[str, Preset]:
    """The shipped presets by name."""
    found: dict[str, Preset] = {}
    folder = resources.files("leadq.models") / "imports"
    for file in sorted(folder.iterdir(), key=lambda f: f.name):
        if not file.name.endswith(".yaml"):
            continue
        try:
            preset = Preset.model_validate(safe_load(file.read_text(encoding="utf-8")))
        except (yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"leadq/models/imports/{file.name}", "-", str(exc)) from None
        found[preset.name] = preset
    return found


def detect(header: list[str]) -> Preset | None:
    """The most specific shipped preset whose telltale columns are all in the header."""
    fitting = [p for p in presets().values() if p.fits(header)]
    return max(fitting, key=lambda p: (len(p.detect), p.name), default=None)
