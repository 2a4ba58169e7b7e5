"""Local fakes of the field-service systems, following each vendor's published contract."""
