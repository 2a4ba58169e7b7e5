"""The session-event worker: SQS FIFO queue → MongoDB (`python -m worker`)."""
