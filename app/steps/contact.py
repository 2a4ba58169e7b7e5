"""Checking the phone numbers and email addresses visitors type (ZipCode leads, Customer)."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from app.i18n import N_

PHONE_MESSAGE = N_("Enter a 10-digit US phone number, like (512) 555-0100.")
EMAIL_MESSAGE = N_("Enter an email address like name@example.com.")


# The US and the territories that share its +1 numbering (not Canada or the Caribbean nations).
US_REGIONS = frozenset({"US", "PR", "VI", "GU", "AS", "MP"})


def normalize_phone(text: str) -> str | None:
    """`+1XXXXXXXXXX` for a number that is valid in the US (Google's libphonenumber
    metadata: area codes and exchanges that exist), else None."""
    if len(text) > 30 or re.search(r"[^\d\s().+-]", text):
        return None
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) not in US_REGIONS:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    digits = e164.removeprefix("+1")
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if len(digits) == 10 else e164


def normalize_email(text: str) -> str | None:
    if len(text) > 254:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None
