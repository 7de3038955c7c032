"""Adapters: one module (or package) per outside system, each implementing its port. They never import a use case."""
