"""The likelihood baseline: a class-conditional gated PixelCNN (model.py) and its training
and measurement (trainer.py)."""
