from crawler.extract import extract, Record, ExtractError

__version__ = "0.1.0"
__all__ = ["extract", "Record", "ExtractError", "__version__"]
