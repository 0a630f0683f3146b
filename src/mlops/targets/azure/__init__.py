"""The Azure target: the same YAML, sent to an Azure ML workspace with azure-ai-ml."""
