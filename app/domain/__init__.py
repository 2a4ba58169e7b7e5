"""The typed records every floor shares (the booking and its parts); stdlib only."""
