"""The company's side: its people signing in, its inbox of bookings and leads."""
