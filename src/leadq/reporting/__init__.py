"""Reports written to files: self-contained pages and spreadsheet-safe CSV."""
