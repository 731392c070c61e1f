"""Read: a file (PDF through pdfplumber, or a text extraction) becomes the page model
(``pipelines.read.model``): pages of text lines and grids, in reading order."""
