"""Names of the HTTP headers the widget and the server exchange."""

from __future__ import annotations

KEY_HEADER = "X-Scheduler-Key"  # the organization's publishable key, sent by the widget
SESSION_HEADER = "X-Scheduler-Session"  # the booking session token (requests and the create response)
SESSION_ID_HEADER = "X-Scheduler-Session-Id"  # the session's public id, for its event socket

# Sent by htmx 4 on every request (see #createCoreHeaders in static/vendor/htmx.js).
HTMX_REQUEST_HEADERS = ("HX-Request", "HX-Source", "HX-Current-URL", "HX-Target", "HX-Request-Type", "HX-Boosted")

REQUEST_ID_HEADER = "X-Request-Id"  # sent by the widget, returned and logged by the server
CORS_ALLOWED_HEADERS = ", ".join((*HTMX_REQUEST_HEADERS, "Accept", "Content-Type", KEY_HEADER, SESSION_HEADER, REQUEST_ID_HEADER))
# Only what the widget reads; never HX-Redirect, HX-Refresh or HX-Location.
CORS_EXPOSED_HEADERS = ", ".join((SESSION_HEADER, SESSION_ID_HEADER, REQUEST_ID_HEADER, "Retry-After"))
