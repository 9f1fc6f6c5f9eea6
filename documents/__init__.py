"""Documents a person reads besides the text templates: charts, calendars (ICS) and Word files (DOCX).

Adapters at the edge, like notifications/: they turn plain values into bytes and know nothing of the
database or the flows. The words in them come from the caller (rendered from templates).
"""
