"""The server-side booking session: its document, its repository and its navigation."""
