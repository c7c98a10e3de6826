"""tests/data/fake_home.py (tiny real mp4 files) for the inference tests."""
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("fake_home", Path(__file__).parents[1] / "data" / "fake_home.py")
fake_home = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_home)
