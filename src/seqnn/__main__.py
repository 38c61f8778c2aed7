"""``python -m seqnn train | sample | evaluate | inspect | exercises | grade``: the command line, ``seqnn.app.cli``.

(The one file of the lecture's floor that names the command line: it is its door, and nothing imports it.)
"""

from .app.cli import run

if __name__ == "__main__":
    run()
