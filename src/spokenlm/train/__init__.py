"""The one training loop (:mod:`.loop`) and the tasks that run on it (:mod:`.tasks`): DDP/FSDP via torchrun, exact resume, JSONL/CSV logs."""
