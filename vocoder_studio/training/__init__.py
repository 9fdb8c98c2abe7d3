"""Training: the shared real-speech corpus, one trainer with exact resume, and the losses the models use."""
