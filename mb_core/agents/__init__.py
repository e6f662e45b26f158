"""The eight agent roles. Each is one module with the same shape: an input model, an output model,
a prompt template for LLM providers, and `offline_answer`, the deterministic rules the offline
provider answers with."""
