"""The qualification documents in force: the lifecycle rules and the framework question sets,
from the shipped files or the ones the operator configured (``LEADQ_LIFECYCLE_FILE``,
``LEADQ_FRAMEWORKS_DIR``). Loaded once per process; a bad document is refused at start with
the file, the path inside it and the reason."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from leadq.config import get_settings
from leadq.domain.documents import DocumentError
from leadq.domain.frameworks import Framework, parse_framework
from leadq.domain.lifecycle import Lifecycle, parse_lifecycle
from leadq.services.errors import ConfigError

SHIPPED = resources.files("leadq.models")


@dataclass(frozen=True)
class Rules:
    lifecycle: Lifecycle
    frameworks: dict[str, Framework]

    @property
    def labels(self) -> dict[str, dict[str, str]]:
        """What the lifecycle and the frameworks call their ids, per language; a framework's
        ids under its name (``bant.budget``), as two frameworks may ask about a budget in
        their own words."""
        merged = {key: dict(texts) for key, texts in self.lifecycle.labels.items()}
        for framework in self.frameworks.values():
            for key, texts in framework.labels.items():
                merged[key if key == framework.name else f"{framework.name}.{key}"] = dict(texts)
        return merged


def read_document(source: Traversable | Path, name: str) -> str:
    """A configuration file's text; ``ConfigError`` naming it when it cannot be read."""
    try:
        return source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, "-", f"cannot read: {exc}") from None


def _framework_files(folder: Path | None) -> list[tuple[Traversable | Path, str]]:
    shipped = sorted((SHIPPED / "frameworks").iterdir(), key=lambda f: f.name)
    files: list[tuple[Traversable | Path, str]] = [
        (f, f"leadq/models/frameworks/{f.name}") for f in shipped if f.name.endswith(".yaml")
    ]
    if folder is not None:
        if not folder.is_dir():
            raise ConfigError(str(folder), "-", "not a folder of framework YAML files")
        files += [(f, str(f)) for f in sorted(folder.glob("*.y*ml"))]
    return files


@lru_cache(maxsize=64)
def _framework(text: str, name: str) -> Framework:
    """A document parsed once a process for each text it has (the parsed ones are frozen):
    every app parses its rules, and the test suite makes an app a test."""
    return parse_framework(text, name)


@lru_cache(maxsize=16)
def _lifecycle(text: str, name: str) -> Lifecycle:
    """As ``_framework``."""
    return parse_lifecycle(text, name)


def load_rules(lifecycle_file: Path | None = None, frameworks_dir: Path | None = None) -> Rules:
    """Parse and cross-check the documents; ``ConfigError`` names what is wrong and where."""
    try:
        frameworks: dict[str, Framework] = {}
        for source, name in _framework_files(frameworks_dir):
            framework = _framework(read_document(source, name), name)
            frameworks[framework.name] = framework
        name = str(lifecycle_file) if lifecycle_file else "leadq/models/lifecycle.yaml"
        lifecycle = _lifecycle(
            read_document(lifecycle_file or SHIPPED / "lifecycle.yaml", name), name
        )
    except DocumentError as exc:
        raise ConfigError(exc.file, exc.path, exc.reason) from None
    for rule in lifecycle.all_rules():
        for part in rule.when.parts():
            if part.framework and part.framework.name and part.framework.name not in frameworks:
                raise ConfigError(name, f"rules[{rule.id}].when.framework.name",
                                  f"unknown framework {part.framework.name!r}")  # fmt: skip
    return Rules(lifecycle, frameworks)


@lru_cache(maxsize=4)
def _cached(lifecycle_file: Path | None, frameworks_dir: Path | None) -> Rules:
    return load_rules(lifecycle_file, frameworks_dir)


def current_rules() -> Rules:
    """The documents this process was configured with."""
    settings = get_settings()
    return _cached(settings.lifecycle_file, settings.frameworks_dir)
