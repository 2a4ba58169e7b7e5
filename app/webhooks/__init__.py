"""Webhooks for the company's own systems (Zapier, a CRM): endpoints, signed deliveries."""
