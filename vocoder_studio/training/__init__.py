"""Training: the shared real-speech corpus (``corpus.py``), the losses (``losses.py``), one trainer with exact
resume (``trainer.py``), the trainable models as recipes (``recipes.py``) and the commands (``run.py``)."""
