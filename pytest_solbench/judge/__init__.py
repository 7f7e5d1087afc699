"""The judge: the trusted side of an item. It makes the inputs, runs the reference, compares, decides every status
and corroborates every time, in a process that never imports kernel code; the kernel runs in a process of its own
and sends back plain data only (docs/threat-model.md)."""
