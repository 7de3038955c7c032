"""Offline evaluation: datasets in a generic format, converters, baselines and metrics (`multitudes eval`)."""
