"""The designers' gallery renders every step template in every state (strictly: a template
that names a variable it was not given fails here)."""

from __future__ import annotations

from datetime import date

from app.web.gallery import states


async def test_gallery_renders_every_state(client, today: date) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/_dev/gallery")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    every = states(today)
    assert page.count('<template id="fragment-') == len(every)
    for step in ("ZipCode", "ServiceSelection", "AdditionalDetails", "Timeslot", "Customer", "Summary", "Confirmation", "Problem"):
        assert f'data-step="{step}"' in page, step
    assert "We don&#39;t serve 10001 yet." in page or "We don't serve 10001 yet." in page
    assert "No arrival windows are left this month." in page
    assert "We&#39;ve got your request" in page or "We've got your request" in page
    assert "Enter the 2-letter state code, like TX." in page
    for kind in ("confirmed", "received", "needs_attention", "rescheduled", "cancelled", "change_failed", "office-booking", "office-needs_attention", "office-lead"):  # the visitor's emails, from templates/email/
        assert f'id="email-{kind}"' in page, kind
    assert "You&#39;re booked: Leak repair" in page or "You're booked: Leak repair" in page
    # Templates render synchronously (app/web/rendering.py): one calling a coroutine function would print it.
    assert "coroutine" not in page


async def test_every_template_carries_its_variables_comment() -> None:
    from app import ROOT

    for template in sorted((ROOT / "templates").rglob("*.html")):
        head = template.read_text().lstrip()
        assert head.startswith("{#") and ("Receives" in head[:600] or "Each takes" in head[:600]), template
