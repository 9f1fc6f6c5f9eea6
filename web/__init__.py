"""The web app (FastAPI): the ansvarig's page behind a personal link, the coordinator's dashboard, EST on
a phone and the SSPF pages. Routes call ``services/`` and render ``templates/web/``; no query here."""
