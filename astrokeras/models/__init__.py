"""Architectures of the papers: factories returning keras.Model with a layer named "latent"."""
