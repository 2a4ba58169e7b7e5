"""Session recording: event models, publishers (SQS, in-process), the store and summaries."""
