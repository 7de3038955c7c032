"""Plain values: what the engine and its front ends hand each other. They import nothing of ours but each other."""
