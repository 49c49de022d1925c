"""The monitor: keeps an executive's X voice complementary to the brand's corporate voice."""

__version__ = "0.1.0"
__all__ = ["__version__"]
