"""Mail: composed messages stored in an outbox first, then sent over SMTP until they go."""
