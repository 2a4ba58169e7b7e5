"""Flow configuration: models, YAML loading, URL routing and the service graph."""
