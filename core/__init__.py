"""The ground floor: settings, the Stockholm clock, Swedish text and the templates.

Nothing here imports another package of Samordna, so every layer above may use it.
"""
