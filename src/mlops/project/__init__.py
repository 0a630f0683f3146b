"""The project layer: what the project's Azure ML YAML says, read the same way for both targets.

`layout` (where everything is), `references` (every `azureml:` form, parsed once), `catalog` (the local stand-in
for the workspace's registries), `loaders` (azure-ai-ml's loaders by `$schema`), `pipeline` and `command` (a job as
steps, bindings and commands), `model` (the model definition), `templates` (its Azure ML YAML), `consistency`
(every copy of its facts checked), `validate`.
"""
