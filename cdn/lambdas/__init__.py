"""AWS Lambda handlers; each module is self-contained (it is inlined in the template)."""
