"""Regenerate the pictures in docs/img (needs matplotlib: pip install -e '.[plots]').

    python docs/make_plots.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from seqnn.viz import plot_gradient_flow  # noqa: E402

OUT = Path(__file__).resolve().parent / "img"


def main():
    OUT.mkdir(exist_ok=True)
    ax = plot_gradient_flow(("rnn", "irnn", "gru", "lstm"), T=50)
    ax.figure.tight_layout()
    ax.figure.savefig(OUT / "gradient_flow.png", dpi=100)
    plt.close(ax.figure)
    print(f"wrote {OUT / 'gradient_flow.png'}")


if __name__ == "__main__":
    main()
