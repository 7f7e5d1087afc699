"""Against reward hacking: static rules over a kernel's sources and the runtime tripwires in its worker."""
