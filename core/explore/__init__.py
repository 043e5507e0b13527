"""What the app's pages compute: lesson, latent edits, interpolation, embedding, the 2-D toy GAN."""
