"""Conversations: the store interface and its SQLite default, the contextualiser, summaries."""
