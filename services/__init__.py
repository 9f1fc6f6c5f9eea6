"""The use cases every front door calls: the command line, the web app and the flows.

Each use case is a plain function over a session (the caller opens one transaction around it, so all
of its writes land or none do) and a typed command, returning a typed result. It never imports Prefect
or click, never prints, and refuses with a ``core.errors.DomainError`` whose message is Swedish.
"""
