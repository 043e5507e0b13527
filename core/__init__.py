"""t-GAN Explorer's library: priors, networks, losses, the training loop, sampling, scoring.

No Streamlit or Gradio here; the app imports ``core``, never the reverse.
"""

__version__ = "0.1.0"
