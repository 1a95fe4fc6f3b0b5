"""Pose Studio: command-line entry points and project-level helpers (model fetching)."""
