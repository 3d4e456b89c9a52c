"""Every message the code and the templates show is translated in every language's catalogue:
present, not empty, not fuzzy, its placeholders kept, its plural forms all given (Polish,
Romanian and Russian have three). The messages are extracted here the way ``pybabel extract
-F babel.cfg`` does, so a message added without its translations fails this test."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from leadq.i18n import LANGUAGES, catalogue_folder

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "code": ((1, "c"), 2)}
PLURAL_FORMS = {"en": 2, "pl": 3, "ro": 3, "ru": 3}


def _extracted() -> dict[tuple[str | None, str], str]:
    """(context, message id) → where it is used, for every message in the sources."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        methods, options = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    found: dict[tuple[str | None, str], str] = {}
    for file, line, message, _, context in extract_from_dir(ROOT, methods, options, KEYWORDS):
        singular = message[0] if isinstance(message, tuple) else message
        found.setdefault((context, singular), f"{file}:{line}")
    return found


EXTRACTED = _extracted()


def _catalogue(language: str) -> Catalog:
    path = Path(str(catalogue_folder())) / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _filled(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return all(isinstance(s, str) and s.strip() for s in strings)


def test_the_sources_hold_messages_to_translate() -> None:
    assert len(EXTRACTED) > 200  # the web UI, reports, notifications and the codes' labels
    assert (None, "Inbox") in EXTRACTED and ("stage", "mql") not in EXTRACTED


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    catalogue = _catalogue(language)
    missing, empty, fuzzy = [], [], []
    for (context, message_id), where in EXTRACTED.items():
        message = catalogue.get(message_id, context=context)
        if message is None:
            missing.append(f"{message_id!r} ({where})")
        elif message.fuzzy:
            fuzzy.append(message_id)
        elif not _filled(message):
            empty.append(message_id)
    assert not missing, f"{language}: not in the catalogue: {missing[:20]}"
    assert not empty, f"{language}: untranslated: {empty[:20]}"
    assert not fuzzy, f"{language}: fuzzy: {fuzzy[:20]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders_and_plural_forms(language: str) -> None:
    catalogue = _catalogue(language)
    assert catalogue.num_plurals == PLURAL_FORMS[language]
    problems = [f"{message.id!r}: {errors}" for message, errors in catalogue.check() if errors]
    assert not problems, problems[:10]
    for message in catalogue:
        if message.id and isinstance(message.id, tuple) and _filled(message):
            assert len(tuple(message.string or ())) == PLURAL_FORMS[language], message.id


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_a_translation_is_not_the_english_left_in_place(language: str) -> None:
    """Most messages read differently in another language; a catalogue that copies English
    for more than a sixth of them was not translated."""
    catalogue = _catalogue(language)
    same = [m.id for m in catalogue if m.id and not isinstance(m.id, tuple) and m.string == m.id]
    assert len(same) < len(EXTRACTED) / 6, same[:30]


def test_every_code_of_leadqs_own_vocabulary_is_listed_for_the_catalogues() -> None:
    """A new event type, seniority, verdict, purpose, role or trigger cannot be added without
    its label: it must be in ``leadq.i18n.codes``, hence in every catalogue."""
    from leadq.domain.automation import Trigger
    from leadq.domain.consent import Purpose
    from leadq.domain.events import STANDARD_EVENT_TYPES
    from leadq.domain.frameworks import Verdict
    from leadq.domain.leads import PROFILE_FIELDS
    from leadq.domain.seniority import Seniority
    from leadq.i18n.codes import CODES
    from leadq.services.people.users import Role

    listed = set(CODES)
    ours = {
        "event": set(STANDARD_EVENT_TYPES), "seniority": {s.value for s in Seniority},
        "verdict": {v.value for v in Verdict}, "purpose": {p.value for p in Purpose},
        "role": {r.value for r in Role}, "trigger": {t.value for t in Trigger},
        "field": set(PROFILE_FIELDS),
    }  # fmt: skip
    missing = sorted((kind, code) for kind, codes in ours.items() for code in codes
                     if (kind, code) not in listed)  # fmt: skip
    assert not missing


def test_the_shipped_documents_label_their_stages_reasons_and_grades_in_every_language() -> None:
    from leadq.domain.automation import Automation
    from leadq.services.automation.reactions import workspace_labels
    from leadq.services.qualification.rules import load_rules

    rules = load_rules()
    labels = workspace_labels(rules, Automation())
    lifecycle = rules.lifecycle
    ids = {s.value for s in lifecycle.transitions} | {r for rs in lifecycle.reasons.values()
                                                     for r in rs}  # fmt: skip
    ids |= set(lifecycle.rejection) | {"cold", "warm", "hot"}
    ids |= {f"{f.name}.{q.id}" for f in rules.frameworks.values() for q in f.questions}
    unlabelled = sorted(i for i in ids if set(labels.get(i, {})) != set(LANGUAGES))
    assert not unlabelled


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_install_compiled_each_catalogue(language: str) -> None:
    """``pip install`` (editable too) runs setup.py's build step, which writes the ``.mo``
    files the server reads; a missing one means that step did not run."""
    compiled = Path(str(catalogue_folder())) / language / "LC_MESSAGES" / "messages.mo"
    assert compiled.is_file(), "install again (pip install -e .) to compile the catalogues"
    with compiled.open("rb") as handle:
        catalogue = read_mo(handle)
    assert len(catalogue) > 200
