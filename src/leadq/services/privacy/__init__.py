"""Privacy: consent per purpose, the data subject's rights (export everything, erase to an
anonymous shell), the retention policy, and the append-only audit log of who did what."""
