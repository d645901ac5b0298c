"""Tools the agent calls while answering; their results are cited like evidence."""
