"""Journey definitions: the language (dsl), its validator, and versioned publishing."""
