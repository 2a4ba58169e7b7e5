"""Where a visitor came from: UTM parameters, gclid and the referrer of the host page.

Only these are kept; the rest of the page URL's query may hold personal data.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

TRACKED_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid")
MAX_VALUE_LENGTH = 200


def _without_query(url: str) -> str | None:
    try:
        split = urlsplit(url)
    except ValueError:
        return None
    if split.scheme not in {"http", "https"} or not split.netloc:
        return None
    return f"{split.scheme}://{split.netloc}{split.path}"[:500]


def attribution_from(page_url: str, referrer: str) -> dict[str, str]:
    result: dict[str, str] = {}
    try:
        query = parse_qs(urlsplit(page_url).query)
    except ValueError:
        query = {}
    for name in TRACKED_PARAMETERS:
        if query.get(name):
            result[name] = query[name][0][:MAX_VALUE_LENGTH]
    page = _without_query(page_url)
    if page:
        result["page"] = page
    source = _without_query(referrer)
    if source:
        result["referrer"] = source
    return result
