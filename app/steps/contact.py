"""Checking the phone numbers and email addresses visitors type (ZipCode leads, Customer)."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

PHONE_MESSAGE = "Enter a 10-digit US phone number, like (512) 555-0100."
EMAIL_MESSAGE = "Enter an email address like name@example.com."


def normalize_phone(text: str) -> str | None:
    """`+1XXXXXXXXXX` for a valid US number, else None."""
    if re.search(r"[^\d\s().+-]", text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        return None
    return "+1" + digits


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
