"""Talking to chat models: which model (models), what it costs (prices), calling it robustly and
within budget (client), what to ask (prompts) and how to read the answer (replies)."""
