"""Identity card readers: the resident ID SAM reader (GA 467 over serial) and social security cards (PC/SC)."""
