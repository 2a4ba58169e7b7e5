"""Confirming a session's booking: idempotency, capacity, the booking record."""
