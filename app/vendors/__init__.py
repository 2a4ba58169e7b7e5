"""Vendor strategies: where availability comes from and where bookings land."""
