"""``python -m seqnn train | sample | evaluate``: see ``seqnn.cli``."""

from .cli import run

if __name__ == "__main__":
    run()
