"""Generated input thrown at every step's form: never a 500, never a traceback, and the
session stays usable afterwards (hypothesis)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.visitor import Visitor, quart_sender

FIELDS = {
    "ZipCode": ["zip_code", "intent", "lead_phone", "lead_email"],
    "ServiceSelection": ["answer"],
    "AdditionalDetails": ["detail-description", "detail-property-type", "detail-pets"],
    "Timeslot": ["date", "window"],
    "Customer": ["first_name", "last_name", "phone", "email", "street", "unit", "city", "state", "zip_code"],
    "Summary": ["confirm"],
}
NASTY = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.sampled_from(["", " ", "lead", "<script>alert(1)</script>", "' OR 1=1 --", "2026-02-30", "9999-12-31", "\x00", "\u202e", "78701", "x" * 6000]),
)
FORMS = st.fixed_dictionaries({}, optional={name: NASTY for names in FIELDS.values() for name in names} | {"junk": NASTY})


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Hundreds of generated requests per session: the rate limits out of the way."""
    names = ("rate_limit_sessions_per_ip", "rate_limit_steps_per_session", "rate_limit_steps_per_ip", "rate_limit_confirms_per_session")
    return {name: 1_000_000 for name in names}


@pytest.fixture
async def visitors(client, today: date) -> dict[str, Visitor]:  # type: ignore[no-untyped-def]
    """One visitor waiting on each step."""
    waiting = {}
    for step in FIELDS:
        visitor = Visitor(quart_sender(client))
        await visitor.walk_to(step, today)
        waiting[step] = visitor
    return waiting


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(step=st.sampled_from(sorted(FIELDS)), form=FORMS)
async def test_no_form_breaks_a_step(visitors: dict[str, Visitor], step: str, form: dict[str, str]) -> None:
    visitor = visitors[step]
    page = await visitor.submit(step, **form)
    assert page.status == 200, (step, form, page.text[:300])
    assert "Traceback" not in page.text
    assert (await visitor.current()).status == 200  # the session is still usable
