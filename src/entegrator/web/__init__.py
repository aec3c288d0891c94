"""The web portal: server-rendered pages (Jinja2, htmx) for the people who run a company's
e-documents, at ``/`` beside the API (``entegrator serve``). Turkish first, English second.

``app.create_portal`` builds it; ``auth`` holds the login, session, CSRF and role machinery,
``formatting`` the Turkish number and date formats, ``i18n`` the two languages,
``render`` the templates. See docs/portal.md.
"""
