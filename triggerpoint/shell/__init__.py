"""The shell: the top layer that assembles the apps (docs/ARCHITECTURE.md)."""
