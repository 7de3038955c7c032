"""Ports: what the use cases need from the outside world (Trakt, TMDB, OMDb, the LLM, media servers, request services),
as protocols and the values that cross them. The adapters implement them."""
