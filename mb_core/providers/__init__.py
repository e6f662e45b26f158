"""LLM providers behind one interface: offline (embedded default), openai, replay."""
