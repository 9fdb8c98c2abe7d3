"""Measuring vocoders: quality scores (:mod:`.metrics`) and speed, latency and memory (:mod:`.bench`).

The evaluation layer sits beside the engine and below the command line: it may use the engine, the vocoders,
the document and the audio layer, never the ui or the cli (the bench times the app's start in a child process,
``scripts/app_start_probe.py``). Neither module is imported here: ``bench`` loads torch and the vocoders.
"""
