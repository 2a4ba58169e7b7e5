"""The widget's HTML side: step fragments, health checks, the demo page."""
