"""layerguard: a linter for the simple service layer style in Django and DRF."""

__version__ = "0.1.0"
