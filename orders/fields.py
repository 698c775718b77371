r"""Checkout fields whose published schema (drf-spectacular reads `maxLength`, `pattern`,
`format` from the validators) is exactly what they accept, so that a request the schema
calls valid is accepted and one it calls invalid is refused.

DRF's CharField trims before it checks and takes numbers for strings, which a schema cannot
say; `Text` checks the string as sent, then stores it trimmed. The patterns are spelled
with explicit escapes and end in \Z (Python's `$` also matches before a final newline;
drf-spectacular publishes \Z as `$`), so that ECMA regex (OpenAPI clients, schemathesis)
and Python's `re` (the server) read them the same way.
"""

import re
import unicodedata
from pathlib import Path

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator, validate_email
from rest_framework import serializers
from rest_framework.fields import empty

# Python's str.strip() whitespace (str.isspace()): what DRF calls blank.
WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = rf"^[^\x00]*[^\x00{WHITESPACE}][^\x00]*\Z"  # some text, not only spaces; no NUL
# Optional text: no NUL. Not empty either: drf-spectacular publishes a blank-allowing field as
# oneOf [this pattern, maxLength 0], and "" must match only one of the two.
NO_NUL = r"^[^\x00]+\Z"
# A plain address, a subset of what Django's EmailValidator takes (no quoted local parts,
# IP literals, non-ASCII domains, no "localhost"). No label has "--" as its 3rd and 4th
# characters: that marks an IDNA A-label ("xn--"), whose punycode the schema's readers check
# (jsonschema-rs refuses "ab--cd", "XN--P1AI" and "xn--a") and a pattern cannot, so it is
# refused on both sides rather than judged differently by each.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"(?![A-Za-z0-9]{2}--)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = rf"^{_ATOM}(\.{_ATOM})*@{_LABEL}(\.{_LABEL})*\.(?![A-Za-z]{{2}}--)[A-Za-z][A-Za-z-]{{0,61}}[A-Za-z]\Z"


def _label_characters():
    """The visible characters a shipping label prints, as a character class's ranges: the
    generated orders/fonts/printable.txt (orders.labels.printable_ranges(), from the label's
    fonts; tests/test_labels.py checks it is current and that each of them prints)."""
    ranges = []
    for line in (Path(__file__).with_name("fonts") / "printable.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            ranges.append("-".join(rf"\u{code.lower()}" for code in line.split("-")))
    return "".join(ranges)


# Text printed on the shipping label (the address): the characters its fonts print, spaces
# (printed as one) and the invisible joiners and direction marks that spelling needs (ZWNJ,
# ZWJ, LRM, RLM). Nothing else: what a label cannot print, the API does not take.
PRINTABLE = _label_characters()
INVISIBLE = WHITESPACE + r"\u200c-\u200f"
LABEL_TEXT = rf"^(?:[{INVISIBLE}]*[{PRINTABLE}])+[{INVISIBLE}]*\Z"  # and some of it visible
LABEL_TEXT_OR_SPACES = rf"^[{INVISIBLE}{PRINTABLE}]+\Z"  # optional text (stored trimmed)
_LABEL_CHARACTER = re.compile(rf"[{INVISIBLE}{PRINTABLE}]")


class SchemaPattern(RegexValidator):
    """A pattern the schema publishes and the server enforces. A value the field refuses
    anyway (a NUL character; for `defer_to`, that validator's refusal) gets only that
    message, not a second one."""

    def __init__(self, regex, message, defer_to=None):
        super().__init__(regex, message)
        self.defer_to = defer_to

    def __deepcopy__(self, memo):
        # Immutable once made. DRF deep-copies a serializer's declared fields, with their
        # arguments, for every request: copying this (its lazily compiled pattern included)
        # for each address field was a fifth of the checkout's own time.
        return self

    def __call__(self, value):
        if "\x00" in value:
            return
        if self.defer_to is not None:
            try:
                self.defer_to(value)
            except DjangoValidationError:
                return
        super().__call__(value)


class Text(serializers.CharField):
    """A JSON string, checked as sent (length, pattern), then stored trimmed."""

    def __init__(self, *, pattern=NOT_BLANK, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)
        if not isinstance(pattern, RegexValidator):
            # Of NOT_BLANK and NO_NUL, only NOT_BLANK refuses a value without NUL: a blank one.
            pattern = SchemaPattern(pattern, "This field may not be blank.")
        self.validators.append(pattern)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)

    def run_validation(self, data=empty):
        value = super().run_validation(data)
        return value.strip() if isinstance(value, str) else value


def validate_local_part(value):
    """`format: email` (RFC 5321) allows at most 64 characters before the @, Django's check more."""
    if len(value.rpartition("@")[0]) > 64:
        raise DjangoValidationError("Use at most 64 characters before the @.", code="invalid")


def email_field(**kwargs):
    """An e-mail address: Django's check (published as `format: email`), the length limit of
    that format, and the plain-address pattern."""
    plain = SchemaPattern(EMAIL, "Enter a plain email address, such as name@example.com.", defer_to=validate_email)
    return Text(pattern=plain, validators=[validate_email, validate_local_part], **kwargs)


class StrictInteger(serializers.IntegerField):
    """A JSON integer only: DRF's IntegerField also takes "2" and 2.0, the schema's `integer` does not."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class LabelText(SchemaPattern):
    """Text for the shipping label (LABEL_TEXT or LABEL_TEXT_OR_SPACES): a value with a
    character the label cannot print is refused naming it; one with nothing visible is blank."""

    GUIDANCE = ("use the letters, digits and punctuation of the address's own script (Latin, Greek, Cyrillic, "
                "Hebrew, Arabic, Chinese, Japanese, Korean, Thai or a script of India), without emoji or "
                "other symbols.")

    def __init__(self, regex):
        super().__init__(regex, "This field may not be blank.")

    def __call__(self, value):
        if "\x00" in value:
            return  # DRF refuses it with its own message
        if unprintable := [char for char in dict.fromkeys(value) if not _LABEL_CHARACTER.fullmatch(char)]:
            named = ", ".join(map(_named, unprintable[:3])) + (
                f" and {len(unprintable) - 3} more" if len(unprintable) > 3 else "")
            raise DjangoValidationError(f"{named} cannot be printed on a shipping label: {self.GUIDANCE}",
                                        code="unprintable")
        super().__call__(value)


def _named(char):
    visible = unicodedata.category(char)[0] not in "CZ"
    return f"\u201c{char}\u201d (U+{ord(char):04X})" if visible else f"U+{ord(char):04X}"
