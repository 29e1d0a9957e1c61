"""PREP database formats: read published databases, write the database of a cut."""
