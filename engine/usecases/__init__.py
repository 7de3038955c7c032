"""Use cases: one module per thing a person or the scheduler asks of the engine. They reach the outside only through
ports."""
