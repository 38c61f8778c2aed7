"""Exercise 7: an embedding: each token's vector looked up, and the gradient of the table.

    X[t, b] = W_embed[tokens[t, b]]      row tokens[t, b] of W_embed: what a one-hot x times W_embed gives,
                                          without the product

Backward: the gradient of the loss with respect to W_embed, given dX. A row serves every position where its
token occurs, and a token may occur many times: each occurrence adds its part. (Plain fancy indexing with a
repeated index keeps only one of the parts; look up ``np.add.at``.) A token that never occurs gets a row of 0.

Shapes: tokens (T, B) ints in [0, V), W_embed (V, E), X and dX (T, B, E).
Run ``python embedding.py`` to grade this file (docs/notation.md, "Embeddings").
"""

import numpy as np


def embedding_forward(tokens, W_embed):
    """tokens (T, B), W_embed (V, E) -> X (T, B, E), and the cache."""
    # BEGIN
    X = W_embed[tokens]
    # END
    return X, (tokens, W_embed.shape)


def embedding_backward(dX, cache):
    """dX (T, B, E) -> the gradient of W_embed (V, E)."""
    tokens, shape = cache
    # BEGIN
    dW_embed = np.zeros(shape, dtype=dX.dtype)
    np.add.at(dW_embed, tokens, dX)
    # END
    return dW_embed


if __name__ == "__main__":                           # python embedding.py grades this file
    from seqnn.course.grade import main
    raise SystemExit(main([__file__]))
