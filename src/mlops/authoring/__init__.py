"""Writing a project's definitions: `mlops init` infers a model definition from a table and writes its files."""
