"""Normalize: the vocabulary every stage speaks. Typed facts (``facts``) as the recognizers fill
them in, printed strings to exact amounts in 元 (``textnorm``), the code and label catalogue
(``catalog``), 目标值 into kind, operator, value and unit (``targets``), and the typed Polars
frames the facts become (``frames``). It imports from no other stage."""
