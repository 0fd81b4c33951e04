"""Response-time analysis: the Theorem-4 bounds for JFFC."""
