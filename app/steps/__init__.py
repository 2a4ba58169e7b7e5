"""The step registry and one module per step type."""
