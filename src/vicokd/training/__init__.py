"""One training loop for the audio-visual teacher and the visual-only students; methods as recipes."""
