"""Training our own vocoders on the shared mel front-end: losses (``losses.py``), and the data pipeline and
trainer that use them."""
