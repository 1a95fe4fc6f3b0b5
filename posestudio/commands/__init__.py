"""Sub-commands of the ``posestudio`` CLI; each module exposes ``register(subparsers)``."""
