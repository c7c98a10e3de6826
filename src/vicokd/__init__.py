"""ViCoKD: view-aware cross-modal knowledge distillation for multi-view action recognition."""
__version__ = "0.1.0"
