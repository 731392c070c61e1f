"""The text of a document: its 情况说明, every number with its sentence."""
