"""Recommendations: candidates, exclusion, scoring per persona / bridge / seed / mood, diversity, explanations."""
