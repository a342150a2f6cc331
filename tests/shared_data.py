"""Where the workplace's shared evaluation data and real weights live: ``shared/`` beside the repository."""

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
EVAL = SHARED / "eval"
MODELS = SHARED / "models"
KODAK = EVAL / "photos" / "kodak"
