"""OpenAI chat-completions compatibility: request mapping and the chunk encoder."""
