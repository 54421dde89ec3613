"""The unit-LM trainer (DDP/FSDP via torchrun, exact resume, JSONL/CSV logs)."""
