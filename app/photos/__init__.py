"""Photos of the problem: uploads straight to S3, checked and re-encoded here, kept with the
session and then the booking (docs/PHOTOS.md)."""
