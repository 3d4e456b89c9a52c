"""Plain addresses take a shortcut (their domain checked once per domain): whatever the text,
the shortcut gives exactly what ``email_validator`` reading the whole address gives, the
normalised address or the same refusal. The cases are built to sit on its edges: lengths,
dots, case, IDNA, special-use names, quoting, Unicode that normalises."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from leadq.domain.leads import InvalidContact, _domain, _email, normalise_email

LOCAL_CHARS = "abcXYZ019.!#$%&'*+/=?^_`{|}~-\"@ (),:;<>[\\]ąßé\u0301\u00a0"
SWELLS = "xn--fiq" + "a" * 56
"""63 octets in IDNA ASCII, 57 Chinese characters (171 octets) once normalised."""
LABELS = ["firm", "Example", "com", "pl", "xn--bcher-kva", "xn--zz", "localhost", "local",
          "test", "invalid", "onion", "123", "a-b", "-ab", "ab-", "a_b", "bücher", "ﬁrm", "",
          "a" * 63, "b" * 64, "co", SWELLS]  # fmt: skip


def _outcome(text: str) -> tuple[str, str]:
    try:
        return "stored", normalise_email(text)
    except InvalidContact as exc:
        return "refused", str(exc)


def _reference(text: str) -> tuple[str, str]:
    try:
        return "stored", validate_email(text.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        return "refused", f"not a valid e-mail address: {exc}"


locals_ = st.one_of(
    st.text(LOCAL_CHARS, max_size=12),
    st.builds(lambda n, c: c * n, st.integers(1, 250), st.sampled_from(["a", "é", "a.b"])),
)
domains = st.one_of(
    st.lists(st.sampled_from(LABELS), min_size=1, max_size=6).map(".".join),
    st.lists(st.sampled_from(LABELS), min_size=1, max_size=4).map(lambda ls: ".".join(ls) + "."),
    st.builds(lambda n: ".".join(["d" * 60] * n) + ".com", st.integers(1, 5)),
)
addresses = st.builds(lambda s, local, domain, e: f"{s}{local}@{domain}{e}",
                      st.sampled_from(["", " ", "\t"]), locals_, domains,
                      st.sampled_from(["", " ", "\n"]))  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(addresses)
@example("Anna.Kowalska@Firm.Example")
@example("x@xn--bcher-kva.example")
@example("a" * 64 + "@" + "d" * 63 + "." + "e" * 63 + "." + "f" * 58 + ".com")
@example("a" * 10 + "@" + ".".join(["d" * 60] * 4) + ".com")
@example("a..b@firm.example")
@example("postmaster@firm.example")
@example("a" * (254 - 68) + f"@{SWELLS}.com")
@example("x@localhost")
@example("x@firm.local")
@example('"quoted"@firm.example')
def test_the_shortcut_gives_what_the_whole_check_gives(address: str) -> None:
    _email.cache_clear()  # whatever an earlier address left cached
    _domain.cache_clear()
    first = _outcome(address)
    assert first == _reference(address)
    _email.cache_clear()
    assert _outcome(address) == first, "the same once its domain is cached"
    assert _outcome(address.upper()) == _reference(address.upper())


@given(st.text(max_size=40))
def test_any_text_is_stored_or_refused_as_the_whole_check_says(text: str) -> None:
    assert _outcome(text) == _reference(text)
