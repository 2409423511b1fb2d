"""Clinical notes of an encounter: drafted and signed by their author, then changed only by addenda."""
