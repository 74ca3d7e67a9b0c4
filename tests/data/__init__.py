"""Tests of astrokeras.data (a package, so module names like test_deepmerge stay unique)."""
