"""The version of envparity: a leaf module, so that modules which record it (capture, exports)
need not import the package's ``__init__`` (whose lazy API imports them back)."""

__version__ = "0.1.0"
